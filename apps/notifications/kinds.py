"""What each message template is, in staff's words: the notification log's column and filter
show these labels, not the template paths. The keys are the templates under
``templates/emails/`` (without ``.txt``) and ``templates/sms/``; a test checks that every
template there has its label."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

TEMPLATE_LABELS = {
    "accounts/customer_approved": _("Dealer approved"),
    "accounts/customer_rejected": _("Dealer registration refused"),
    "accounts/email_changed": _("Sign-in e-mail changed"),
    "accounts/invitation": _("Invitation to a dealer company"),
    "accounts/password_reset": _("Password reset link"),
    "accounts/registration_duplicate_tax_number": _("Registration refused: tax number taken"),
    "accounts/registration_email_taken": _("Registration: e-mail already registered"),
    "accounts/registration_received": _("Registration received"),
    "accounts/registration_verify": _("Registration: e-mail verification"),
    "accounts/registration_waiting": _("Staff: a registration waits for approval"),
    "finance/balance_confirmation": _("Balance confirmation"),
    "finance/confirmation_disputed": _("Staff: a dealer disputes its balance"),
    "finance/payment_alert": _("Card payment needs review"),
    "finance/payment_reminder": _("Payment reminder"),
    "orders/approval_needed": _("Order waits for an owner's approval"),
    "orders/credit_approval_waiting": _("Staff: an order waits for credit approval"),
    "orders/order_placed": _("Order placed"),
    "orders/order_status": _("Order status changed"),
    "quotes/quote_accepted": _("Quote accepted"),
    "quotes/quote_requested": _("Quote requested"),
    "quotes/quote_sent": _("Quote sent"),
    "returns/return_requested": _("Staff: a return waits for a decision"),
    "returns/return_status": _("Return status changed"),
    "otp": _("Sign-in code (SMS)"),
    "payment_reminder": _("Payment reminder (SMS)"),
}


def template_label(key: str) -> str:
    """The label of a message template; an unknown key (a template since removed) as it is."""
    label = TEMPLATE_LABELS.get(key)
    return str(label) if label is not None else key
