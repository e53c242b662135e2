"""Demo current accounts for ``seed_demo``: every active demo dealer gets an opening balance and
e-invoices and payments through the ERP feeds' own services (so settlement, aging and the
events are real); the first dealers get a fuller year of invoices (some for their delivered
orders, every aging bucket filled), ``DEMO002`` is long overdue, and ``DEMO001`` has an open
balance confirmation (and an earlier confirmed one). The morning's payment reminders are sent
once, so the notification log shows them. Idempotent: a dealer with ledger entries is left
alone; ``--reset`` removes the demo dealers' finance rows."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from xml.sax.saxutils import escape

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation

from apps.accounts.models import Customer, CustomerStatus, DealerRole, User
from apps.catalog.models import Product
from apps.core.clock import business_date, business_day_start, business_today
from apps.core.money import round2
from apps.demo.accounts import DEMO_FINANCE_MANAGER_EMAIL, demo_staff
from apps.demo.pricing import TIER_FACTORS, demo_list_prices
from apps.finance.card_messages import bank_declined_message
from apps.finance.descriptions import opening_balance_text, refund_text
from apps.finance.documents import invoice_pdf
from apps.finance.models import (
    BalanceConfirmation,
    CardPayment,
    CardRefund,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Payment,
    PaymentReminder,
    Settlement,
)
from apps.finance.services.confirmations import (
    confirmation_confirm,
    confirmation_send,
    quarter_end_before,
)
from apps.finance.services.invoices import invoice_create_many
from apps.finance.services.ledger import ledger_post
from apps.finance.services.payments import payment_record_many
from apps.finance.services.reminders import payment_reminders_send
from apps.orders.models import Order

DEMO_CODE_RE = r"^DEMO[0-9]{3}$"
RICH_DEALERS = 3  # the first dealers: a year of invoices, every aging bucket
OVERDUE_DEALER = "DEMO002"
PDF_DEALER = "DEMO001"  # its invoices come with the ERP's PDF
# (days ago issued, payment terms in days, lines) of the first dealers' invoices: due dates
# fall in every aging bucket, one due in two days (the reminder's "due soon")
RICH_INVOICES = [(200, 60, 4), (150, 45, 3), (110, 30, 2), (75, 30, 5), (40, 30, 3),
                 (28, 30, 2), (10, 30, 4), (3, 60, 2)]  # fmt: skip
PLAIN_INVOICES = [(70, 30, 3), (20, 30, 2)]  # the other dealers


def _ubl(invoice: dict, customer: Customer) -> bytes:
    """A UBL-TR invoice document as the ERP's e-invoice provider would send it (unsigned: the
    demo has no e-signature): the parties, every line with its VAT, the totals."""
    amount = 'currencyID="TRY"'

    def party(name: str, tax_number: str, tax_office: str) -> str:
        scheme = "VKN" if len(tax_number) == 10 else "TCKN"
        return (
            f'<cac:Party><cac:PartyIdentification><cbc:ID schemeID="{scheme}">{escape(tax_number)}'
            "</cbc:ID></cac:PartyIdentification>"
            f"<cac:PartyName><cbc:Name>{escape(name)}</cbc:Name></cac:PartyName>"
            f"<cac:PartyTaxScheme><cac:TaxScheme><cbc:Name>{escape(tax_office)}</cbc:Name>"
            "</cac:TaxScheme></cac:PartyTaxScheme></cac:Party>"
        )

    def subtotal(net, vat, rate, exemption: str) -> str:
        """A KDV (tax type 0015) subtotal; a 0 % one names its exemption's reason code."""
        reason = (
            f"<cbc:TaxExemptionReasonCode>{escape(exemption)}</cbc:TaxExemptionReasonCode>"
            if exemption
            else ""
        )
        return (
            f"<cac:TaxSubtotal><cbc:TaxableAmount {amount}>{net}</cbc:TaxableAmount>"
            f"<cbc:TaxAmount {amount}>{vat}</cbc:TaxAmount><cbc:Percent>{rate}</cbc:Percent>"
            f"<cac:TaxCategory>{reason}<cac:TaxScheme><cbc:Name>KDV</cbc:Name>"
            "<cbc:TaxTypeCode>0015</cbc:TaxTypeCode></cac:TaxScheme></cac:TaxCategory>"
            "</cac:TaxSubtotal>"
        )

    by_rate: dict[tuple, list[Decimal]] = {}
    for line in invoice["lines"]:
        key = (line["vat_rate"], line.get("vat_exemption_code") or "")
        sums = by_rate.setdefault(key, [Decimal("0.00"), Decimal("0.00")])
        sums[0] += Decimal(line["line_net"])
        sums[1] += Decimal(line["line_vat"])
    subtotals = "".join(
        subtotal(net, vat, rate, exemption)
        for (rate, exemption), (net, vat) in sorted(by_rate.items())
    )
    lines = "".join(
        f"<cac:InvoiceLine><cbc:ID>{position}</cbc:ID>"
        f'<cbc:InvoicedQuantity unitCode="C62">{line["quantity"]}</cbc:InvoicedQuantity>'
        f"<cbc:LineExtensionAmount {amount}>{line['line_net']}</cbc:LineExtensionAmount>"
        f"<cac:TaxTotal><cbc:TaxAmount {amount}>{line['line_vat']}</cbc:TaxAmount>"
        + subtotal(
            line["line_net"],
            line["line_vat"],
            line["vat_rate"],
            line.get("vat_exemption_code") or "",
        )
        + "</cac:TaxTotal>"
        f"<cac:Item><cbc:Name>{escape(line['description'])}</cbc:Name>"
        f"<cac:SellersItemIdentification><cbc:ID>{escape(line['sku'])}</cbc:ID>"
        "</cac:SellersItemIdentification></cac:Item>"
        f"<cac:Price><cbc:PriceAmount {amount}>{line['unit_net']}</cbc:PriceAmount></cac:Price>"
        "</cac:InvoiceLine>\n"
        for position, line in enumerate(invoice["lines"], start=1)
    )
    totals = invoice["totals"]
    profile = "TICARIFATURA" if invoice["profile"] == "e-fatura" else "EARSIVFATURA"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
        'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
        'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">\n'
        "<cbc:UBLVersionID>2.1</cbc:UBLVersionID><cbc:CustomizationID>TR1.2</cbc:CustomizationID>"
        f"<cbc:ProfileID>{profile}</cbc:ProfileID><cbc:ID>{invoice['number']}</cbc:ID>"
        f"<cbc:UUID>{invoice['ettn']}</cbc:UUID>"
        f"<cbc:IssueDate>{invoice['issue_date'].isoformat()}</cbc:IssueDate>"
        "<cbc:InvoiceTypeCode>SATIS</cbc:InvoiceTypeCode>"
        "<cbc:DocumentCurrencyCode>TRY</cbc:DocumentCurrencyCode>"
        f"<cbc:LineCountNumeric>{len(invoice['lines'])}</cbc:LineCountNumeric>\n"
        "<cac:AccountingSupplierParty>"
        + party(settings.COMPANY_NAME, settings.COMPANY_TAX_NUMBER, settings.COMPANY_TAX_OFFICE)
        + "</cac:AccountingSupplierParty>\n<cac:AccountingCustomerParty>"
        + party(customer.name, customer.tax_number or "", customer.tax_office or "")
        + "</cac:AccountingCustomerParty>\n"
        f"<cac:PaymentTerms><cbc:PaymentDueDate>{invoice['due_date'].isoformat()}"
        "</cbc:PaymentDueDate></cac:PaymentTerms>\n"
        f"<cac:TaxTotal><cbc:TaxAmount {amount}>{totals['vat']}</cbc:TaxAmount>{subtotals}"
        "</cac:TaxTotal>\n"
        f"<cac:LegalMonetaryTotal><cbc:LineExtensionAmount {amount}>{totals['net']}"
        f"</cbc:LineExtensionAmount><cbc:TaxExclusiveAmount {amount}>{totals['net']}"
        f"</cbc:TaxExclusiveAmount><cbc:TaxInclusiveAmount {amount}>{totals['gross']}"
        f"</cbc:TaxInclusiveAmount><cbc:PayableAmount {amount}>{totals['gross']}"
        "</cbc:PayableAmount></cac:LegalMonetaryTotal>\n" + lines + "</Invoice>\n"
    ).encode()


