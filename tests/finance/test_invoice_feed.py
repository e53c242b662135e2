"""POST /api/integration/v1/invoices: Turkish e-invoices from the ERP (DESIGN.md, "Current
account": invoices are issued in the ERP, the number has the tax authority's 16-character
form, the ETTN is a UUID; a 0 % VAT line is an exemption with a reason code)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from auditlog.models import LogEntry

from apps.core.models import OutboxEvent
from apps.finance.models import Invoice, InvoiceLine, LedgerEntry
from apps.finance.selectors import customer_balance
from apps.orders.selectors import open_orders_total
from tests.factories import CustomerFactory
from tests.finance.helpers import INVOICES, amount_of, b64, invoice, line, make_order, post

pytestmark = [pytest.mark.django_db]
D = Decimal


@pytest.fixture
def client(integration_client):
    return integration_client(scopes=["invoices:write", "payments:write"])


@pytest.fixture
def dealer():
    return CustomerFactory(code="BAYI-1", payment_terms_days=30)


def counts(body):
    return tuple(body[k] for k in ("received", "created", "updated", "unchanged", "failed"))


def test_a_new_invoice_is_recorded_with_its_lines_and_one_ledger_entry(client, dealer):
    record = invoice(lines=[line(), line("3", "10.0000", 10, sku="KBL-002"), line("1", "5", 0)])
    body = post(client, INVOICES, [record])

    assert counts(body) == (1, 1, 0, 0, 0)
    stored = Invoice.objects.get(number="ABC2026000000001")
    assert (stored.net_total, stored.vat_total, stored.gross_total) == (
        D("135.00"),
        D("23.00"),
        D("158.00"),
    )
    assert [(li.position, li.vat_rate, li.vat_exemption_code) for li in stored.lines.all()] == [
        (1, 20, ""),
        (2, 10, ""),
        (3, 0, "351"),
    ]
    entry = stored.ledger_entry
    assert (entry.kind, entry.amount, str(entry.entry_date), str(entry.due_date)) == (
        "invoice",
        D("158.00"),
        "2026-11-02",
        "2026-12-02",
    )
    assert entry.document_number == "ABC2026000000001"
    assert customer_balance(customer=dealer) == D("158.00")
    assert LogEntry.objects.get_for_model(Invoice).filter(object_id=stored.pk).count() == 1
    event = OutboxEvent.objects.get(type="invoice.created")
    assert event.subject == "invoice:ABC2026000000001" and event.customer_id == dealer.pk
    assert event.data["gross"] == "158.00" and event.data["customer_code"] == "BAYI-1"


def test_the_same_invoice_again_is_unchanged_and_other_content_fails(client, dealer):
    record = invoice()
    post(client, INVOICES, [record])
    again = post(client, INVOICES, [record])
    assert counts(again) == (1, 0, 0, 1, 0)

    changed = invoice(due_date="2026-12-31")
    body = post(client, INVOICES, [changed])
    assert counts(body) == (1, 0, 0, 0, 1)
    assert body["errors"][0]["errors"] == {
        "number": ["This invoice number is recorded with other content."]
    }
    assert LedgerEntry.objects.count() == 1 and str(Invoice.objects.get().due_date) == "2026-12-02"


@pytest.mark.parametrize(
    "spelling",
    [
        {"order_number": None},
        {"order_number": ""},
        {"pdf": None},
        {"pdf": ""},
        {"xml": " "},
        {"line_sku": None},
    ],
)
def test_an_optional_field_sent_empty_or_null_is_the_same_content(client, dealer, spelling):
    """finance.md: the same content again is unchanged, however an absent field is spelled."""
    first, again = invoice(), invoice()
    if "line_sku" in spelling:  # first sent without a SKU, then with "sku": null
        del first["lines"][0]["sku"]
        again["lines"][0]["sku"] = None
    else:
        again.update(spelling)
    assert counts(post(client, INVOICES, [first]))[1] == 1  # created
    assert counts(post(client, INVOICES, [again])) == (1, 0, 0, 1, 0)


def test_an_invoice_recorded_under_the_earlier_hash_is_still_the_same_content(client, dealer):
    """Invoices recorded before the spellings were made equal keep comparing equal."""
    from apps.finance.services import invoices as service

    record = {**invoice(), "order_number": None}
    post(client, INVOICES, [record])
    stored = Invoice.objects.get()
    parsed = next(iter(service_records(record)))
    Invoice.objects.filter(pk=stored.pk).update(
        content_hash=service._content_hash(parsed, legacy=True)
    )
    assert counts(post(client, INVOICES, [record])) == (1, 0, 0, 1, 0)


def service_records(record):
    """The record as the integration API's schema hands it to the service."""
    from apps.integrations.api.feeds import INVOICE_RECORD

    data, errors = INVOICE_RECORD.validate(record)
    assert errors == {}
    return [data]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"number": "AB2026000000001"}, "number", "Use the tax authority's form"),
        ({"number": "ABC2026000000001X"}, "number", "Ensure this field has no more than 16"),
        ({"number": "abc2026000000001"}, "number", "Use the tax authority's form"),
        ({"number": "ABC2025000000001"}, "number", "The year in the number"),
        ({"due_date": "2026-11-01"}, "due_date", "Must not be before issue_date."),
        ({"due_date": "9999-12-31"}, "due_date", "At most ten years after issue_date."),
        ({"due_date": "2036-11-01"}, "due_date", "At most ten years after issue_date."),
        ({"issue_date": "2026-W45-1"}, "issue_date", "Date has wrong format"),  # a week date
        ({"due_date": "20261202"}, "due_date", "Date has wrong format"),
        ({"customer_code": "NOBODY"}, "customer_code", "No dealer has this code."),
        ({"ettn": "not-a-uuid"}, "ettn", "Must be a valid UUID."),
        # Python reads these as UUIDs too; an ETTN is written 8-4-4-4-12, and nil names nothing
        ({"ettn": "00000000-0000-0000-0000-000000000000"}, "ettn", "Must be a valid UUID."),
        ({"ettn": "{3f2504e0-4f89-41d3-9a0c-0305e82c3301}"}, "ettn", "Must be a valid UUID."),
        ({"ettn": "3f2504e04f8941d39a0c0305e82c3301"}, "ettn", "Must be a valid UUID."),
        ({"ettn": "urn:uuid:3f2504e0-4f89-41d3-9a0c-0305e82c3301"}, "ettn", "Must be a valid"),
        ({"profile": "e-irsaliye"}, "profile", "is not a valid choice"),
        ({"issue_date": "02.11.2026"}, "issue_date", "Date has wrong format"),
        ({"lines": []}, "lines", "Ensure this field has at least 1 elements."),
        ({"order_number": "ORD-NOPE"}, "order_number", "This dealer has no order"),
        ({"xml": "not base64!"}, "xml", "Not valid base64."),
    ],
)
def test_a_bad_record_fails_alone_and_changes_nothing(client, dealer, change, field, message):
    good = invoice(number="ABC2026000000002")
    body = post(client, INVOICES, [invoice(**change), good])

    assert counts(body) == (2, 1, 0, 0, 1)
    error = body["errors"][0]
    assert error["index"] == 0
    assert message in " ".join(error["errors"][field]), error
    assert list(Invoice.objects.values_list("number", flat=True)) == ["ABC2026000000002"]
    assert LedgerEntry.objects.count() == 1


