"""Dealer API serializers of the current account: invoices, the statement, aging."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.core.clock import business_today
from apps.core.exceptions import ValidationError
from apps.core.serializers import StrictInputSerializer
from apps.finance.card_messages import card_message_shown
from apps.finance.models import BalanceConfirmation, CardPayment, Invoice, InvoiceLine
from apps.finance.selectors import InvoiceStatus, statement_period


class Money(serializers.DecimalField):
    """An amount as text with 2 places, as everywhere in the API."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=14, decimal_places=2, coerce_to_string=True, **kwargs)


class InvoiceSummarySerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", default=None, allow_null=True)
    net = Money(source="net_total")
    vat = Money(source="vat_total")
    gross = Money(source="gross_total")
    paid_amount = Money()
    open_amount = Money()
    status = serializers.ChoiceField(
        choices=InvoiceStatus.CHOICES,
        help_text="paid: nothing open; overdue: open after the due date; open: not yet due.",
    )
    has_pdf = serializers.SerializerMethodField()
    has_xml = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = [
            "number",
            "ettn",
            "profile",
            "order_number",
            "issue_date",
            "due_date",
            "currency",
            "net",
            "vat",
            "gross",
            "paid_amount",
            "open_amount",
            "status",
            "has_pdf",
            "has_xml",
        ]

    def get_has_pdf(self, invoice) -> bool:
        return bool(invoice.pdf)  # the API serves the ERP's PDF only

    def get_has_xml(self, invoice) -> bool:
        return bool(invoice.xml)


class InvoiceLineSerializer(serializers.ModelSerializer):
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, coerce_to_string=True)
    unit_net = serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=True)
    line_net = Money()
    line_vat = Money()

    class Meta:
        model = InvoiceLine
        fields = list(InvoiceLine.DOCUMENT_FIELDS)


class InvoiceSerializer(InvoiceSummarySerializer):
    lines = InvoiceLineSerializer(many=True)
    payments = serializers.SerializerMethodField(
        help_text="What paid it: the payment or credit note's document number, date and the "
        "amount applied to this invoice."
    )

    class Meta(InvoiceSummarySerializer.Meta):
        fields = [*InvoiceSummarySerializer.Meta.fields, "lines", "payments"]

    def get_payments(self, invoice) -> list[dict]:
        return [
            {
                "document_number": s.credit.document_number,
                "type": s.credit.kind,
                "date": s.credit.entry_date.isoformat(),
                "amount": f"{s.amount:.2f}",
            }
            for s in invoice.ledger_entry.settled_by.all()
        ]


class StatementQuerySerializer(serializers.Serializer):
    """Query parameters: other parameters are ignored, as on every list."""

    date_from = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])
    date_to = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])
    format = serializers.ChoiceField(choices=["json", "csv", "pdf"], required=False, default="json")
    separator = serializers.ChoiceField(
        choices=["comma", "semicolon"],
        required=False,
        default="comma",
        help_text="CSV only: semicolon puts ; between fields and a decimal comma (Excel, Turkish).",
    )

    def validate(self, attrs):
        """The defaults and the rules of ``statement_period`` (to today, or to the dealer's
        latest entry when it is dated later: ``default_end`` in the context)."""
        try:
            attrs["date_from"], attrs["date_to"] = statement_period(
                date_from=attrs.get("date_from"),
                date_to=attrs.get("date_to"),
                default_end=self.context.get("default_end") or business_today(),
            )
        except ValidationError as exc:
            raise serializers.ValidationError(exc.errors) from exc
        return attrs


class StatementEntrySerializer(serializers.Serializer):
    date = serializers.DateField()
    due_date = serializers.DateField(allow_null=True)
    document_number = serializers.CharField()
    type = serializers.CharField()
    description = serializers.CharField()
    debit = Money()
    credit = Money()
    balance = Money()


class StatementSerializer(serializers.Serializer):
    currency = serializers.CharField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    opening_balance = Money()
    closing_balance = Money()
    entries = StatementEntrySerializer(many=True)


class AgingItemSerializer(serializers.Serializer):
    document_number = serializers.CharField()
    type = serializers.CharField()
    invoice_number = serializers.CharField(allow_null=True)
    date = serializers.DateField()
    due_date = serializers.DateField()
    days_overdue = serializers.IntegerField()
    amount = Money()
    open_amount = Money()