def _order_lines(order: Order) -> list[dict]:
    """The invoice lines of a delivered order: what it sold, at its net prices."""
    lines = []
    for line in order.lines.all():
        quantity = Decimal(line.quantity)
        unit_net = (line.line_net / quantity).quantize(Decimal("0.0001"))
        line_net = round2(quantity * unit_net)
        lines.append(
            {
                "sku": line.sku,
                "description": line.name[:255],
                "quantity": quantity.quantize(Decimal("0.001")),
                "unit_net": unit_net,
                "vat_rate": line.vat_rate,
                "vat_exemption_code": "351" if line.vat_rate == 0 else "",
                "line_net": line_net,
                "line_vat": round2(line_net * line.vat_rate / Decimal(100)),
            }
        )
    return lines


def _invoice(customer: Customer, serial: int, issued: date, terms: int, products, order=None):
    lines = _order_lines(order) if order is not None else []
    # each line about 1.2 % of the dealer's credit limit (varied): a year of invoices keeps the
    # open balance well inside the limit, so the demo orders placed later are not all held
    per_line = (customer.credit_limit or Decimal("100000")) * Decimal("0.012")
    factor = TIER_FACTORS.get(customer.tier, Decimal(1))
    invoiced = list(products if order is None else ())
    bases = demo_list_prices(product.pk for product in invoiced)  # one query
    for position, product in enumerate(invoiced):
        # the dealer's catalogue price, in the quantity that makes the line's share
        share = Decimal(60 + (product.pk * 31 + position * 17) % 80) / 100
        unit_net = (bases[product.pk] * factor).quantize(Decimal("0.01"))
        quantity = Decimal(max(1, int(per_line * share / unit_net)))
        rate = product.vat_rate if product.vat_rate in (0, 1, 10, 20) else 20
        line_net = round2(quantity * unit_net)
        lines.append(
            {
                "sku": product.sku,
                "description": product.name[:255],
                "quantity": quantity.quantize(Decimal("0.001")),
                "unit_net": unit_net.quantize(Decimal("0.0001")),
                "vat_rate": rate,
                "vat_exemption_code": "351" if rate == 0 else "",
                "line_net": line_net,
                "line_vat": round2(line_net * rate / Decimal(100)),
            }
        )
    net = sum((line["line_net"] for line in lines), Decimal("0.00"))
    vat = sum((line["line_vat"] for line in lines), Decimal("0.00"))
    number = f"DMO{issued.year}{customer.pk % 100000:05d}{serial:04d}"
    ettn = str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo-invoice:{number}"))
    record = {
        "number": number,
        "ettn": ettn,
        "profile": "e-fatura" if customer.pk % 3 else "e-arsiv",
        "customer_code": customer.code,
        "order_number": order.number if order is not None else None,
        "issue_date": issued,
        "due_date": issued + timedelta(days=terms),
        "lines": lines,
        "totals": {"net": net, "vat": vat, "gross": net + vat},
    }
    record["xml"] = _ubl(record, customer)
    # the e-invoice provider's PDF, for the first dealer's invoices (rendering costs about a
    # third of a second each); the others have none: the API answers 404, the portal renders
    # a visual copy
    record["pdf"] = _pdf(record, customer, order) if customer.code == PDF_DEALER else None
    return record