def test_totals_must_match_the_lines_to_the_kurus(client, dealer):
    record = invoice()
    record["totals"] = {**record["totals"], "net": "100.01", "gross": "120.01"}
    wrong_vat = invoice(number="ABC2026000000002", lines=[line(line_vat="20.01")])
    wrong_vat["totals"] = {"net": "100.00", "vat": "20.01", "gross": "120.01"}
    wrong_net = invoice(number="ABC2026000000003", lines=[line(line_net="100.01")])
    wrong_net["totals"] = {"net": "100.01", "vat": "20.00", "gross": "120.01"}
    wrong_gross = invoice(number="ABC2026000000004")
    wrong_gross["totals"] = {**wrong_gross["totals"], "gross": "120.02"}

    body = post(client, INVOICES, [record, wrong_vat, wrong_net, wrong_gross])

    errors = {e["index"]: e["errors"] for e in body["errors"]}
    assert errors[0] == {"totals.net": ["The lines' nets add up to 100.00."]}
    assert errors[1] == {
        "lines.0.line_vat": ["Must be line_net x vat_rate / 100 rounded to 2 places: 20.00."]
    }
    assert errors[2] == {
        "lines.0.line_net": ["Must be quantity x unit_net rounded to 2 places: 100.00."]
    }
    assert errors[3] == {"totals.gross": ["Must be net + vat."]}
    assert not Invoice.objects.exists() and not LedgerEntry.objects.exists()


