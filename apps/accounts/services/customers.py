"""Dealer companies: approval, suspension, credit limits, sales reps (registration:
``services/registration.py``; ERP upsert: ``services/erp.py``)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from apps.accounts.events import customer_registered_emit, customer_updated_emit
from apps.accounts.models import (
    CreditLimitChange,
    Customer,
    CustomerStatus,
    DealerRole,
    User,
)
from apps.core.exceptions import Conflict, ValidationError
from apps.core.links import portal_link
from apps.notifications.services import customer_language, notify_customer_users

SALES_REP_OBJECT_PERMS = ("accounts.view_customer", "accounts.change_customer")


def _set_status(customer: Customer, status: str, *, reason: str, by: User | None) -> Customer:
    customer.status = status
    customer.status_reason = reason
    customer.updated_by = by
    fields = ["status", "status_reason", "updated_by", "updated_at"]
    if status == CustomerStatus.ACTIVE and customer.approved_at is None:
        customer.approved_at = timezone.now()
        fields.append("approved_at")
    customer.save(update_fields=fields)
    return customer


@transaction.atomic
def customer_approve(*, customer: Customer, by: User | None) -> Customer:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.status != CustomerStatus.PENDING:
        raise Conflict(_("Only a pending company can be approved."), code="invalid_status")
    _set_status(customer, CustomerStatus.ACTIVE, reason="", by=by)
    customer_registered_emit(customer=customer)
    notify_customer_users(
        customer=customer,
        template="accounts/customer_approved",
        context={"login_url": portal_link("login")},
        roles=[DealerRole.OWNER],
        language=customer_language(customer),
    )
    return customer


@transaction.atomic
def customer_reject(*, customer: Customer, reason: str, by: User | None) -> Customer:
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the registration is rejected.")]})
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.status != CustomerStatus.PENDING:
        raise Conflict(_("Only a pending company can be rejected."), code="invalid_status")
    _set_status(customer, CustomerStatus.REJECTED, reason=reason.strip(), by=by)
    notify_customer_users(
        customer=customer,
        template="accounts/customer_rejected",
        context={"reason": customer.status_reason},
        roles=[DealerRole.OWNER],
        language=customer_language(customer),
    )
    return customer


@transaction.atomic
def customer_suspend(*, customer: Customer, reason: str, by: User | None) -> Customer:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.status != CustomerStatus.ACTIVE:
        raise Conflict(_("Only an active company can be suspended."), code="invalid_status")
    _set_status(customer, CustomerStatus.SUSPENDED, reason=reason.strip(), by=by)
    customer_updated_emit(customer=customer, source="admin")
    return customer


@transaction.atomic
def customer_reactivate(*, customer: Customer, by: User | None) -> Customer:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.status != CustomerStatus.SUSPENDED:
        raise Conflict(_("Only a suspended company can be reactivated."), code="invalid_status")
    _set_status(customer, CustomerStatus.ACTIVE, reason="", by=by)
    customer_updated_emit(customer=customer, source="admin")
    return customer


@transaction.atomic
def customer_set_credit_limit(
    *,
    customer: Customer,
    new_limit: Decimal,
    by: User | None,
    reason: str = "",
    source: str = CreditLimitChange.Source.ADMIN,
) -> Customer:
    """Change the credit limit and keep the history (who, when, old, new, why)."""
    if new_limit < 0:
        raise ValidationError({"credit_limit": [_("The credit limit cannot be negative.")]})
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    old = customer.credit_limit
    if old == new_limit:
        return customer
    customer.credit_limit = new_limit
    customer.updated_by = by
    customer.save(update_fields=["credit_limit", "updated_by", "updated_at"])
    CreditLimitChange.objects.create(
        customer=customer,
        old_limit=old,
        new_limit=new_limit,
        reason=reason,
        source=source,
        changed_by=by,
    )
    customer_updated_emit(
        customer=customer, source="erp" if source == CreditLimitChange.Source.ERP else "admin"
    )
    return customer


@transaction.atomic
def customer_assign_sales_rep(*, customer: Customer, rep: User | None, by: User | None) -> None:
    """The rep (a staff user) sees and edits this customer; the previous rep no longer does."""
    if rep is not None and not rep.is_staff:
        raise ValidationError({"sales_rep": [_("A sales representative must be staff.")]})
    previous = customer.sales_rep if customer.sales_rep_id else None
    if previous is not None and previous != rep:
        for perm in SALES_REP_OBJECT_PERMS:
            remove_perm(perm, previous, customer)
    customer.sales_rep = rep
    customer.updated_by = by
    customer.save(update_fields=["sales_rep", "updated_by", "updated_at"])
    if rep is not None:
        for perm in SALES_REP_OBJECT_PERMS:
            assign_perm(perm, rep, customer)