def _pdf(record: dict, customer: Customer, order) -> bytes:
    fields = ("number", "ettn", "profile", "issue_date", "due_date")
    invoice = Invoice(
        **{field: record[field] for field in fields},
        customer=customer,
        order=order,
        net_total=record["totals"]["net"],
        vat_total=record["totals"]["vat"],
        gross_total=record["totals"]["gross"],
    )
    lines = [InvoiceLine(position=n, **line) for n, line in enumerate(record["lines"], start=1)]
    with translation.override(settings.PORTAL_LANGUAGE_CODE):  # a Turkish ERP's document
        return invoice_pdf(invoice, lines)


def seed_finance(options) -> list[str]:
    customers = list(
        Customer.objects.filter(code__regex=DEMO_CODE_RE, status=CustomerStatus.ACTIVE).order_by(
            "code"
        )
    )
    started = set(
        LedgerEntry.objects.filter(customer__in=customers).values_list("customer_id", flat=True)
    )
    customers = [c for c in customers if c.pk not in started]
    products = list(Product.objects.filter(sku__startswith="DEMO-").order_by("pk")[:40])
    if not customers or not products:
        return []
    today = business_today()
    openings, invoices, payments = [], {}, {}
    for rank, customer in enumerate(customers):
        rich = rank < RICH_DEALERS and customer.code <= f"DEMO{RICH_DEALERS:03d}"
        openings.append(
            LedgerEntry(
                customer=customer,
                kind=LedgerEntry.Kind.OPENING_BALANCE,
                amount=(customer.credit_limit * Decimal("0.05")).quantize(Decimal("0.01"))
                or Decimal("1000.00"),
                entry_date=today - timedelta(days=240),
                due_date=today - timedelta(days=240),
                description=opening_balance_text(),
            )
        )
        delivered = list(
            Order.objects.filter(customer=customer, status__in=("delivered", "shipped"))
            .order_by("created_at")
            .prefetch_related("lines")
        )
        plan = RICH_INVOICES if rich else PLAIN_INVOICES
        for serial, (days_ago, terms, count) in enumerate(plan, start=1):
            chosen = [
                products[(customer.pk + serial * 7 + k) % len(products)] for k in range(count)
            ]
            order, issued = None, today - timedelta(days=days_ago)
            if rich and delivered and days_ago <= 10:
                # the invoice of a shipped order: its lines, issued when it shipped, not before
                order = delivered.pop(0)
                shipped = order.shipped_at or order.created_at
                issued = min(max(issued, business_date(shipped)), today)
            record = _invoice(customer, serial, issued, terms, chosen, order)
            invoices[len(invoices)] = record
        # payments: most of the opening balance and the oldest invoices (DEMO002 pays little)
        share = Decimal("0.15") if customer.code == OVERDUE_DEALER else Decimal("0.55")
        owed = sum(
            (
                r["totals"]["gross"]
                for r in invoices.values()
                if r["customer_code"] == customer.code
            ),
            openings[-1].amount,
        )
        payments[len(payments)] = {
            "reference": f"DEK-{customer.code}-1",
            "customer_code": customer.code,
            "amount": round2(owed * share),
            "date": today - timedelta(days=25),
            "method": "bank_transfer",
            "invoice_numbers": [],
        }
    with transaction.atomic():
        LedgerEntry.objects.bulk_create(openings, batch_size=1000)
    written, errors = invoice_create_many(records=invoices)
    paid, payment_errors = payment_record_many(records=payments)
    if errors or payment_errors:
        raise RuntimeError(f"demo invoices refused: {list(errors.values())[:1]}")
    lines = [
        f"finance: {len(written)} e-invoices and {len(paid)} payments for {len(customers)} "
        f"dealers ({OVERDUE_DEALER} long overdue)"
    ]
    first = customers[0]
    if first.code.endswith("001"):
        _confirmations(first, today)
        lines.append(f"finance: {first.code} has an open balance confirmation")
        lines.append(_card_payments(first, today))
    # the first dealers only: 999 dealers' e-mails would take the demo minutes to write
    reminded = payment_reminders_send(
        today=today, customer_ids=[c.pk for c in customers[:RICH_DEALERS]]
    )
    lines.append(
        f"finance: payment reminders sent for {reminded['due_soon']} invoices due soon and "
        f"{reminded['overdue']} overdue"
    )
    return lines


