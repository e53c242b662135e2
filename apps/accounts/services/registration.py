"""Self-registration of a dealer company, and the owner's e-mail verification.

Nothing about the answer or its timing says whether an e-mail address or a tax number is
known: every well-formed registration answers 202 after the same password hashing.

- New e-mail, new tax number: the company is created ``unverified`` (nobody logs in, staff do
  not see it) and its owner gets a verification link. Following it makes the company
  ``pending``: it enters the staff approval queue.
- E-mail already a user's: nothing is created; that address gets a notice ("someone tried to
  register with your address: sign in or reset your password"), or the verification link again
  when it is the owner of a registration still waiting for verification.
- Tax number already a live company's: nothing is created; the staff who approve companies
  are e-mailed the applicant's details (and an auth event is recorded).
- An unverified registration older than REGISTRATION_VERIFY_TIMEOUT is removed when a new
  registration names its e-mail or tax number, so an abandoned (or malicious) registration
  cannot hold a company's tax number.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, ProtectedError, Q
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from apps.accounts.models import (
    TEMPORARY_CODE_PREFIX,
    AuthEvent,
    Consent,
    Customer,
    CustomerStatus,
    DealerRole,
    User,
)
from apps.accounts.services.alerts import staff_alert
from apps.accounts.services.auth import auth_event_record, email_verified, user_from_uid
from apps.accounts.services.users import user_create_for_company
from apps.accounts.throttling import AccountEmailThrottle
from apps.accounts.tokens import email_verification_token_generator
from apps.accounts.validators import normalize_tax_number
from apps.core.exceptions import ValidationError
from apps.core.links import back_office_link, portal_link
from apps.core.text import email_address
from apps.notifications.models import Notification
from apps.notifications.services import (
    REGISTRATION_TEMPLATE,
    email_notify,
)

CONSENT_VERSIONS = {
    Consent.Kind.TERMS: "TERMS_VERSION",
    Consent.Kind.KVKK: "KVKK_VERSION",
    Consent.Kind.MARKETING: "KVKK_VERSION",
}


def customer_register(
    *,
    company: dict[str, Any],
    owner: dict[str, Any],
    consents: dict[str, bool] | None = None,
    ip: str | None = None,
    user_agent: str = "",
) -> Customer | None:
    """Register a dealer company and its owner (see the module's docstring). Returns the new
    ``unverified`` company, or None when the e-mail or tax number was already known (the
    caller answers the same either way). Bad input raises ValidationError (400) first."""
    _require_consents(consents or {})
    try:
        email = email_address(owner["email"])
    except ValueError as exc:
        raise ValidationError({"owner.email": [str(exc)]}) from None
    tax_number = normalize_tax_number(company["tax_number"])
    applicant = User(
        email=email,
        first_name=owner.get("first_name", "").strip(),
        last_name=owner.get("last_name", "").strip(),
        phone=owner.get("phone", "").strip(),
    )
    try:
        validate_password(owner["password"], user=applicant)
    except DjangoValidationError as exc:
        raise ValidationError({"owner.password": list(exc.messages)}) from exc
    # the expensive part, done for every registration whatever happens next
    applicant.set_password(owner["password"])
    event = {"email": email, "ip": ip, "user_agent": user_agent}
    may_mail = AccountEmailThrottle(email, scope="registration").allows_another()

    with transaction.atomic():
        registrations_expired_remove(email=email, tax_number=tax_number)
        existing = (
            User.objects.select_related("customer")
            .filter(email__iexact=email, is_deleted=False)  # a removed user's is free
            .first()
        )
        if existing is not None:
            _email_known(existing, may_mail=may_mail, event=event)
            return None
        holder = Customer.objects.filter(tax_number=tax_number).first()
        if holder is not None:
            _tax_number_known(holder, company=company, applicant=applicant, event=event)
            return None
        try:
            with transaction.atomic():
                customer, user = _registration_create(
                    company=company,
                    tax_number=tax_number,
                    applicant=applicant,
                    consents=consents,
                    ip=ip,
                )
        except (IntegrityError, ValidationError):
            # a concurrent registration took the e-mail or the tax number a moment ago
            auth_event_record(
                kind=AuthEvent.Kind.REGISTRATION_REFUSED, **event, detail="concurrent duplicate"
            )
            return None
        if may_mail:
            registration_link_send(user=user)
        return customer


def consent_problems(consents: dict[str, bool]) -> dict[str, list[str]]:
    """A company registers by accepting the terms of sale and acknowledging the KVKK privacy
    notice; marketing messages are its free choice. ``{consent: [message]}`` of what is
    missing."""
    problems = {}
    if consents.get("terms") is not True:
        problems["terms"] = [_("Accept the terms of sale to register.")]
    if consents.get("kvkk") is not True:
        problems["kvkk"] = [_("Confirm that you have read the KVKK privacy notice.")]
    return problems


def _require_consents(consents: dict[str, bool]) -> None:
    problems = consent_problems(consents)
    if problems:
        raise ValidationError({f"consents.{name}": value for name, value in problems.items()})


def _registration_create(
    *,
    company: dict[str, Any],
    tax_number: str,
    applicant: User,
    consents: dict[str, bool] | None,
    ip: str | None,
) -> tuple[Customer, User]:
    customer = Customer(
        code=f"{TEMPORARY_CODE_PREFIX}{uuid.uuid4().hex[:12]}",
        name=company["name"].strip(),
        tax_number=tax_number,
        tax_office=company.get("tax_office", "").strip(),
        phone=company.get("phone", "").strip(),
        email=applicant.email,
        status=CustomerStatus.UNVERIFIED,
    )
    customer.save()
    # readable, and still temporary: staff replace it with the ERP's code once (the back
    # office's customer page), after which every feed names the company by that
    customer.code = f"{TEMPORARY_CODE_PREFIX}{customer.pk:06d}"
    customer.save(update_fields=["code"])
    user = user_create_for_company(
        customer=customer,
        email=applicant.email,
        role=DealerRole.OWNER,
        first_name=applicant.first_name,
        last_name=applicant.last_name,
        phone=applicant.phone,
        password=None,
        email_field="owner.email",
    )
    user.password = applicant.password  # hashed above
    user.save(update_fields=["password"])
    for kind, granted in (consents or {}).items():
        Consent.objects.create(
            user=user,
            kind=kind,
            version=getattr(settings, CONSENT_VERSIONS[kind]),
            granted=bool(granted),
            ip_address=ip,
        )
    return customer, user


def registration_link_send(*, user: User) -> None:
    """E-mail the owner of an unverified registration the link that verifies the address
    (valid REGISTRATION_VERIFY_TIMEOUT seconds; sent after the transaction commits)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = email_verification_token_generator.make_token(user)
    email_notify(
        template=REGISTRATION_TEMPLATE,
        to=user.email,
        user=user,
        # the request's: the language the company registers in becomes its language
        language=translation.get_language() or settings.LANGUAGE_CODE,
        context={
            "link": f"{settings.REGISTRATION_VERIFY_URL}?uid={uid}&token={token}",
            "hours": max(1, settings.REGISTRATION_VERIFY_TIMEOUT // 3600),
        },
    )


def _email_known(user: User, *, may_mail: bool, event: dict) -> None:
    waiting = (
        user.customer is not None
        and user.customer.status == CustomerStatus.UNVERIFIED
        and user.role == DealerRole.OWNER
    )
    if may_mail and waiting:
        registration_link_send(user=user)
    elif may_mail and user.is_active and not user.is_deleted:
        # a staff member reads it in the back office's language, with its sign-in, not in the
        # language of whoever registered, pointed at the dealers' portal
        staff = user.is_staff
        login_url = back_office_link("admin:login") if staff else portal_link("login")
        email_notify(
            template="accounts/registration_email_taken",
            to=user.email,
            user=user,
            context={"login_url": login_url},
            language=settings.LANGUAGE_CODE if staff else None,
        )
    detail = "e-mail of a waiting registration" if waiting else "e-mail already registered"
    auth_event_record(kind=AuthEvent.Kind.REGISTRATION_REFUSED, user=user, **event, detail=detail)


def _tax_number_known(
    holder: Customer, *, company: dict[str, Any], applicant: User, event: dict
) -> None:
    """Staff hear of it (once per PASSWORD_RESET_PER_ADDRESS window per tax number); the
    applicant gets nothing automatic, since that would tell whoever holds the inbox that the
    tax number is registered: staff contact them if the request is genuine."""
    auth_event_record(
        kind=AuthEvent.Kind.REGISTRATION_REFUSED,
        **event,
        detail=f"tax number of {holder.code}",
    )
    throttle = AccountEmailThrottle(holder.tax_number, scope="registration_tax_number")
    if not throttle.allows_another():
        return
    context = {
        "applicant_company": company["name"].strip(),
        "applicant_name": f"{applicant.first_name} {applicant.last_name}".strip(),
        "applicant_email": applicant.email,
        "applicant_phone": company.get("phone", "").strip(),
        "tax_number": holder.tax_number,
    }
    staff_alert(  # those who approve companies
        customer=holder,
        permission="accounts.approve_customer",
        template="accounts/registration_duplicate_tax_number",
        context=lambda: context,
    )


def registrations_expired_remove(*, email: str | None = None, tax_number: str | None = None) -> int:
    """Remove unverified registrations past their link's lifetime (those holding ``email``
    or ``tax_number`` when given, else all: a daily task). They never reached staff and
    nobody could log in: nothing refers to them but their owner's consents and log rows
    (which keep the e-mail). Returns how many were removed.

    The lifetime runs from the last link its owner was sent: registering again e-mails a new
    verification link, and a password reset verifies the address too, so a registration
    whose owner got either within the lifetime is kept (the link promised its hours)."""
    cutoff = timezone.now() - timedelta(seconds=settings.REGISTRATION_VERIFY_TIMEOUT)
    link_sent = Notification.objects.filter(
        user__customer_id=OuterRef("pk"),
        template__in=(REGISTRATION_TEMPLATE, "accounts/password_reset"),
        created_at__gte=cutoff,
    )
    stale = Customer.objects.filter(
        status=CustomerStatus.UNVERIFIED, created_at__lt=cutoff
    ).exclude(Exists(link_sent))
    if email is not None or tax_number is not None:
        stale = stale.filter(Q(tax_number=tax_number) | Q(users__email__iexact=email))
    removed = 0
    for pk in stale.values_list("pk", flat=True).distinct():
        try:
            with transaction.atomic():
                User.objects.filter(customer_id=pk).delete()
                removed += (
                    Customer.objects.filter(pk=pk, status=CustomerStatus.UNVERIFIED)
                    .delete()[1]
                    .get("accounts.Customer", 0)
                )
        except ProtectedError:
            continue  # something refers to it after all: leave it
    return removed


@transaction.atomic
def registration_verify(
    *, uid: str, token: str, ip: str | None = None, user_agent: str = ""
) -> Customer:
    """The owner followed the e-mailed link: the address is verified and the company enters
    the staff approval queue (``pending``). A link verifies once, and only while it is valid;
    followed again (a second click, or after a password reset link verified the address), it
    answers the company as it is and changes nothing."""
    user = user_from_uid(uid)
    customer = None
    if user is not None and user.customer_id is not None:
        customer = Customer.objects.select_for_update().filter(pk=user.customer_id).first()
    if customer is not None and customer.status != CustomerStatus.UNVERIFIED:
        if email_verification_token_generator.check_token_used(user, token):
            return customer
        customer = None
    if customer is None or not email_verification_token_generator.check_token(user, token):
        raise ValidationError({"token": [_("This verification link is invalid or has expired.")]})
    email_verified(user=user, ip=ip, user_agent=user_agent)
    customer.refresh_from_db()
    return customer
