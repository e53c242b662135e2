"""Reads of the accounts domain. Every dealer-facing read is scoped to the caller's company."""

from __future__ import annotations

from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user

from apps.accounts.models import Address, Customer, CustomerStatus, User


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


def customer_credit_summary(*, customer: Customer) -> dict:
    """Balance, open orders and available credit of a company (the finance selectors')."""
    from apps.finance.selectors import customer_credit_summary as summary

    return summary(customer=customer)