def _confirmations(customer: Customer, today: date) -> None:
    """The quarter before last's balance, asked by the Finance Manager a few days after it and
    confirmed by the dealer's owner some days later; last quarter's, asked now and open."""
    finance = demo_staff(DEMO_FINANCE_MANAGER_EMAIL)
    owner = User.objects.filter(customer=customer, role=DealerRole.OWNER).order_by("pk").first()
    earlier = quarter_end_before(quarter_end_before(today))
    answered = confirmation_confirm(
        confirmation=confirmation_send(customer=customer, as_of=earlier, by=finance), by=owner
    )
    sent = business_day_start(earlier + timedelta(days=3)) + timedelta(hours=10)
    BalanceConfirmation.objects.filter(pk=answered.pk).update(
        sent_at=sent,
        respond_by=(earlier + timedelta(days=3 + settings.BALANCE_CONFIRMATION_DAYS)),
        answered_at=sent + timedelta(days=5, hours=4, minutes=12),
    )
    confirmation_send(customer=customer, as_of=quarter_end_before(today), by=finance)


def _card_payments(customer: Customer, today: date) -> str:
    """Card payments as the gateway left them: paid on account, declined, paid and refunded
    in part (the demo's own card payments run through the Paynet simulator)."""
    owner = customer.users.filter(role="owner").first()
    now = timezone.now()

    def paid(serial: int, amount: str, days_ago: int, **extra) -> CardPayment:
        reference = f"CP{customer.pk:06d}DEMO{serial:02d}"
        when = today - timedelta(days=days_ago)
        _written, errors = payment_record_many(
            records={
                0: {
                    "reference": reference,
                    "customer_code": customer.code,
                    "amount": Decimal(amount),
                    "date": when,
                    "method": "card",
                    "invoice_numbers": [],
                }
            }
        )
        assert not errors, errors
        return CardPayment.objects.create(
            customer=customer,
            created_by=owner,
            provider="paynet",
            reference=reference,
            amount=Decimal(amount),
            status=CardPayment.Status.SUCCEEDED,
            xact_id=f"73{customer.pk:05d}{serial:02d}",
            card_masked="435508******4358",
            payment=Payment.objects.get(reference=reference),
            created_at=now - timedelta(days=days_ago),
            completed_at=now - timedelta(days=days_ago),
            **extra,
        )

    paid(1, "2500.00", 12)
    refunded = paid(2, "1200.00", 20, refunded_amount=Decimal("200.00"))
    reason = "Sevkiyattan önce iade edilen iki kablo makarası"
    entry = ledger_post(
        customer=customer,
        kind=LedgerEntry.Kind.REFUND,
        amount=Decimal("200.00"),
        reason=reason,
        description=refund_text(),
        document_number=refunded.reference,
        entry_date=today - timedelta(days=18),
    )
    CardRefund.objects.create(
        card_payment=refunded,
        amount=Decimal("200.00"),
        reason=reason,
        status=CardRefund.Status.SUCCEEDED,
        ledger_entry=entry,
        completed_at=now - timedelta(days=18),
    )
    CardPayment.objects.create(
        customer=customer,
        created_by=owner,
        provider="paynet",
        reference=f"CP{customer.pk:06d}DEMO03",
        amount=Decimal("1800.00"),
        status=CardPayment.Status.FAILED,
        card_masked="400000******9995",
        # as the bank's return writes it: code 51, insufficient funds
        message=bank_declined_message("51", "Insufficient funds"),
        created_at=now - timedelta(days=5),
        completed_at=now - timedelta(days=5),
    )
    return f"finance: {customer.code} paid by card twice (one refunded in part), one declined"


def reset_finance(options) -> None:
    customers = Customer.all_objects.filter(code__regex=DEMO_CODE_RE)
    CardRefund.objects.filter(card_payment__customer__in=customers).delete()
    CardPayment.objects.filter(customer__in=customers).delete()
    PaymentReminder.objects.filter(invoice__customer__in=customers).delete()
    BalanceConfirmation.objects.filter(customer__in=customers).delete()
    Settlement.objects.filter(debit__customer__in=customers).delete()
    Settlement.objects.filter(credit__customer__in=customers).delete()
    Invoice.objects.filter(customer__in=customers).delete()
    Payment.objects.filter(customer__in=customers).delete()
    if connection.vendor == "postgresql":  # the ledger's trigger lets only this delete through
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL b2b.ledger_reset = 'on'")
    LedgerEntry.objects.filter(customer__in=customers)._raw_delete(LedgerEntry.objects.db)


STEPS = [("finance", seed_finance, reset_finance)]
