"""Users of dealer companies: creation, role changes, removal; role groups kept in sync."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Customer, DealerRole, User
from apps.accounts.roles import DEALER_ROLE_GROUPS
from apps.accounts.services.auth import password_link_send, tokens_revoke_all
from apps.core.exceptions import Conflict, NotFound, ValidationError
from apps.core.text import email_address, phone_problem
from apps.notifications.sms import normalize_phone


def user_sync_role_group(*, user: User) -> None:
    """A dealer user belongs to exactly the group of their role."""
    dealer_groups = list(Group.objects.filter(name__in=DEALER_ROLE_GROUPS.values()))
    user.groups.remove(*dealer_groups)
    if user.role:
        wanted = next((g for g in dealer_groups if g.name == DEALER_ROLE_GROUPS[user.role]), None)
        if wanted is None:
            wanted, _created = Group.objects.get_or_create(name=DEALER_ROLE_GROUPS[user.role])
        user.groups.add(wanted)
    # permissions are cached on the instance
    for attr in ("_perm_cache", "_group_perm_cache", "_user_perm_cache"):
        user.__dict__.pop(attr, None)


def email_taken(email: str) -> bool:
    """A live account has this address (a removed user's does not hold it)."""
    return User.objects.filter(email__iexact=email.strip(), is_deleted=False).exists()


def _check_password(password: str | None, user: User, field: str) -> None:
    if password is None:
        return
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationError({field: list(exc.messages)}) from exc


@transaction.atomic
def user_create_for_company(
    *,
    customer: Customer,
    email: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    order_limit: Decimal | None = None,
    password: str | None = None,
    is_active: bool = True,
    by: User | None = None,
    password_field: str = "password",  # noqa: S107 - a field name
    email_field: str = "email",
) -> User:
    """A new user of ``customer``. Without a password the user cannot log in until they set
    one through the password-reset e-mail (an invitation). The e-mail of a user removed from
    the same company brings that user back (their history stays theirs) with what is given
    here and a new password or invitation: removing someone is not forever."""
    try:
        email = email_address(email)
    except ValueError as exc:
        raise ValidationError({email_field: [str(exc)]}) from None
    if role not in DealerRole.values:
        raise ValidationError({"role": [_("Unknown role.")]})
    removed = User.objects.filter(email__iexact=email, customer=customer, is_deleted=True).first()
    if removed is None and email_taken(email):
        raise ValidationError({email_field: [_("A user with this e-mail already exists.")]})
    user = removed or User(email=email, customer=customer)
    user.first_name, user.last_name, user.phone = first_name, last_name, phone
    user.role, user.order_limit, user.is_active = role, order_limit, is_active
    user.is_deleted, user.deleted_at = False, None
    _check_password(password, user, password_field)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # a concurrent request took the e-mail
        raise ValidationError(
            {email_field: [_("A user with this e-mail already exists.")]}
        ) from exc
    user_sync_role_group(user=user)
    return user


def _active_owner_count(customer: Customer, excluding: User | None = None) -> int:
    qs = User.objects.filter(
        customer=customer, role=DealerRole.OWNER, is_active=True, is_deleted=False
    )
    if excluding is not None:
        qs = qs.exclude(pk=excluding.pk)
    return qs.count()


def is_last_owner(user: User) -> bool:
    """Is ``user`` their company's only active owner (who can be neither removed nor
    demoted: ``_guard_last_owner``)?"""
    return (
        user.role == DealerRole.OWNER
        and user.is_active
        and _active_owner_count(user.customer, excluding=user) == 0
    )


def _guard_last_owner(user: User, *, becomes_owner: bool, stays_active: bool) -> None:
    if user.role != DealerRole.OWNER or not user.is_active:
        return
    if becomes_owner and stays_active:
        return
    # lock the company's owners so two owners cannot demote each other at once
    list(
        User.objects.select_for_update()
        .filter(customer_id=user.customer_id, role=DealerRole.OWNER)
        .values_list("pk", flat=True)
    )
    if _active_owner_count(user.customer, excluding=user) == 0:
        raise Conflict(_("A company must keep at least one active owner."), code="last_owner")


def _locked_member(user: User) -> User:
    """``user`` read again under a lock, the company's owners locked with it (one statement, in
    key order), so two changes of one user, or a change and a removal, run one after the other,
    each on what the other left: a removal raced with a rename was undone (the rename saved the
    copy it had read, ``is_deleted`` false, and the removed user could sign in again). A user
    removed meanwhile is 404."""
    list(
        User.objects.select_for_update()
        .filter(Q(pk=user.pk) | Q(customer_id=user.customer_id, role=DealerRole.OWNER))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    fresh = User.objects.get(pk=user.pk)
    if fresh.is_deleted and not user.is_deleted:
        raise NotFound()
    return fresh


@transaction.atomic
def user_update_for_company(*, user: User, by: User, **changes) -> User:
    """Change a company user's name, role, order limit or active flag (owner rules apply)."""
    allowed = {"first_name", "last_name", "phone", "role", "order_limit", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    if "role" in changes and changes["role"] not in DealerRole.values:
        raise ValidationError({"role": [_("Unknown role.")]})
    user = _locked_member(user)
    _guard_last_owner(
        user,
        becomes_owner=changes.get("role", user.role) == DealerRole.OWNER,
        stays_active=changes.get("is_active", user.is_active),
    )
    role_changed = "role" in changes and changes["role"] != user.role
    for name, value in changes.items():
        setattr(user, name, value)
    user.save(update_fields=[*changes, "updated_at"])
    if role_changed:
        user_sync_role_group(user=user)
    if changes.get("is_active") is False:
        tokens_revoke_all(user=user)
    return user


@transaction.atomic
def user_remove_from_company(*, user: User, by: User) -> None:
    """Deactivate and hide a company user; their sessions end. The row stays for the audit."""
    user = _locked_member(user)
    _guard_last_owner(user, becomes_owner=False, stays_active=False)
    user.is_active = False
    user.is_deleted = True
    user.deleted_at = timezone.now()
    user.save(update_fields=["is_active", "is_deleted", "deleted_at", "updated_at"])
    tokens_revoke_all(user=user)


def user_invite(*, user: User) -> None:
    """E-mail a new user a link to choose their password (after the transaction commits). A
    user added switched off gets none (a link could not be used): once switched on, they ask
    for one with "Forgot password"."""
    if user.is_active:
        password_link_send(user=user, invite=True)


def user_sms_login_set(*, user: User, enabled: bool, phone: str | None = None) -> User:
    """Turn the SMS code at sign-in on or off for ``user`` (their own choice); turning it on
    needs a mobile number an SMS can go to (``phone``, or the one on file)."""
    number = (phone if phone is not None else user.phone or "").strip()
    # a number given is a phone number, whether or not the SMS code is turned on with it
    if phone is not None and (problem := phone_problem(number)):
        raise ValidationError({"phone": [problem]})
    if enabled:
        try:
            normalize_phone(number)
        except ValueError:
            raise ValidationError(
                {"phone": [_("Enter a mobile number an SMS can be sent to, e.g. 0532 123 45 67.")]}
            ) from None
    user.phone = number
    user.sms_login = enabled
    user.save(update_fields=["phone", "sms_login", "updated_at"])
    return user
