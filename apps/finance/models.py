"""The current account: one ledger per dealer. Balance = the sum of its entries; positive
means the dealer owes. Entries are immutable: a correction is a new entry (an adjustment or a
credit note), never an edit, so a statement printed yesterday stays true.
"""

from __future__ import annotations

from auditlog.registry import auditlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Customer


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        OPENING_BALANCE = "opening_balance", _("opening balance")
        INVOICE = "invoice", _("invoice")
        PAYMENT = "payment", _("payment")
        CREDIT_NOTE = "credit_note", _("credit note")
        ADJUSTMENT = "adjustment", _("adjustment")

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="ledger_entries", verbose_name=_("dealer")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    amount = models.DecimalField(
        _("amount"),
        max_digits=14,
        decimal_places=2,
        help_text=_("Positive: the dealer owes more (invoice); negative: less (payment)."),
    )
    entry_date = models.DateField(_("date"), default=timezone.localdate)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    document_number = models.CharField(_("document number"), max_length=64, blank=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["customer", "entry_date", "id"]
        indexes = [
            models.Index(fields=["customer", "entry_date", "id"], name="finance_ledger_customer")
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="invoice") | Q(amount__gt=0), name="finance_invoice_positive"
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["payment", "credit_note"]) | Q(amount__lt=0),
                name="finance_payment_credit_negative",
            ),
            models.CheckConstraint(
                condition=~Q(kind="adjustment") | ~Q(amount=0),
                name="finance_adjustment_not_zero",
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(kind="opening_balance"),
                name="finance_one_opening_balance",
            ),
        ]
        permissions = [("adjust_ledger", "Can post manual ledger adjustments")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} {self.amount}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(_("Ledger entries cannot be changed; post a correction."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Ledger entries cannot be deleted; post a correction."))


auditlog.register(LedgerEntry)
