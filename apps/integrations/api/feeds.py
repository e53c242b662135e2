"""Integration API: the ERP's catalog, stock, price, invoice and payment feeds, set-based on
the batch frame.

``POST products`` upserts products by SKU, ``POST stock`` sets absolute ``on_hand`` per SKU and
warehouse, ``POST prices`` upserts list prices by (price list, SKU, min_quantity) and
``POST special-prices`` dealer special prices by (customer code, SKU, min_quantity),
``POST invoices`` records e-invoices by number and ``POST payments`` payments by reference
(both only ever created: the same content again is ``unchanged``). Records are
checked in plain Python (``RecordSchema``: DRF's rules and messages, without a serializer per
record) and applied with a constant number of queries per batch. A natural key may appear once
per batch: the first record is applied, a repeat fails naming it.
"""

from __future__ import annotations

from decimal import Decimal

from apps.accounts.models import ApiKeyScope
from apps.catalog.models import Unit, VatRate
from apps.catalog.services.products import product_upsert_many
from apps.core.money import MAX_AMOUNT
from apps.finance.models import Invoice, Payment
from apps.finance.services.invoices import NUMBER as INVOICE_NUMBER
from apps.finance.services.invoices import NUMBER_FORM as INVOICE_NUMBER_FORM
from apps.finance.services.invoices import invoice_create_many, number_year_problem
from apps.finance.services.payments import payment_record_many
from apps.integrations.api.base import (
    Base64File,
    BatchUpsertView,
    Boolean,
    Choice,
    Date,
    DateTime,
    DecimalNumber,
    Integer,
    JSONObject,
    Nested,
    NestedList,
    RecordSchema,
    Text,
    TextList,
    Uuid,
)
from apps.integrations.models import BatchLog
from apps.inventory.services.feeds import stock_sync_many
from apps.pricing.services.feeds import price_upsert_many, special_price_upsert_many

MAX_INT = 2**31 - 1
MAX_SERIALS = 10_000  # serial numbers in one stock record

PRODUCT_RECORD = RecordSchema(
    "ErpProductRecord",
    sku=Text(max_length=64, key="sku"),
    name=Text(max_length=255),
    brand=Text(
        max_length=150,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Brand name (matched case-insensitively, created when new); null: none.",
    ),
    category=Text(
        max_length=2000, help_text='Category path, "Parent > Child"; missing levels are created.'
    ),
    unit=Choice(choices=Unit.choices),
    vat_rate=Choice(choices=VatRate.choices, help_text="VAT in whole percent."),
    attributes=JSONObject(
        required=False,
        allow_null=True,
        help_text="Attribute code -> value, checked against the category's definitions.",
    ),
    is_active=Boolean(required=False),
    serial_tracked=Boolean(required=False),
    description=Text(max_length=20000, required=False, allow_blank=True, multiline=True),
    min_order_quantity=Integer(min_value=1, max_value=MAX_INT, required=False),
    order_multiple=Integer(min_value=1, max_value=MAX_INT, required=False),
    barcodes=TextList(item=Text(max_length=64, key=True), max_items=50, required=False),
)

STOCK_RECORD = RecordSchema(
    "ErpStockRecord",
    sku=Text(max_length=64, key=True),
    warehouse=Text(
        max_length=32, key=True, help_text="Warehouse code; a new code creates the warehouse."
    ),
    on_hand=Integer(
        min_value=0, max_value=MAX_INT, help_text="Absolute; the change is a stock movement."
    ),
    serial_numbers=TextList(
        item=Text(max_length=100, key=True),
        max_items=MAX_SERIALS,
        required=False,
        allow_null=True,
        help_text=(
            "Serial-tracked products only: one distinct serial per unit of the change of "
            "on_hand. Up by N: N serials not in stock anywhere, e.g. "
            '`{"sku": "CAM-1", "warehouse": "MERKEZ", "on_hand": 2, "serial_numbers": '
            '["SN-001", "SN-002"]}` from 0; down by N: the N serials that leave this '
            "warehouse (written off). Ignored when on_hand is unchanged (a batch sent again)."
        ),
    ),
)

