"""The ERP's invoices: ``invoice_create_many`` records a batch of Turkish e-invoices.

A record is ``{number, ettn, profile, customer_code, order_number?, issue_date, due_date,
lines: [{sku?, description, quantity, unit_net, vat_rate, vat_exemption_code?, line_net,
line_vat}], totals: {net, vat, gross}, xml?, pdf?}`` (types checked by the integration API;
``xml`` and ``pdf`` as bytes). The rules here are the document's own:

* ``number`` has the tax authority's form: 3 letters or digits, the year of ``issue_date``,
  9 digits (``ABC2026000000001``); ``due_date`` is not before ``issue_date``;
* each line: ``line_net = round2(quantity x unit_net)``, ``line_vat = round2(line_net x
  vat_rate / 100)`` (DESIGN.md's VAT rule), the rate one of Turkey's (0, 1, 10, 20), a 0 %
  line an exemption with its 3-digit reason code (and no code on a taxed line);
* the totals match the lines to the kuruş: net = the lines' nets, vat = their VAT, gross =
  net + vat (and more than zero);
* the dealer exists; the order, when named, is that dealer's.

An invoice is never changed: a number already recorded with the same content is
``unchanged``, with other content it fails (so does an ETTN already used by another number).
Each new invoice writes, in one transaction per batch: its ``invoice`` ledger entry (amount
the gross, dated the issue date, due the due date), the invoice and its lines, the order's
``invoiced_at`` (it leaves the open-orders exposure), the settlement of the dealer's unused
credits (``ledger_settle``), the audit entries and an ``invoice.created`` event. The files go
to the configured storage before the transaction (a file whose invoice is then refused is
deleted again).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.accounts.models import Customer
from apps.core.bulk import (
    CREATED,
    UNCHANGED,
    Errors,
    Result,
    analyze_stale,
    audit_created_many,
    rows_copy,
    write_new_settling,
)
from apps.core.clock import recorded_date_problem
from apps.core.money import round2
from apps.finance.descriptions import cancellation_credit_text, invoice_text
from apps.finance.events import invoices_created_emit
from apps.finance.models import Invoice, InvoiceLine, LedgerEntry, invoice_file_path
from apps.finance.services.ledger import MAX_DUE_DAYS, ledger_post, ledger_settle
from apps.finance.ubl import UblProblem, ubl_identity
from apps.orders.models import Order, OrderStatus
from apps.orders.services.invoicing import orders_mark_invoiced

NUMBER = re.compile(r"[A-Z0-9]{3}(?P<year>[0-9]{4})[0-9]{9}")
NUMBER_FORM = gettext_lazy(
    "Use the tax authority's form: 3 letters or digits, the year, 9 digits (ABC2026000000001)."
)
EXEMPTION_CODE = re.compile(r"[0-9]{3}")
VAT_RATES = (0, 1, 10, 20)
HUNDRED = Decimal(100)
AUDITED = ("number", "ettn", "profile", "issue_date", "due_date", "gross_total")
LEDGER_AUDITED = ("kind", "amount", "entry_date", "due_date", "document_number")


def invoice_create_many(
    *, records: Mapping[int, Mapping[str, Any]], batch_id=None, remote_addr=None
) -> Result:
    """Record new invoices: ``({index: "created" | "unchanged"}, {index: errors})``. Each
    ``number`` may appear once in ``records`` (the caller refuses repeats)."""
    customers = {
        c.code: c
        for c in Customer.objects.filter(code__in={r["customer_code"] for r in records.values()})
    }
    order_numbers = {r["order_number"] for r in records.values() if r.get("order_number")}
    orders = {
        number: (pk, customer_id, status)
        for number, pk, customer_id, status in Order.objects.filter(
            number__in=order_numbers
        ).values_list("number", "pk", "customer_id", "status")
    }
    return write_new_settling(
        records,
        lambda some: _sorted_out(some, customers, orders),
        lambda part: _write(part, customers, orders, batch_id, remote_addr),
    )


def _sorted_out(
    records: Mapping[int, Mapping[str, Any]], customers, orders
) -> tuple[dict[int, str], dict[int, Errors], list[tuple[int, dict]]]:
    """The records against what is stored: ``unchanged`` (the same content under its
    number), errors (bad records, a number with other content, an ETTN taken), and the new
    ones to write."""
    # by number and by ETTN in one statement, one snapshot: read apart, a concurrent batch
    # committing the same invoice between the two reads made it "an ETTN of another invoice"
    stored: dict[str, tuple[str, Any]] = {}
    ettns: dict[Any, str] = {}
    for number, content_hash, ettn in Invoice.objects.filter(
        Q(number__in={r["number"] for r in records.values()})
        | Q(ettn__in={r["ettn"] for r in records.values()})
    ).values_list("number", "content_hash", "ettn"):
        stored[number] = (content_hash, ettn)
        ettns[ettn] = number
    outcomes: dict[int, str] = {}
    errors: dict[int, Errors] = {}
    new: list[tuple[int, dict]] = []
    ettn_in_batch: dict[Any, int] = {}
    for index, record in records.items():
        record_errors = _check(record, customers, orders)
        if record_errors:
            errors[index] = record_errors
            continue
        content_hash = _content_hash(record)
        if record["number"] in stored:
            if stored[record["number"]][0] in (content_hash, _content_hash(record, legacy=True)):
                outcomes[index] = UNCHANGED
            else:
                errors[index] = {
                    "number": [_("This invoice number is recorded with other content.")]
                }
            continue
        if record["ettn"] in ettns or ettn_in_batch.setdefault(record["ettn"], index) != index:
            errors[index] = {"ettn": [_("This ETTN belongs to another invoice.")]}
            continue
        closed = _closed_order_error(record, orders)  # a new invoice only: a resent one is
        if closed:  # unchanged, whatever became of its order since
            errors[index] = closed
            continue
        new.append((index, {**record, "content_hash": content_hash}))
    return outcomes, errors, new


def _closed_order_error(record, orders) -> Errors:
    """A new invoice naming an order cancelled or rejected before: the dealer was told it gets
    nothing and owes nothing (an order cancelled after its invoice is credited:
    ``invoices_order_cancelled``); the ERP decides again."""
    order = orders.get(record.get("order_number") or "")
    if order is None or order[2] not in (OrderStatus.CANCELLED, OrderStatus.REJECTED):
        return {}
    message = _(
        "Order %(n)s is %(status)s: an invoice cannot name it. Send the invoice "
        "without order_number if the dealer owes it all the same."
    ) % {"n": record["order_number"], "status": OrderStatus(order[2]).label}
    return {"order_number": [message]}


def number_year_problem(number: str, issue_date) -> str | None:
    """What is wrong with the year inside an invoice ``number`` of the tax authority's form
    (``NUMBER``): it must be the year of ``issue_date``."""
    match = NUMBER.fullmatch(number)
    if match is not None and int(match["year"]) != issue_date.year:
        return _("The year in the number is not the year of issue_date.")
    return None


def _check(record, customers, orders) -> Errors:
    errors: Errors = {}
    if NUMBER.fullmatch(record["number"]) is None:
        errors["number"] = [str(NUMBER_FORM)]
    elif year_problem := number_year_problem(record["number"], record["issue_date"]):
        errors["number"] = [year_problem]
    problem = recorded_date_problem(record["issue_date"])
    if problem:
        errors["issue_date"] = [problem]
    if record["due_date"] < record["issue_date"]:
        errors["due_date"] = [_("Must not be before issue_date.")]
    elif (record["due_date"] - record["issue_date"]).days > MAX_DUE_DAYS:
        # as the back office's entries: a due date in 9999 stayed "not due" forever
        errors["due_date"] = [_("At most ten years after issue_date.")]
    customer = customers.get(record["customer_code"])
    if customer is None:
        errors["customer_code"] = [_("No dealer has this code.")]
    if record.get("order_number"):
        order = orders.get(record["order_number"])
        if order is None or (customer is not None and order[1] != customer.pk):
            errors["order_number"] = [_("This dealer has no order with this number.")]

    net = vat = Decimal("0.00")
    for position, line in enumerate(record["lines"]):
        for field, messages in _check_line(line).items():
            errors[f"lines.{position}.{field}"] = messages
        net += line["line_net"]
        vat += line["line_vat"]
    totals = record["totals"]
    if totals["net"] != net:
        errors["totals.net"] = [_("The lines' nets add up to %(sum)s.") % {"sum": net}]
    if totals["vat"] != vat:
        errors["totals.vat"] = [_("The lines' VAT adds up to %(sum)s.") % {"sum": vat}]
    if totals["gross"] != totals["net"] + totals["vat"]:
        errors["totals.gross"] = [_("Must be net + vat.")]
    elif totals["gross"] <= 0:
        errors["totals.gross"] = [_("An invoice must be for more than zero.")]
    if record.get("xml"):
        problem = _xml_problem(record)
        if problem:
            errors["xml"] = [problem]
    return errors


def _xml_problem(record) -> str | None:
    """Why the record's UBL-TR document is not this invoice's: not well-formed, a DTD, or its
    own number or ETTN naming another invoice (``apps.finance.ubl``)."""
    try:
        identity = ubl_identity(record["xml"])
    except UblProblem as exc:
        return str(exc)
    if identity.number is not None and identity.number != record["number"]:
        return _("The document is invoice %(found)s, not %(number)s.") % {
            "found": identity.number[:40],
            "number": record["number"],
        }
    if identity.ettn is not None and identity.ettn.lower() != str(record["ettn"]).lower():
        return _("The document's ETTN is %(found)s, not this invoice's %(ettn)s.") % {
            "found": identity.ettn[:40],
            "ettn": record["ettn"],
        }
    return None


def _check_line(line) -> Errors:
    errors: Errors = {}
    if line["quantity"] <= 0:
        errors["quantity"] = [_("Must be more than zero.")]
    if line["line_net"] != round2(line["quantity"] * line["unit_net"]):
        errors["line_net"] = [
            _("Must be quantity x unit_net rounded to 2 places: %(value)s.")
            % {"value": round2(line["quantity"] * line["unit_net"])}
        ]
    rate = line["vat_rate"]
    code = (line.get("vat_exemption_code") or "").strip()
    if rate not in VAT_RATES:
        errors["vat_rate"] = [_("Use one of 0, 1, 10, 20.")]
    elif line["line_vat"] != round2(line["line_net"] * rate / HUNDRED):
        errors["line_vat"] = [
            _("Must be line_net x vat_rate / 100 rounded to 2 places: %(value)s.")
            % {"value": round2(line["line_net"] * rate / HUNDRED)}
        ]
    if rate == 0 and not EXEMPTION_CODE.fullmatch(code):
        errors["vat_exemption_code"] = [
            # xgettext:no-python-format
            _("A 0 % line is an exemption: give its 3-digit reason code.")
        ]
    elif rate != 0 and code:
        # xgettext:no-python-format
        errors["vat_exemption_code"] = [_("Only a 0 % line carries an exemption code.")]
    return errors


def _content_hash(record, *, legacy: bool = False) -> str:
    """The record's content, independent of how the ERP spelled it (decimals at their places,
    files by their digest, an optional field sent empty, ``null`` or not at all): equal
    hashes, the same invoice. ``legacy``: as invoices recorded before 2026-12-06 were hashed
    (an empty or ``null`` optional field counted as content), so those still compare equal."""
    content = {
        key: value for key, value in record.items() if key not in ("xml", "pdf", "content_hash")
    }
    for key in ("xml", "pdf"):
        content[key] = hashlib.sha256(record[key]).hexdigest() if record.get(key) else None
    content["lines"] = [
        {**line, "vat_exemption_code": (line.get("vat_exemption_code") or "").strip()}
        for line in record["lines"]
    ]
    if not legacy:
        content = _given(content)
        content["lines"] = [_given(line) for line in content["lines"]]
    text = json.dumps(content, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _given(fields: dict) -> dict:
    """The fields that carry a value: an empty or ``null`` one is as good as absent."""
    return {key: value for key, value in fields.items() if value not in (None, "")}


def _save_files(record) -> dict[str, str]:
    names = {}
    for kind in ("xml", "pdf"):
        if record.get(kind):
            name = invoice_file_path(None, f"{record['number']}.{kind}")
            names[kind] = default_storage.save(name, ContentFile(record[kind]))
    return names


def _write(part: Sequence[tuple[int, dict]], customers, orders, batch_id, remote_addr) -> Result:
    files = {index: _save_files(record) for index, record in part}
    try:
        with transaction.atomic():
            return _insert(part, files, customers, orders, batch_id, remote_addr)
    except Exception:
        for names in files.values():  # refused: its files go too
            for name in names.values():
                default_storage.delete(name)
        raise


def _orders_locked(part, customers, orders) -> list[Order]:
    """The orders the part's invoices name, locked as every order write locks them (the
    company first, then the order), so a cancel running meanwhile either waits for these
    invoices and credits them, or is seen here: those cancelled (or rejected) are answered
    below. The companies of invoices naming no order are not locked."""
    named = [r for _i, r in part if r.get("order_number")]
    if not named:
        return []
    company_ids = sorted({customers[r["customer_code"]].pk for r in named})
    list(Customer.objects.select_for_update().filter(pk__in=company_ids).values_list("pk"))
    order_ids = sorted({orders[r["order_number"]][0] for r in named})
    return list(
        Order.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(pk__in=order_ids)
        .order_by("pk")
    )


def _insert(part, files, customers, orders, batch_id, remote_addr) -> Result:
    locked = _orders_locked(part, customers, orders)
    now = timezone.now()
    entries = LedgerEntry.objects.bulk_create(
        LedgerEntry(
            customer=customers[record["customer_code"]],
            kind=LedgerEntry.Kind.INVOICE,
            amount=record["totals"]["gross"],
            entry_date=record["issue_date"],
            due_date=record["due_date"],
            document_number=record["number"],
            description=invoice_text(record["number"]),
            created_at=now,
        )
        for _index, record in part
    )
    invoices = Invoice.objects.bulk_create(
        Invoice(
            number=record["number"],
            ettn=record["ettn"],
            profile=record["profile"],
            customer=customers[record["customer_code"]],
            order_id=orders[record["order_number"]][0] if record.get("order_number") else None,
            issue_date=record["issue_date"],
            due_date=record["due_date"],
            net_total=record["totals"]["net"],
            vat_total=record["totals"]["vat"],
            gross_total=record["totals"]["gross"],
            xml=files[index].get("xml", ""),
            pdf=files[index].get("pdf", ""),
            content_hash=record["content_hash"],
            ledger_entry=entry,
            created_at=now,
        )
        for (index, record), entry in zip(part, entries, strict=True)
    )
    rows_copy(
        InvoiceLine,
        fields=("invoice", *InvoiceLine.DOCUMENT_FIELDS),
        rows=(
            (
                invoice.pk,
                position + 1,
                line.get("sku") or "",
                line["description"],
                line["quantity"],
                line["unit_net"],
                line["vat_rate"],
                (line.get("vat_exemption_code") or "").strip(),
                line["line_net"],
                line["line_vat"],
            )
            for (_index, record), invoice in zip(part, invoices, strict=True)
            for position, line in enumerate(record["lines"])
        ),
    )
    orders_mark_invoiced(
        invoices=[(i.order_id, i.gross_total) for i in invoices if i.order_id], at=now
    )
    ledger_settle(customer_ids={invoice.customer_id for invoice in invoices})
    audit_created_many(
        model=Invoice,
        objects=invoices,
        fields=AUDITED,
        timestamp=now,
        remote_addr=remote_addr,
        batch_id=batch_id,
    )
    audit_created_many(
        model=LedgerEntry,
        objects=entries,
        fields=LEDGER_AUDITED,
        timestamp=now,
        remote_addr=remote_addr,
        batch_id=batch_id,
    )
    invoices_created_emit(
        invoices,
        customer_codes={record["number"]: record["customer_code"] for _i, record in part},
        order_numbers={
            record["number"]: record["order_number"]
            for _i, record in part
            if record.get("order_number")
        },
    )
    # an order cancelled after this batch was checked and before its lock was ours: its
    # invoices are credited, as a cancel after the invoice credits them
    for order in locked:
        if order.status in (OrderStatus.CANCELLED, OrderStatus.REJECTED):
            invoices_order_cancelled(sender=Order, order=order)
    analyze_stale((LedgerEntry, Invoice, InvoiceLine), written=len(invoices))
    return {index: CREATED for index, _record in part}, {}


def invoices_order_cancelled(sender, order, by=None, **kwargs) -> None:
    """``order_cancelled``: staff or the ERP cancelled an order the ERP had invoiced (a dealer
    cannot: 409 ``order_invoiced``). Its invoices are credited in full, in the same
    transaction, by one credit note named after the order, which pays them first: the dealer
    no longer owes for goods it will not get, and the invoices leave the overdue lists and the
    reminders. What a payment had paid of them stays on the dealer's account as credit."""
    invoices = list(
        Invoice.objects.filter(order=order)
        .order_by("issue_date", "id")
        .values_list("ledger_entry_id", "gross_total")
    )
    if not invoices:
        return
    # what earlier credit notes of the cancellation covered: a second call of the same
    # cancellation credits nothing more; an invoice that raced the cancel (it saw the order
    # open, then waited for its lock) is credited now, on its own
    credited = -(
        LedgerEntry.objects.filter(
            customer_id=order.customer_id,
            kind=LedgerEntry.Kind.CREDIT_NOTE,
            document_number=order.number,
        ).aggregate(total=Sum("amount"))["total"]
        or 0
    )
    owed = sum(gross for _entry, gross in invoices) - credited
    if owed <= 0:
        return
    ledger_post(
        customer=order.customer,
        kind=LedgerEntry.Kind.CREDIT_NOTE,
        amount=-owed,
        by=by,
        description=cancellation_credit_text(order.number),
        document_number=order.number,
        settles=[entry for entry, _gross in invoices],
    )