class AgingBucketSerializer(serializers.Serializer):
    bucket = serializers.CharField()
    label = serializers.CharField()
    total = Money()
    items = AgingItemSerializer(many=True)


class AgingSerializer(serializers.Serializer):
    currency = serializers.CharField()
    as_of = serializers.DateField()
    total = Money()
    buckets = AgingBucketSerializer(many=True)


class BalanceConfirmationSerializer(serializers.ModelSerializer):
    balance = Money(help_text="As of `as_of`; positive: your company owes.")
    their_balance = Money(allow_null=True)
    currency = serializers.SerializerMethodField()
    answered_by = serializers.EmailField(source="answered_by.email", default=None, allow_null=True)
    statement_url = serializers.SerializerMethodField(
        help_text="The statement up to `as_of` (this year), as PDF."
    )

    class Meta:
        model = BalanceConfirmation
        fields = [
            "id",
            "as_of",
            "balance",
            "currency",
            "status",
            "respond_by",
            "sent_at",
            "answered_at",
            "answered_by",
            "dispute_reason",
            "their_balance",
            "statement_url",
        ]

    def get_currency(self, obj) -> str:
        return settings.CURRENCY

    def get_statement_url(self, obj) -> str:
        start = obj.as_of.replace(month=1, day=1)
        return f"/api/v1/account/statement?date_from={start}&date_to={obj.as_of}&format=pdf"


class DisputeSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=2000, help_text="What does not match.")
    their_balance = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        help_text="Your balance as of the same date (positive: you owe).",
    )


# --- card payments ----------------------------------------------------------------------------

CARD_FIELDS = {
    "card_number",
    "card_no",
    "pan",
    "cvv",
    "cvc",
    "cvv2",
    "card",
    "expiry",
    "expiry_month",
    "expiry_year",
    "card_holder",
}


class CardPaymentStartSerializer(StrictInputSerializer):
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text="An order's grand total; at most what is open on the invoices named; or any "
        "amount on account.",
    )
    order_number = serializers.CharField(
        max_length=32, required=False, allow_blank=True, help_text="An order awaiting payment."
    )
    invoice_numbers = serializers.ListField(
        child=serializers.CharField(max_length=32),
        required=False,
        max_length=100,
        help_text="Open invoices to pay (the amount pays them in this order).",
    )

    def to_internal_value(self, data):
        if isinstance(data, dict):
            card_fields_refuse(data)
        return super().to_internal_value(data)


def card_fields_refuse(names) -> None:
    """400 naming each card field among ``names`` (a body's keys, or a query string's: a URL
    is written to access logs and proxies' logs)."""
    card = [name for name in names if str(name).lower() in CARD_FIELDS]
    if card:
        raise serializers.ValidationError(
            {
                name: [_("Card details are typed on the bank's page, never sent to us.")]
                for name in card
            }
        )


class CardMessage(serializers.CharField):
    """A card payment's message in the reader's language (``card_message_shown``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault(
            "help_text",
            "Why the payment failed, or what happened to money paid for an order that did "
            "not wait for it; empty otherwise.",
        )
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        return card_message_shown(str(value or ""))


class CardPaymentSerializer(serializers.ModelSerializer):
    amount = Money()
    message = CardMessage()
    refunded_amount = Money()
    order_number = serializers.CharField(source="order.number", default=None, allow_null=True)
    redirect_url = serializers.SerializerMethodField(
        help_text="While pending: the bank's page, where the card is typed and 3-D Secure runs."
    )

    class Meta:
        model = CardPayment
        fields = [
            "id",
            "reference",
            "status",
            "amount",
            "currency",
            "order_number",
            "invoice_numbers",
            "redirect_url",
            "card_masked",
            "message",
            "refunded_amount",
            "created_at",
            "completed_at",
        ]

    def get_redirect_url(self, obj) -> str | None:
        return obj.redirect_url or None if obj.status == CardPayment.Status.PENDING else None


class CardPaymentResultSerializer(serializers.ModelSerializer):
    """What the bank's return answers (a public endpoint: no more than the outcome)."""

    order_number = serializers.CharField(source="order.number", default=None, allow_null=True)
    amount = Money()
    message = CardMessage()

    class Meta:
        model = CardPayment
        fields = ["id", "reference", "status", "amount", "currency", "order_number", "message"]
