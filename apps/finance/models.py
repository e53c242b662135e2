"""The current account: one ledger per dealer. Balance = the sum of its entries; positive
means the dealer owes. Entries are immutable: a correction is a new entry (an adjustment or a
credit note), never an edit, so a statement printed yesterday stays true.

Open items: every entry that adds to the balance (an invoice, a positive opening balance or
adjustment) is a debt, every entry that reduces it (a payment, a credit note, a negative
opening balance or adjustment) a credit. ``Settlement`` rows say which credit paid which debt
and how much (a payment that names invoices pays those first, the rest pays the oldest debt
due first), so each invoice knows what is still open and overdue. Settlements are written by
``ledger_settle`` only, never edited.

A ``refund`` gives a card payment's money back: it adds to the balance again (a debt, due at
once, that the dealer's unused credit pays first).

Invoices and payments come from the ERP (the integration feeds): an ``Invoice`` is the
Turkish e-invoice document (number, ETTN, profile, lines, totals, the signed UBL-TR XML and
the PDF when the ERP sent them) behind its ``invoice`` ledger entry; a ``Payment`` is the
receipt behind a ``payment`` entry.

Card payments are taken online (``CardPayment``: 3-D Secure through a POS provider,
``apps.finance.gateways``): once the gateway confirms one it becomes a ``Payment`` like any
other receipt (method ``card``, the reference ours), so the ledger has one kind of receipt.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from auditlog.registry import auditlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Customer
from apps.core.clock import business_today
from apps.core.models import related_label
from apps.core.money import money_text
from apps.core.text import key_text
from apps.orders.models import Order


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        OPENING_BALANCE = "opening_balance", _("opening balance")
        INVOICE = "invoice", _("invoice")
        PAYMENT = "payment", _("payment")
        CREDIT_NOTE = "credit_note", _("credit note")
        ADJUSTMENT = "adjustment", _("adjustment")
        REFUND = "refund", _("refund")

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
    entry_date = models.DateField(_("date"), default=business_today)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    document_number = models.CharField(
        _("document number"), max_length=64, blank=True, validators=[key_text]
    )
    description = models.CharField(_("description"), max_length=255, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    # looked up from the entry, never the other way: no index on this large table
    order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,
        editable=False,
        related_name="+",
        verbose_name=_("for order"),
        help_text=_("A return's credit note: the order whose invoices it pays first."),
    )
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
                condition=~Q(kind="refund") | Q(amount__gt=0), name="finance_refund_positive"
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
        return f"{self.get_kind_display()}: {money_text(self.amount)}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(_("Ledger entries cannot be changed; post a correction."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Ledger entries cannot be deleted; post a correction."))


auditlog.register(LedgerEntry)


# --- open items -------------------------------------------------------------------------------


class Settlement(models.Model):
    """``amount`` of the debt ``debit`` paid by the credit ``credit`` (both of one dealer)."""

    debit = models.ForeignKey(
        LedgerEntry, on_delete=models.PROTECT, related_name="settled_by", verbose_name=_("debt")
    )
    credit = models.ForeignKey(
        LedgerEntry, on_delete=models.PROTECT, related_name="settles", verbose_name=_("credit")
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        indexes = [
            models.Index(fields=["debit"], name="finance_settlement_debit"),
            models.Index(fields=["credit"], name="finance_settlement_credit"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="finance_settlement_positive")
        ]

    def __str__(self) -> str:
        return f"{self.credit_id} -> {self.debit_id}: {self.amount}"


def settled_sum(field: str, outer: str = "pk") -> Coalesce:
    """The sum of the settlements whose ``field`` (``debit`` or ``credit``) is the outer
    query's entry (``outer``: the entry's key there), 0.00 without any: a subquery."""
    return Coalesce(
        Subquery(
            Settlement.objects.filter(**{field: OuterRef(outer)})
            .order_by()
            .values(field)
            .annotate(total=Sum("amount"))
            .values("total")
        ),
        Value(Decimal("0.00")),
        output_field=models.DecimalField(max_digits=14, decimal_places=2),
    )


# --- documents from the ERP -------------------------------------------------------------------


def invoice_file_path(instance, filename: str) -> str:
    """Invoices are private: an unguessable folder per file (the dealer API serves them after
    checking the company; a storage URL is never handed out)."""
    return f"invoices/{uuid.uuid4().hex}/{filename}"


GROSS_SLACK = Decimal("0.001")


class Invoice(models.Model):
    class Profile(models.TextChoices):
        E_FATURA = "e-fatura", "e-Fatura"
        E_ARSIV = "e-arsiv", "e-Arşiv"

    number = models.CharField(
        _("number"),
        max_length=16,
        unique=True,
        help_text=_("The tax authority's form: 3 letters or digits, the year, 9 digits."),
    )
    ettn = models.UUIDField(_("ETTN"), unique=True)
    profile = models.CharField(_("profile"), max_length=8, choices=Profile.choices)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("dealer")
    )
    order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
        verbose_name=_("order"),
    )
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"))
    currency = models.CharField(_("currency"), max_length=3, default="TRY")
    net_total = models.DecimalField(_("net"), max_digits=14, decimal_places=2)
    vat_total = models.DecimalField(_("VAT"), max_digits=14, decimal_places=2)
    gross_total = models.DecimalField(_("gross"), max_digits=14, decimal_places=2)
    xml = models.FileField(_("UBL-TR XML"), upload_to=invoice_file_path, blank=True, max_length=255)
    pdf = models.FileField(_("PDF"), upload_to=invoice_file_path, blank=True, max_length=255)
    content_hash = models.CharField(_("content hash"), max_length=64, editable=False)
    ledger_entry = models.OneToOneField(
        LedgerEntry,
        on_delete=models.PROTECT,
        related_name="invoice",
        editable=False,
        verbose_name=_("ledger entry"),
    )
    created_at = models.DateTimeField(_("received at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issue_date", "-id"]
        indexes = [
            models.Index(
                fields=["customer", "-issue_date", "-id"], name="finance_invoice_customer"
            ),
            models.Index(fields=["order"], name="finance_invoice_order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_date__gte=models.F("issue_date")), name="finance_invoice_due"
            ),
            # gross = net + vat (within a tenth of a kuruş: SQLite, the demo's, adds decimals
            # as floating point; PostgreSQL's exact sums of 2-place values meet it exactly)
            models.CheckConstraint(
                condition=Q(
                    gross_total__gte=models.F("net_total") + models.F("vat_total") - GROSS_SLACK,
                    gross_total__lte=models.F("net_total") + models.F("vat_total") + GROSS_SLACK,
                ),
                name="finance_invoice_gross",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class InvoiceLine(models.Model):
    # what a line of the document says (the API, the admin and the feed's writer show or
    # write these)
    DOCUMENT_FIELDS = (
        "position",
        "sku",
        "description",
        "quantity",
        "unit_net",
        "vat_rate",
        "vat_exemption_code",
        "line_net",
        "line_vat",
    )

    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="lines", verbose_name=_("invoice")
    )
    position = models.PositiveSmallIntegerField(_("line"))
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    description = models.CharField(_("description"), max_length=255)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit_net = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    vat_rate = models.PositiveSmallIntegerField(_("VAT rate"))
    vat_exemption_code = models.CharField(_("VAT exemption code"), max_length=8, blank=True)
    line_net = models.DecimalField(_("net"), max_digits=14, decimal_places=2)
    line_vat = models.DecimalField(_("VAT"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="finance_line_position")
        ]

    def __str__(self) -> str:
        return gettext("Line %(position)s: %(description)s") % {
            "position": self.position,
            "description": self.description,
        }


class Payment(models.Model):
    class Method(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", _("bank transfer")
        CASH = "cash", _("cash")
        CHEQUE = "cheque", _("cheque")
        CARD = "card", _("card")

    reference = models.CharField(_("reference"), max_length=64, unique=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="payments", verbose_name=_("dealer")
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    payment_date = models.DateField(_("date"))
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    invoice_numbers = models.JSONField(_("invoices named"), default=list, blank=True)
    content_hash = models.CharField(_("content hash"), max_length=64, editable=False)
    ledger_entry = models.OneToOneField(
        LedgerEntry,
        on_delete=models.PROTECT,
        related_name="payment",
        editable=False,
        verbose_name=_("ledger entry"),
    )
    created_at = models.DateTimeField(_("received at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-payment_date", "-id"]
        indexes = [
            models.Index(fields=["customer", "-payment_date"], name="finance_payment_customer")
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="finance_payment_positive")
        ]

    def __str__(self) -> str:
        return self.reference


class PaymentReminder(models.Model):
    """An invoice's payment reminder of one stage was sent (at most once per stage)."""

    class Stage(models.TextChoices):
        DUE_SOON = "due_soon", _("due soon")
        OVERDUE = "overdue", _("overdue")

    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="reminders", verbose_name=_("invoice")
    )
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    open_amount = models.DecimalField(_("open amount"), max_digits=14, decimal_places=2)
    sent_on = models.DateField(_("sent on"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("payment reminder")
        verbose_name_plural = _("payment reminders")
        constraints = [
            models.UniqueConstraint(fields=["invoice", "stage"], name="finance_reminder_once")
        ]

    def __str__(self) -> str:
        return gettext("%(stage)s reminder of %(date)s") % {
            "stage": self.get_stage_display(),
            "date": self.sent_on,
        }


class BalanceConfirmation(models.Model):
    """A balance confirmation (mutabakat): the distributor states the dealer's balance as of a
    date; the dealer's owner or finance user confirms it or disputes it (with their figure);
    no answer by ``respond_by`` counts as accepted."""

    class Status(models.TextChoices):
        OPEN = "open", _("awaiting answer")
        CONFIRMED = "confirmed", _("confirmed")
        DISPUTED = "disputed", _("disputed")
        DEEMED_ACCEPTED = "deemed_accepted", _("deemed accepted")

    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="balance_confirmations",
        verbose_name=_("dealer"),
    )
    as_of = models.DateField(_("balance as of"))
    balance = models.DecimalField(
        _("balance"),
        max_digits=14,
        decimal_places=2,
        help_text=_("Positive: the dealer owes."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    respond_by = models.DateField(_("answer by"))
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    dispute_reason = models.TextField(_("dispute reason"), blank=True)
    their_balance = models.DecimalField(
        _("the dealer's balance"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("balance confirmation")
        verbose_name_plural = _("balance confirmations")
        ordering = ["-as_of", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "as_of"], name="finance_confirmation_once_per_date"
            )
        ]
        indexes = [models.Index(fields=["status", "respond_by"], name="finance_confirm_status")]
        permissions = [("answer_balanceconfirmation", "Can answer balance confirmations")]

    def __str__(self) -> str:
        return f"{related_label(self, 'customer', 'code')} {self.as_of:%Y-%m-%d}"


# --- card payments taken online ---------------------------------------------------------------


class CardPayment(models.Model):
    """A dealer's card payment through a POS provider (3-D Secure on the bank's page; card
    data never reaches us: only the masked number the gateway answers). ``pending`` until the
    gateway decides; ``succeeded`` writes the ``payment`` (and its ledger entry); ``failed``
    keeps the bank's message. Refunds (``CardRefund``) lower what is kept; a payment refunded
    in full is ``refunded``."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        REFUNDED = "refunded", _("refunded")

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="card_payments", verbose_name=_("dealer")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    provider = models.CharField(_("provider"), max_length=32)
    reference = models.CharField(_("reference"), max_length=32, unique=True)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="TRY")
    order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="card_payments",
        verbose_name=_("order"),
    )
    invoice_numbers = models.JSONField(_("invoices named"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    session_id = models.CharField(_("gateway session"), max_length=128, blank=True)
    token_id = models.CharField(_("gateway token"), max_length=128, blank=True, editable=False)
    redirect_url = models.URLField(_("payment page"), max_length=500, blank=True)
    xact_id = models.CharField(_("gateway transaction"), max_length=64, blank=True)
    card_masked = models.CharField(_("card"), max_length=32, blank=True)
    message = models.CharField(_("message"), max_length=255, blank=True)
    needs_review = models.BooleanField(
        _("needs review"),
        default=False,
        help_text=_(
            "Ticked when the gateway's answer did not match the payment: finance must check it."
        ),
    )
    refunded_amount = models.DecimalField(
        _("refunded"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )
    payment = models.OneToOneField(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="card_payment",
        verbose_name=_("receipt"),
    )
    created_at = models.DateTimeField(_("started at"), default=timezone.now, editable=False)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("card payment")
        verbose_name_plural = _("card payments")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="finance_cardpay_customer"),
            models.Index(
                fields=["status", "created_at"],
                name="finance_cardpay_pending",
                condition=Q(status="pending"),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="finance_cardpay_positive"),
            models.UniqueConstraint(
                fields=["provider", "session_id"],
                condition=~Q(session_id=""),
                name="finance_cardpay_session",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("amount")),
                name="finance_cardpay_refund_bounded",
            ),
        ]
        permissions = [("refund_cardpayment", "Can refund card payments")]

    def __str__(self) -> str:
        return self.reference

    @property
    def refundable(self) -> Decimal:
        if self.status not in (self.Status.SUCCEEDED, self.Status.REFUNDED):
            return Decimal("0.00")
        return self.amount - self.refunded_amount


class CardRefund(models.Model):
    """Money of a card payment given back by finance staff through the gateway. ``pending``
    while the gateway's answer is unknown (a timeout: reconciliation asks it later);
    ``succeeded`` writes a ``refund`` ledger entry; ``failed`` keeps the gateway's message."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    card_payment = models.ForeignKey(
        CardPayment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("payment")
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    message = models.CharField(_("message"), max_length=255, blank=True)
    ledger_entry = models.OneToOneField(
        LedgerEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="card_refund",
        editable=False,
        verbose_name=_("ledger entry"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("requested at"), default=timezone.now, editable=False)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("card refund")
        verbose_name_plural = _("card refunds")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="finance_cardrefund_positive")
        ]

    def __str__(self) -> str:
        return gettext("Refund of %(amount)s") % {"amount": money_text(self.amount)}


auditlog.register(BalanceConfirmation)
auditlog.register(Invoice, exclude_fields=["content_hash"])
auditlog.register(Payment, exclude_fields=["content_hash"])
auditlog.register(CardPayment, exclude_fields=["token_id"])
auditlog.register(CardRefund)