def test_a_zero_rate_line_is_an_exemption_with_a_reason_code(client, dealer):
    no_code = invoice(lines=[line("1", "10", 0, vat_exemption_code="")])
    code_on_taxed = invoice(number="ABC2026000000002", lines=[line(vat_exemption_code="351")])
    odd_rate = invoice(number="ABC2026000000003", lines=[line(vat_rate=18, line_vat="18.00")])
    body = post(client, INVOICES, [no_code, code_on_taxed, odd_rate])

    errors = {e["index"]: e["errors"] for e in body["errors"]}
    assert errors[0] == {
        "lines.0.vat_exemption_code": ["A 0 % line is an exemption: give its 3-digit reason code."]
    }
    assert errors[1] == {
        "lines.0.vat_exemption_code": ["Only a 0 % line carries an exemption code."]
    }
    assert errors[2] == {"lines.0.vat_rate": ["Use one of 0, 1, 10, 20."]}


def test_an_ettn_belongs_to_one_invoice(client, dealer):
    first = invoice()
    second = invoice(number="ABC2026000000002", ettn=first["ettn"])
    body = post(client, INVOICES, [first, second])
    assert body["errors"] == [
        {
            "index": 1,
            "key": "ABC2026000000002",
            "errors": {"ettn": ["This ETTN belongs to another invoice."]},
        }
    ]


def test_the_invoiced_order_leaves_the_open_orders_exposure(client, dealer):
    order = make_order(dealer, status="shipped", gross="120.00")
    other = make_order(CustomerFactory())
    assert open_orders_total(customer=dealer) == D("120.00")

    body = post(
        client,
        INVOICES,
        [
            invoice(order_number=order.number),
            invoice(number="ABC2026000000002", order_number=other.number),  # not this dealer's
        ],
    )

    assert body["errors"][0]["errors"] == {
        "order_number": ["This dealer has no order with this number."]
    }
    order.refresh_from_db()
    assert order.invoiced_at is not None
    assert open_orders_total(customer=dealer) == D("0.00")
    assert customer_balance(customer=dealer) == D("120.00")  # now on the ledger instead


def test_a_delivered_order_invoiced_in_parts_counts_for_its_rest_until_invoiced(client, dealer):
    """Each invoice naming the order adds its gross to the order's ``invoiced_total``; the
    rest of a delivered order stays in the open orders until the invoices cover it."""
    order = make_order(dealer, status="delivered", gross="240.00")
    assert open_orders_total(customer=dealer) == D("240.00")

    post(client, INVOICES, [invoice(order_number=order.number)])  # 120.00 of it
    assert open_orders_total(customer=dealer) == D("120.00")
    post(client, INVOICES, [invoice(number="ABC2026000000002", order_number=order.number)])

    order.refresh_from_db()
    assert order.invoiced_total == D("240.00")
    assert open_orders_total(customer=dealer) == D("0.00")
    assert customer_balance(customer=dealer) == D("240.00")


def test_the_erp_files_are_stored_and_the_batch_needs_the_scope(client, dealer, integration_client):
    import base64

    mime = base64.encodebytes(b"%PDF-1.4 erp" * 20).decode()  # lines of 76 characters
    assert "\n" in mime.strip()
    record = invoice(xml=b64(b"<Invoice>UBL-TR</Invoice>"), pdf=mime)
    post(client, INVOICES, [record])
    stored = Invoice.objects.get()
    assert stored.xml.read() == b"<Invoice>UBL-TR</Invoice>"
    assert stored.pdf.name.startswith("invoices/") and stored.pdf.name.endswith(".pdf")
    assert stored.pdf.read() == b"%PDF-1.4 erp" * 20

    prices_only = integration_client(scopes=["prices:write"])
    assert prices_only.post(INVOICES, [record], format="json").status_code == 403


@pytest.mark.parametrize(
    ("field", "content", "message"),
    [
        ("pdf", b"<html><script>alert(1)</script></html>", "This is not a PDF file."),
        ("xml", b"%PDF-1.4 not XML", "This is not an XML document."),
        ("pdf", b"%PDF-" + b"x" * (5 * 1024 * 1024), "The file is larger than"),
    ],
)
def test_a_file_that_is_not_what_it_is_served_as_fails_alone(
    client, dealer, field, content, message
):
    """The PDF is served as application/pdf, the XML as application/xml: any bytes were
    taken (an HTML page as the PDF), and 5 MiB + 5 decoded bytes passed the size bound."""
    body = post(client, INVOICES, [invoice(**{field: b64(content)})])
    assert counts(body) == (1, 0, 0, 0, 1)
    assert body["errors"][0]["errors"][field][0].startswith(message)
    assert not Invoice.objects.exists()