# a quantity break: from ``min_quantity`` units, ``amount`` per unit (net of VAT), in a window
PRICE_BREAK = {
    "min_quantity": Integer(
        min_value=1, max_value=MAX_INT, help_text="The break: this price from this many units."
    ),
    "amount": DecimalNumber(
        max_digits=14,
        decimal_places=4,
        min_value=Decimal("0"),
        help_text="Unit price net of VAT, TRY, at most 4 decimal places (text or number).",
    ),
    "valid_from": DateTime(
        required=False,
        allow_null=True,
        help_text="ISO 8601 with a time zone (Z or an offset); absent or null: no start.",
    ),
    "valid_to": DateTime(
        required=False,
        allow_null=True,
        help_text="Exclusive end, after valid_from; absent or null: no end.",
    ),
}

PRICE_RECORD = RecordSchema(
    "ErpPriceRecord",
    sku=Text(max_length=64, key=True),
    price_list=Text(
        max_length=16, key=True, help_text="Code of an active price list: LIST, A, B or C."
    ),
    **PRICE_BREAK,
)

SPECIAL_PRICE_RECORD = RecordSchema(
    "ErpSpecialPriceRecord",
    customer_code=Text(max_length=32, key=True, help_text="The dealer's ERP code."),
    sku=Text(max_length=64, key=True),
    **PRICE_BREAK,
)


MAX_INVOICE_LINES = 1000
MAX_INVOICE_FILE = 5 * 1024 * 1024  # bytes, each of xml and pdf


def _money(help_text: str, *, places: int = 2, min_value=Decimal("0")) -> DecimalNumber:
    return DecimalNumber(
        max_digits=14,
        decimal_places=places,
        min_value=min_value,
        max_value=MAX_AMOUNT,
        help_text=help_text,
    )


INVOICE_LINE = RecordSchema(
    "ErpInvoiceLine",
    sku=Text(max_length=64, key=True, required=False, allow_blank=True, allow_null=True),
    description=Text(max_length=255, multiline=True),
    quantity=DecimalNumber(max_digits=14, decimal_places=3, min_value=Decimal("0.001")),
    unit_net=_money("Unit price net of VAT, at most 4 decimal places.", places=4),
    vat_rate=Integer(min_value=0, max_value=100, help_text="0, 1, 10 or 20."),
    vat_exemption_code=Text(
        max_length=8,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="The exemption's 3-digit reason code: required on a 0 % line, only there.",
    ),
    line_net=_money("round2(quantity x unit_net)."),
    line_vat=_money("round2(line_net x vat_rate / 100)."),
)

INVOICE_TOTALS = RecordSchema(
    "ErpInvoiceTotals",
    net=_money("The lines' line_net added up."),
    vat=_money("The lines' line_vat added up."),
    gross=_money("net + vat."),
)

INVOICE_RECORD = RecordSchema(
    "ErpInvoiceRecord",
    number=Text(
        max_length=16,
        form=(INVOICE_NUMBER, INVOICE_NUMBER_FORM),  # told with the record's other mistakes
        help_text="The tax authority's 16-character form: 3 letters or digits, the year of "
        "issue_date, 9 digits (ABC2026000000001).",
    ),
    ettn=Uuid(help_text="The invoice's ETTN (a UUID)."),
    profile=Choice(choices=Invoice.Profile.choices),
    customer_code=Text(max_length=32, key=True, help_text="The dealer's ERP code."),
    order_number=Text(
        max_length=20,
        key=True,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="The dealer's order it invoices: it then counts as invoiced.",
    ),
    issue_date=Date(),
    due_date=Date(help_text="Not before issue_date."),
    lines=NestedList(INVOICE_LINE, max_items=MAX_INVOICE_LINES),
    totals=Nested(INVOICE_TOTALS, help_text="Must match the lines to the kuruş."),
    xml=Base64File(
        max_bytes=MAX_INVOICE_FILE,
        kind="xml",
        required=False,
        allow_null=True,
        help_text="The signed UBL-TR document, base64.",
    ),
    pdf=Base64File(
        max_bytes=MAX_INVOICE_FILE,
        kind="pdf",
        required=False,
        allow_null=True,
        help_text="The invoice's PDF, base64 (without one the dealer API answers 404 for it).",
    ),
)

