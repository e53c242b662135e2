"""Reads of the accounts domain. Every dealer-facing read is scoped to the caller's company."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from apps.accounts.models import Address, AuthEvent, Customer, CustomerStatus, User
from apps.accounts.roles import SUPER_ADMIN_GROUP


def customer_list_for_staff(*, user: User) -> QuerySet[Customer]:
    """Staff with ``view_all_customers`` see every customer; others (sales managers) only
    those they hold an object permission on (assigned to them). A self-registration whose
    owner has not verified the e-mail address yet reaches no staff screen (nor the approval
    queue, the ``pending`` ones)."""
    qs = Customer.objects.exclude(status=CustomerStatus.UNVERIFIED).select_related("sales_rep")
    if not user.is_active or not user.is_staff:
        return qs.none()
    if user.is_superuser or user.has_perm("accounts.view_all_customers"):
        return qs
    return get_objects_for_user(user, "accounts.view_customer", klass=qs, accept_global_perms=False)


# at most this many staff are e-mailed about one thing that waits for them
STAFF_ALERT_MAX_RECIPIENTS = 20


def staff_to_alert(*, customer: Customer, permission: str) -> list[User]:
    """Whom to e-mail that something of ``customer`` waits for a holder of ``permission``
    (``"orders.approve_credit"``): the dealer's sales rep, when the rep holds it; else the
    active staff who hold it through their role (or their own permissions) and see every
    dealer (a sales manager sees only the dealers assigned to them, and could not open it);
    else, when no one has that job, the super admins. Only accounts with an e-mail address."""
    staff = User.objects.filter(is_active=True, is_staff=True, is_deleted=False).exclude(email="")
    rep = customer.sales_rep
    if (
        rep is not None
        and rep.is_active
        and rep.is_staff
        and not rep.is_deleted
        and rep.email
        and rep.has_perm(permission)
    ):
        return [rep]

    def holds(dotted: str) -> Q:
        label, name = dotted.split(".", 1)
        return Q(
            groups__permissions__codename=name,
            groups__permissions__content_type__app_label=label,
        ) | Q(user_permissions__codename=name, user_permissions__content_type__app_label=label)

    super_admin = Q(is_superuser=True) | Q(groups__name=SUPER_ADMIN_GROUP)
    # two filters: the permission and seeing every dealer may come through different groups
    in_role = (
        staff.filter(holds(permission))
        .filter(holds("accounts.view_all_customers"))
        .exclude(pk__in=staff.filter(super_admin).values("pk"))
        .distinct()
        .order_by("id")
    )
    found = list(in_role[:STAFF_ALERT_MAX_RECIPIENTS])
    if found:
        return found
    return list(staff.filter(super_admin).distinct().order_by("id")[:STAFF_ALERT_MAX_RECIPIENTS])


def company_user_list(*, customer: Customer) -> QuerySet[User]:
    return User.objects.filter(customer=customer, is_deleted=False).order_by("email")


def company_address_list(*, customer: Customer) -> QuerySet[Address]:
    return Address.objects.filter(customer=customer)


# --- a company's credit, computed by finance --------------------------------------------------
# Finance sits above accounts and orders (DESIGN.md, Layout), so they ask it through this hook,
# which the finance app fills from its ready(): ``exposure`` is what counts against the credit
# limit, ``summary`` the figures shown with it (apps.finance.selectors).

_credit: dict[str, Callable[..., Any]] = {}


def credit_provider_register(
    *, exposure: Callable[..., Decimal], summary: Callable[..., dict]
) -> None:
    _credit.update(exposure=exposure, summary=summary)


def _credit_provider(name: str) -> Callable[..., Any]:
    try:
        return _credit[name]
    except KeyError:
        raise RuntimeError("no credit provider registered (is apps.finance installed?)") from None


def customer_credit_exposure(*, customer: Customer, extra: Decimal = Decimal("0.00")) -> Decimal:
    """Ledger balance + open orders (+ ``extra``, an order being placed): what counts against
    the credit limit."""
    return _credit_provider("exposure")(customer=customer, extra=extra)


def customer_credit_summary(*, customer: Customer) -> dict:
    """Balance, credit limit, open orders, available credit and overdue total of a company."""
    return _credit_provider("summary")(customer=customer)


def personal_data(*, user: User) -> dict[str, Any]:
    """Everything kept about ``user`` as a person (KVKK / GDPR access request): the user, their
    consents and their last 1,000 sign-in events. The API and the portal export this."""
    return {
        "exported_at": timezone.now(),
        "user": user,
        "consents": user.consents.all(),
        "auth_events": AuthEvent.objects.filter(user=user).order_by("-at", "-id")[:1000],
    }