UBL = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
    'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
    "<cbc:ProfileID>TICARIFATURA</cbc:ProfileID><cbc:ID>{number}</cbc:ID>"
    "<cbc:UUID>{ettn}</cbc:UUID>"
    "<cac:AccountingCustomerParty><cac:Party><cac:PartyIdentification>"
    '<cbc:ID schemeID="VKN">1234567890</cbc:ID></cac:PartyIdentification></cac:Party>'
    "</cac:AccountingCustomerParty></Invoice>"
)


def test_the_xml_must_be_this_invoices_document(client, dealer):
    """The XML is the legal e-invoice the dealer downloads: another invoice's document
    attached to this record (one dealer's invoice served to another) is refused, as is a
    document that is not well-formed or declares a DTD. A document without the ID or UUID is
    taken as it is."""
    other = CustomerFactory(code="BAYI-2")
    record = invoice()
    theirs = invoice(number="ABC2026000000002", customer_code=other.code)
    own = UBL.format(number=record["number"], ettn=record["ettn"].upper())
    wrong_number = UBL.format(number=theirs["number"], ettn=record["ettn"])
    wrong_ettn = UBL.format(number=record["number"], ettn=theirs["ettn"])
    doctype = '<!DOCTYPE x [<!ENTITY a "aaaa">]><Invoice>&a;</Invoice>'
    body = post(
        client,
        INVOICES,
        [
            invoice(number="ABC2026000000003", xml=b64(wrong_number.encode())),
            invoice(number="ABC2026000000004", xml=b64(b"<not xml")),
            invoice(number="ABC2026000000005", xml=b64(doctype.encode())),
            {**record, "xml": b64(wrong_ettn.encode())},
        ],
    )
    assert counts(body) == (4, 0, 0, 0, 4)
    errors = {e["index"]: e["errors"]["xml"][0] for e in body["errors"]}
    assert errors[0] == "The document is invoice ABC2026000000002, not ABC2026000000003."
    assert errors[1].startswith("This is not a well-formed XML document (line 1")
    assert errors[2] == "The XML document may not declare a document type (DTD)."
    assert errors[3].startswith("The document's ETTN is ")
    assert not Invoice.objects.exists()

    assert counts(post(client, INVOICES, [{**record, "xml": b64(own.encode())}]))[1] == 1
    assert Invoice.objects.get().xml.read() == own.encode()


def test_many_invoices_cost_a_constant_number_of_queries(
    client, dealer, django_assert_max_num_queries
):
    def batch(start, size):
        return [
            invoice(number=f"ABC2026{n:09d}", lines=[line(), line("1", "3", 1)])
            for n in range(start, start + size)
        ]

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    post(client, INVOICES, batch(500, 1))  # warm: content types are cached after one use
    with CaptureQueriesContext(connection) as small:
        post(client, INVOICES, batch(1, 2))
    with CaptureQueriesContext(connection) as large:
        post(client, INVOICES, batch(100, 40))
    assert len(large) == len(small)
    assert InvoiceLine.objects.count() == 86
    assert customer_balance(customer=dealer) == 43 * amount_of(batch(1, 1)[0])


def test_a_bad_number_is_told_with_the_records_other_mistakes(client, dealer):
    """The number's form was judged only once the record's other fields were right: a
    connector fixed one mistake, sent again, and heard of the next."""
    record = invoice(number="abc2026000000001", ettn="not-a-uuid")
    body = post(client, INVOICES, [record])
    (error,) = body["errors"]
    assert {"number", "ettn"} <= set(error["errors"]), error
    assert "Use the tax authority's form" in error["errors"]["number"][0]
    assert not Invoice.objects.exists()


def test_a_numbers_wrong_year_is_told_with_the_records_other_mistakes(client, dealer):
    """The year inside the number (the year of issue_date) was judged only once the record's
    fields were right; a record right in form but for that year is told it as before."""
    record = invoice(number="ABC2025000000001", ettn="not-a-uuid")
    (error,) = post(client, INVOICES, [record])["errors"]
    assert {"number", "ettn"} <= set(error["errors"]), error
    assert "The year in the number" in error["errors"]["number"][0]

    # a number the issue date cannot be compared with is not judged by its year
    record = invoice(number="ABC2025000000001", issue_date="02.11.2026")
    (error,) = post(client, INVOICES, [record])["errors"]
    assert set(error["errors"]) == {"issue_date"}, error

    (error,) = post(client, INVOICES, [invoice(number="ABC2025000000001")])["errors"]
    assert error["errors"] == {"number": ["The year in the number is not the year of issue_date."]}
    assert not Invoice.objects.exists()