PAYMENT_RECORD = RecordSchema(
    "ErpPaymentRecord",
    reference=Text(max_length=64, key=True, help_text="The ERP's receipt number: the key."),
    customer_code=Text(max_length=32, key=True, help_text="The dealer's ERP code."),
    amount=_money("TRY, more than zero.", min_value=Decimal("0.01")),
    date=Date(),
    method=Choice(choices=Payment.Method.choices),
    invoice_numbers=TextList(
        item=Text(max_length=16, key=True),
        max_items=1000,
        required=False,
        allow_null=True,
        help_text="The dealer's invoices it pays, in this order; what is left pays the oldest "
        "debt due first.",
    ),
)


class ProductBatchView(BatchUpsertView):
    needs_postgresql = True
    resource = "products"
    key_field = "sku"
    scope = ApiKeyScope.CATALOG_WRITE
    record_schema = PRODUCT_RECORD
    batch_unique = ("sku",)

    def upsert_many(self, records: dict[int, dict], *, batch: BatchLog):
        return product_upsert_many(records=records, batch_id=batch.pk, remote_addr=batch.ip_address)


class StockBatchView(BatchUpsertView):
    needs_postgresql = True
    resource = "stock"
    key_field = "sku"
    scope = ApiKeyScope.STOCK_WRITE
    record_schema = STOCK_RECORD
    batch_unique = ("sku", "warehouse")

    def upsert_many(self, records: dict[int, dict], *, batch: BatchLog):
        return stock_sync_many(records=records, reference=f"batch:{batch.pk}")


class PriceBatchView(BatchUpsertView):
    needs_postgresql = True
    """List prices from the ERP, one quantity break of a product in a price list per record:
    created, updated (amount or validity changed) or unchanged. Each change is kept in the
    price history (source ``erp``, reference ``batch:<id>``) and the audit log."""

    resource = "prices"
    key_field = "sku"
    scope = ApiKeyScope.PRICES_WRITE
    record_schema = PRICE_RECORD
    batch_unique = ("sku", "price_list", "min_quantity")

    def upsert_many(self, records: dict[int, dict], *, batch: BatchLog):
        return price_upsert_many(records=records, batch_id=batch.pk, remote_addr=batch.ip_address)


class SpecialPriceBatchView(BatchUpsertView):
    needs_postgresql = True
    """Dealer special prices from the ERP, one quantity break of a product for a dealer per
    record: created, updated (amount or validity changed) or unchanged. Each change is kept in
    the price history (source ``erp``, reference ``batch:<id>``) and the audit log."""

    resource = "special-prices"
    key_field = "customer_code"
    scope = ApiKeyScope.PRICES_WRITE
    record_schema = SPECIAL_PRICE_RECORD
    batch_unique = ("customer_code", "sku", "min_quantity")

    def upsert_many(self, records: dict[int, dict], *, batch: BatchLog):
        return special_price_upsert_many(
            records=records, batch_id=batch.pk, remote_addr=batch.ip_address
        )


class InvoiceBatchView(BatchUpsertView):
    """E-invoices issued in the ERP, by number: each new one is an ``invoice`` entry on the
    dealer's current account (and its order counts as invoiced); the same content sent again
    is ``unchanged``, other content under a recorded number fails."""

    resource = "invoices"
    key_field = "number"
    scope = ApiKeyScope.INVOICES_WRITE
    record_schema = INVOICE_RECORD
    batch_unique = ("number",)

    def validate_record(self, raw: dict):
        data, errors = super().validate_record(raw)
        # a record with mistakes of form is told the number's year with them (a valid one is
        # told by the service's checks, which also read the dealer and the order)
        formed = "number" in data and "issue_date" in data and "number" not in errors
        if (
            errors
            and formed
            and (problem := number_year_problem(data["number"], data["issue_date"]))
        ):
            errors["number"] = [problem]
        return data, errors

    def upsert_many(self, records: dict[int, dict], *, batch: BatchLog):
        return invoice_create_many(records=records, batch_id=batch.pk, remote_addr=batch.ip_address)


class PaymentBatchView(BatchUpsertView):
    """Payments the ERP recorded, by reference: each new one is a ``payment`` entry on the
    dealer's current account, paying the invoices it names, then the oldest due first."""

    resource = "payments"
    key_field = "reference"
    scope = ApiKeyScope.PAYMENTS_WRITE
    record_schema = PAYMENT_RECORD
    batch_unique = ("reference",)

    def upsert_many(self, records: dict[int, dict], *, batch: BatchLog):
        return payment_record_many(records=records, batch_id=batch.pk, remote_addr=batch.ip_address)
