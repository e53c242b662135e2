"""Reads of the accounts domain. Every dealer-facing read is scoped to the caller's company."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from apps.accounts.models import Address, AuthEvent, Customer, CustomerStatus, User


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
