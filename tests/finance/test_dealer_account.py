"""The dealer's side of the current account: invoices (list, detail, PDF, XML), the statement
(JSON, CSV, PDF) and aging (DESIGN.md, "Current account"; API.md, finance endpoints)."""

from __future__ import annotations

import csv
import datetime
import io
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from apps.finance.models import LedgerEntry
from apps.finance.selectors import AGING_BUCKETS, aging, customer_balance, statement
from apps.finance.services.ledger import ledger_post
from tests.factories import CustomerFactory
from tests.finance.helpers import INVOICES, PAYMENTS, b64, invoice, line, payment, post

pytestmark = [pytest.mark.django_db]
D = Decimal
TODAY = timezone.localdate


@pytest.fixture
def erp(integration_client):
    return integration_client(scopes=["invoices:write", "payments:write"])


@pytest.fixture
def owner(dealer_client):
    client = dealer_client("owner", customer=CustomerFactory(code="BAYI-1"))
    return client


def _invoice_dates(days_ago_issued: int, days_to_due: int) -> dict:
    issued = TODAY() - datetime.timedelta(days=days_ago_issued)
    return {
        "issue_date": issued.isoformat(),
        "due_date": (issued + datetime.timedelta(days=days_to_due)).isoformat(),
    }


def _number(n: int, issued: str) -> str:
    return f"ABC{issued[:4]}{n:09d}"


def _send(erp, n, days_ago_issued, days_to_due, **extra):
    dates = _invoice_dates(days_ago_issued, days_to_due)
    record = invoice(number=_number(n, dates["issue_date"]), **dates, **extra)
    post(erp, INVOICES, [record])
    return record["number"]


# --- invoices ---------------------------------------------------------------------------------


def test_the_invoice_list_shows_status_paid_and_open_and_filters(erp, owner):
    overdue = _send(erp, 1, 40, 10)  # due 30 days ago
    paid = _send(erp, 2, 20, 30)
    not_due = _send(erp, 3, 5, 30)
    post(
        erp, PAYMENTS, [payment(amount="120.00", invoice_numbers=[paid], date=TODAY().isoformat())]
    )

    body = owner.get("/api/v1/invoices").json()
    by_number = {i["number"]: i for i in body["results"]}
    assert {n: (i["status"], i["paid_amount"], i["open_amount"]) for n, i in by_number.items()} == {
        overdue: ("overdue", "0.00", "120.00"),
        paid: ("paid", "120.00", "0.00"),
        not_due: ("open", "0.00", "120.00"),
    }
    assert [i["number"] for i in body["results"]] == [not_due, paid, overdue]  # newest first

    def numbers(query):
        response = owner.get(f"/api/v1/invoices?{query}")
        assert response.status_code == 200, response.json()
        return {i["number"] for i in response.json()["results"]}

    assert numbers("status=overdue") == {overdue}
    assert numbers("status=paid") == {paid}
    assert numbers("status=open") == {not_due}
    since = (TODAY() - datetime.timedelta(days=25)).isoformat()
    assert numbers(f"issued_from={since}") == {paid, not_due}
    assert numbers(f"issued_to={since}") == {overdue}


def test_the_invoice_list_filters_by_order_and_refuses_bad_filters(erp, owner):
    from tests.finance.helpers import make_order

    order = make_order(owner.user.customer)
    number = _send(erp, 1, 3, 30, order_number=order.number)
    _send(erp, 2, 3, 30)
    assert [
        i["number"] for i in owner.get(f"/api/v1/invoices?order={order.number}").json()["results"]
    ] == [number]
    for query, field in [
        ("status=late", "status"),
        ("issued_from=01.12.2026", "issued_from"),
        ("issued_from=2026-12-02&issued_to=2026-12-01", "issued_to"),
    ]:
        response = owner.get(f"/api/v1/invoices?{query}")
        assert response.status_code == 400 and field in response.json()["errors"], query


def test_the_invoice_list_costs_the_same_queries_for_2_and_30_invoices(erp, owner):
    for n in range(2):
        _send(erp, n + 1, 3, 30)
    with CaptureQueriesContext(connection) as few:
        assert owner.get("/api/v1/invoices").status_code == 200
    for n in range(2, 30):
        _send(erp, n + 1, 3, 30)
    with CaptureQueriesContext(connection) as many:
        assert len(owner.get("/api/v1/invoices?page_size=50").json()["results"]) == 30
    assert len(many) == len(few)


def test_aging_costs_the_same_queries_for_2_and_20_open_invoices(erp, owner):
    for n in range(2):
        _send(erp, n + 1, 10 + 30 * n, 30)
    with CaptureQueriesContext(connection) as few:
        assert owner.get("/api/v1/account/aging").json()["total"] == "240.00"
    for n in range(2, 20):
        _send(erp, n + 1, 10 + 10 * n, 30)
    with CaptureQueriesContext(connection) as many:
        body = owner.get("/api/v1/account/aging").json()
    assert sum(len(bucket["items"]) for bucket in body["buckets"]) == 20
    assert len(many) == len(few)


def test_invoice_detail_shows_lines_and_what_paid_it(erp, owner):
    number = _send(erp, 1, 10, 30, lines=[line(), line("1", "8.5", 0)])
    post(erp, PAYMENTS, [payment("DEK-9", amount="50.00", date=TODAY().isoformat())])
    body = owner.get(f"/api/v1/invoices/{number}").json()
    assert [(li["position"], li["vat_rate"], li["vat_exemption_code"]) for li in body["lines"]] == [
        (1, 20, ""),
        (2, 0, "351"),
    ]
    assert body["gross"] == "128.50" and body["open_amount"] == "78.50"
    assert body["payments"] == [
        {
            "document_number": "DEK-9",
            "type": "payment",
            "date": TODAY().isoformat(),
            "amount": "50.00",
        }
    ]


def test_the_erp_pdf_and_xml_are_served_and_404_without_them(erp, owner):
    """API.md: the PDF and the UBL-TR XML, 404 when the ERP sent none (the API served a PDF
    rendered by us as if it were the e-invoice's)."""
    with_files = _send(erp, 1, 3, 30, xml=b64(b"<Invoice/>"), pdf=b64(b"%PDF-1.4 from the ERP"))
    without = _send(erp, 2, 3, 30)

    pdf = owner.get(f"/api/v1/invoices/{with_files}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert (
        b"".join(pdf.streaming_content if pdf.streaming else [pdf.content])
        == b"%PDF-1.4 from the ERP"
    )
    xml = owner.get(f"/api/v1/invoices/{with_files}/xml")
    assert xml.status_code == 200 and xml.content == b"<Invoice/>"
    assert f'filename="{with_files}.xml"' in xml["Content-Disposition"]
    assert owner.get(f"/api/v1/invoices/{with_files}").json()["has_pdf"] is True
    assert owner.get(f"/api/v1/invoices/{without}").json()["has_pdf"] is False
    for kind in ("xml", "pdf"):
        missing = owner.get(f"/api/v1/invoices/{without}/{kind}")
        assert missing.status_code == 404 and missing.json()["code"] == "not_found", kind
        assert "ERP" in missing.json()["detail"], kind
    assert owner.get("/api/v1/invoices/ABC2026999999999").status_code == 404


def test_purchasing_users_see_no_invoices_or_statement(erp, dealer_client, owner):
    number = _send(erp, 1, 3, 30)
    buyer = dealer_client("purchasing", customer=owner.user.customer)
    for url in (
        "/api/v1/invoices",
        f"/api/v1/invoices/{number}",
        "/api/v1/account/statement",
        "/api/v1/account/aging",
    ):
        assert buyer.get(url).status_code == 403, url
    finance = dealer_client("finance", customer=owner.user.customer)
    assert finance.get(f"/api/v1/invoices/{number}").status_code == 200


# --- PDFs, checked as images --------------------------------------------------------------------

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) is installed by .ci/run"
)


def _pages(pdf: bytes, tmp_path) -> int:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info)[1])


def _first_page_ink(pdf: bytes, tmp_path) -> float:
    """The share of page 1's pixels that are not white, rendered by pdftoppm."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
        check=True,
    )
    image = Image.open(next(tmp_path.glob("page*.png"))).convert("L")
    dark = sum(image.histogram()[:200])
    return dark / (image.width * image.height)


def _portal(owner):
    """A browser signed in to the dealer portal as ``owner``'s user."""
    browser = Client()
    browser.force_login(owner.user)
    return browser


@needs_poppler
def test_the_portal_renders_an_invoice_the_erp_sent_without_a_pdf(erp, owner, tmp_path):
    number = _send(erp, 1, 3, 30, lines=[line(), line("3", "12.3456", 10), line("1", "5", 0)])
    response = _portal(owner).get(f"/portal/invoices/{number}/pdf/", HTTP_ACCEPT_LANGUAGE="tr")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert _pages(response.content, tmp_path) == 1
    assert _first_page_ink(response.content, tmp_path) > 0.01


@needs_poppler
@pytest.mark.parametrize(
    ("profile", "title", "note"),
    [
        ("e-fatura", "e-Fatura", "GİB'e kayıtlı e-faturanın görsel kopyasıdır"),
        ("e-arsiv", "e-Arşiv fatura", "GİB'e raporlanan e-Arşiv faturanın görsel kopyasıdır"),
    ],
)
def test_the_rendered_invoice_names_its_own_profile(erp, owner, tmp_path, profile, title, note):
    # an e-Arşiv invoice is not an e-Fatura: its footnote said it was
    number = _send(erp, 1, 3, 30, profile=profile)
    response = _portal(owner).get(f"/portal/invoices/{number}/pdf/", HTTP_ACCEPT_LANGUAGE="tr")
    path = tmp_path / "invoice.pdf"
    path.write_bytes(response.content)
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert title in text and note in text, text
    other = "e-Arşiv" if profile == "e-fatura" else "e-faturanın"
    assert other not in text, text


@pytest.mark.parametrize(
    ("path", "accept", "starts"),
    [
        ("pdf", "application/pdf", b"%PDF"),
        ("pdf", "application/octet-stream", b"%PDF"),
        ("pdf", "text/html", b"%PDF"),
    ],
)
def test_a_document_is_answered_whatever_accept_asks(erp, owner, path, accept, starts):
    """The schema says 200 application/pdf: a client asking for exactly that got 406."""
    number = _send(erp, 1, 3, 30, pdf=b64(b"%PDF-1.4 from the ERP"))
    response = owner.get(f"/api/v1/invoices/{number}/{path}", HTTP_ACCEPT=accept)
    assert response.status_code == 200, response.content[:200]
    assert response.content.startswith(starts)
    statement = owner.get("/api/v1/account/statement?format=csv", HTTP_ACCEPT="text/csv")
    assert statement.status_code == 200 and statement["Content-Type"].startswith("text/csv")
    missing = owner.get("/api/v1/invoices/NOPE/pdf", HTTP_ACCEPT="application/pdf")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


@needs_poppler
def test_the_statement_pdf_has_its_pages_and_is_not_blank(erp, owner, tmp_path):
    customer = owner.user.customer
    start = TODAY() - datetime.timedelta(days=200)
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            customer=customer,
            kind="invoice",
            amount=D("10.00") + n,
            entry_date=start + datetime.timedelta(days=n),
            document_number=f"F-{n}",
        )
        for n in range(150)
    )
    response = owner.get(f"/api/v1/account/statement?format=pdf&date_from={start}")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert _pages(response.content, tmp_path) >= 3  # 150 rows do not fit on one A4 page
    assert _first_page_ink(response.content, tmp_path) > 0.01


def test_a_statement_pdf_of_more_entries_than_it_holds_is_a_400_naming_the_csv(owner, settings):
    """Laying out a PDF costs ~8 ms an entry: 12,500 entries ran past the web worker's timeout
    (a 500, and a worker held for 90 s). The JSON and the CSV hold any number."""
    settings.STATEMENT_PDF_MAX_ENTRIES = 20
    customer = owner.user.customer
    start = TODAY() - datetime.timedelta(days=30)
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            customer=customer,
            kind="invoice",
            amount=D("10.00"),
            entry_date=start + datetime.timedelta(days=n % 30),
            document_number=f"F-{n}",
        )
        for n in range(21)
    )
    url = f"/api/v1/account/statement?date_from={start}"
    refused = owner.get(f"{url}&format=pdf", HTTP_ACCEPT_LANGUAGE="tr")
    assert refused.status_code == 400
    assert refused.json()["errors"]["format"] == [
        "Bir PDF ekstre en çok 20 hareket tutar; bu dönemde 21 hareket var. Daha kısa bir "
        "dönem isteyin ya da CSV olarak indirin."
    ]
    assert owner.get(f"{url}&format=csv").status_code == 200
    assert len(owner.get(url).json()["entries"]) == 21
    shorter = owner.get(f"{url}&date_to={start + datetime.timedelta(days=10)}&format=pdf")
    assert shorter.status_code == 200 and shorter.content[:4] == b"%PDF"


def test_the_statement_pdf_is_printed_in_the_distributors_time_and_fits_its_numbers(
    owner, tmp_path
):
    # given: the API speaks UTC, but a document a dealer files says the distributor's day and
    # time (Istanbul, UTC+3 all year)
    import time_machine

    ledger_post(
        customer=owner.user.customer,
        kind="invoice",
        amount="120.00",
        entry_date=datetime.date(2026, 11, 2),
        document_number="DMO2026000010001",  # an e-invoice number: 16 characters
        description="Invoice DMO2026000010001",
    )
    moment = (timezone.now() + datetime.timedelta(minutes=1)).replace(second=0)
    with time_machine.travel(moment, tick=False):  # later than the login: the token holds
        response = owner.get("/api/v1/account/statement?format=pdf&date_from=2026-11-01")
    printed = (moment + datetime.timedelta(hours=3)).strftime("%d.%m.%Y %H:%M")
    assert response.status_code == 200
    path = tmp_path / "statement.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert f"Printed on {printed}." in " ".join(text.split()), text
    words = text.split()
    assert words.count("DMO2026000010001") == 2, text  # the number and the description's
    assert "02.11.2026" in words, text


# --- statement --------------------------------------------------------------------------------


def test_the_statement_has_opening_running_and_closing_balances(owner):
    customer = owner.user.customer
    day = datetime.date(2026, 3, 1)
    ledger_post(
        customer=customer,
        kind="opening_balance",
        amount="500.00",
        entry_date=datetime.date(2026, 1, 1),
    )
    ledger_post(
        customer=customer,
        kind="invoice",
        amount="200.00",
        entry_date=day,
        document_number="F-1",
        due_date=day,
    )
    ledger_post(
        customer=customer, kind="payment", amount="-300.00", entry_date=day, document_number="D-1"
    )
    ledger_post(
        customer=customer, kind="invoice", amount="50.00", entry_date=datetime.date(2026, 4, 1)
    )

    body = owner.get("/api/v1/account/statement?date_from=2026-02-01&date_to=2026-03-31").json()

    assert (body["opening_balance"], body["closing_balance"]) == ("500.00", "400.00")
    assert [
        (e["document_number"], e["type"], e["debit"], e["credit"], e["balance"])
        for e in body["entries"]
    ] == [
        ("F-1", "invoice", "200.00", "0.00", "700.00"),
        ("D-1", "payment", "0.00", "300.00", "400.00"),
    ]
    assert body["entries"][0]["due_date"] == "2026-03-01"


def test_what_the_system_wrote_on_the_ledger_reads_in_the_readers_language(owner):
    """An ERP invoice's or payment's entry (written in English) reads Turkish on a Turkish
    statement, and the other way round; what a person wrote stays as written."""
    from django.utils import translation

    from apps.finance.descriptions import invoice_text, payment_text

    customer = owner.user.customer
    day = datetime.date(2026, 3, 1)
    with translation.override("en"):
        english = {"invoice": invoice_text("ABC2026000000001"), "payment": payment_text("cheque")}
    ledger_post(
        customer=customer,
        kind="invoice",
        amount="200.00",
        entry_date=day,
        document_number="ABC2026000000001",
        description=english["invoice"],
    )
    ledger_post(
        customer=customer,
        kind="payment",
        amount="-50.00",
        entry_date=day,
        document_number="R-1",
        description=english["payment"],
    )
    with translation.override("tr"):
        turkish = payment_text("cheque")
    ledger_post(
        customer=customer,
        kind="adjustment",
        amount="5.00",
        reason="Kur farkı",
        description="Kur farkı düzeltmesi",
        entry_date=day,
    )
    url = "/api/v1/account/statement?date_from=2026-03-01&date_to=2026-03-31"

    def texts(language: str) -> list[str]:
        body = owner.get(url, HTTP_ACCEPT_LANGUAGE=language).json()
        return [e["description"] for e in body["entries"]]

    assert texts("tr") == ["Fatura ABC2026000000001", turkish, "Kur farkı düzeltmesi"]
    assert texts("en") == ["Invoice ABC2026000000001", "Cheque", "Kur farkı düzeltmesi"]


def test_the_default_statement_reaches_an_invoice_dated_tomorrow(erp, owner):
    """The ERP may date an invoice tomorrow (a day of grace for its time zone) and the balance
    counts it at once: the statement asked for without dates goes on to it, so it closes on
    the summary's balance."""
    number = _send(erp, 1, -1, 30)
    summary = owner.get("/api/v1/account/summary").json()
    body = owner.get("/api/v1/account/statement").json()
    assert body["date_to"] == (TODAY() + datetime.timedelta(days=1)).isoformat()
    assert body["date_from"] == TODAY().replace(month=1, day=1).isoformat()
    assert [entry["document_number"] for entry in body["entries"]] == [number]
    assert body["closing_balance"] == summary["balance"] == "120.00"
    # a period asked for is the period asked for
    today = owner.get(f"/api/v1/account/statement?date_to={TODAY().isoformat()}").json()
    assert today["entries"] == [] and today["closing_balance"] == "0.00"


def test_the_statement_csv_opens_in_excel_with_turkish_letters(owner):
    customer = owner.user.customer
    ledger_post(
        customer=customer,
        kind="adjustment",
        amount="1234.56",
        reason="Kur farkı",
        description="Kur farkı düzeltmesi",
        entry_date=datetime.date(2026, 3, 1),
    )
    ledger_post(
        customer=customer,
        kind="adjustment",
        amount="-0.56",
        reason="x",
        description="=HYPERLINK(1)",
        document_number="@SUM(1+1)",  # an ERP's receipt number is text we did not write either
        entry_date=datetime.date(2026, 3, 2),
    )

    plain = owner.get(
        "/api/v1/account/statement?format=csv&date_from=2026-01-01&date_to=2026-12-31"
    )
    assert plain.status_code == 200 and plain["Content-Type"].startswith("text/csv")
    assert plain.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(plain.content.decode("utf-8-sig"))))
    assert rows[2][4] == "Kur farkı düzeltmesi" and rows[2][5] == "1234.56"
    assert rows[3][4] == "'=HYPERLINK(1)"  # not run as a formula
    assert rows[3][2] == "'@SUM(1+1)"
    assert rows[-1][-1] == "1234.00"

    excel = owner.get(
        "/api/v1/account/statement?format=csv&separator=semicolon&date_from=2026-01-01&date_to=2026-12-31"
    )
    rows = list(csv.reader(io.StringIO(excel.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[2][5] == "1234,56" and rows[-1][-1] == "1234,00"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("format=xls", "format"),
        ("date_from=2026-13-01", "date_from"),
        ("date_from=2026-1-1", "date_from"),  # YYYY-MM-DD, as the message says
        ("date_to=２026-01-01", "date_to"),  # ASCII digits only
        ("date_from=2026-05-01&date_to=2026-04-01", "date_to"),
        ("separator=tab", "separator"),
        ("date_from=2000-01-01&date_to=2026-12-06", "date_to"),
        # one date alone is no way around the 10 years: the other is filled in first
        ("date_from=0001-01-01", "date_from"),
        ("date_from=9999-01-01", "date_from"),  # after today, the default end
    ],
)
def test_a_bad_statement_query_is_a_400_naming_the_field(owner, query, field):
    response = owner.get(f"/api/v1/account/statement?{query}")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    # in words a portal reader knows too: no parameter names inside the message
    assert "date_to" not in str(response.json()["errors"][field])


def test_the_statement_costs_the_same_queries_for_10_and_1000_entries(owner):
    customer = owner.user.customer

    def add(count):
        LedgerEntry.objects.bulk_create(
            LedgerEntry(
                customer=customer,
                kind="invoice",
                amount=D("1.00"),
                entry_date=datetime.date(2026, 5, 1),
            )
            for _ in range(count)
        )

    add(10)
    with CaptureQueriesContext(connection) as few:
        owner.get("/api/v1/account/statement?date_from=2026-01-01&date_to=2026-12-31")
    add(990)
    with CaptureQueriesContext(connection) as many:
        body = owner.get("/api/v1/account/statement?date_from=2026-01-01&date_to=2026-12-31").json()
    assert len(body["entries"]) == 1000 and body["closing_balance"] == "1000.00"
    assert len(many) == len(few)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    entries=st.lists(
        st.tuples(
            st.sampled_from(["invoice", "payment", "credit_note", "adjustment"]),
            st.decimals(min_value=D("0.01"), max_value=D("99999.99"), places=2),
            st.integers(min_value=0, max_value=365),
        ),
        max_size=15,
    ),
    window=st.tuples(
        st.integers(min_value=0, max_value=365), st.integers(min_value=0, max_value=365)
    ),
)
def test_property_the_statement_closing_balance_is_the_ledger_sum(entries, window):
    customer = CustomerFactory()
    start = datetime.date(2026, 1, 1)
    for kind, amount, day in entries:
        signed = -amount if kind in ("payment", "credit_note") else amount
        ledger_post(
            customer=customer,
            kind=kind,
            amount=signed,
            reason="r",
            entry_date=start + datetime.timedelta(days=day),
        )
    first, last = sorted(window)
    date_from, date_to = (
        start + datetime.timedelta(days=first),
        start + datetime.timedelta(days=last),
    )
    result = statement(customer=customer, date_from=date_from, date_to=date_to)
    in_window = sum((LedgerEntry.objects.get(pk=e.id).amount for e in result["entries"]), D("0.00"))
    assert result["closing_balance"] == result["opening_balance"] + in_window
    whole = statement(
        customer=customer, date_from=start, date_to=start + datetime.timedelta(days=400)
    )
    assert whole["closing_balance"] == customer_balance(customer=customer)
    running = whole["opening_balance"]
    for entry in whole["entries"]:
        running += entry.amount
        assert entry.running_balance == running


# --- aging ------------------------------------------------------------------------------------


@pytest.fixture(params=["now", "01:30 in Istanbul"])
def clock(request, owner):
    """Now, or 22:30 UTC: 01:30 of the next day in Istanbul, whose calendar the business dates
    follow while the API answers in UTC."""
    if request.param == "now":
        yield
        return
    import time_machine

    from tests.conftest import login

    with time_machine.travel(datetime.datetime(2026, 6, 10, 22, 30, tzinfo=datetime.UTC)):
        login(owner, owner.user)  # a token of that time
        yield


def test_aging_puts_open_invoices_in_their_buckets(erp, owner, clock):
    _send(erp, 1, 5, 30)  # not due
    _send(erp, 2, 40, 30)  # 10 days overdue
    _send(erp, 3, 80, 30)  # 50
    _send(erp, 4, 100, 30)  # 70
    _send(erp, 5, 200, 30)  # 170
    post(erp, PAYMENTS, [payment(amount="60.00", date=TODAY().isoformat())])  # half of the oldest

    body = owner.get("/api/v1/account/aging").json()
    totals = {b["bucket"]: b["total"] for b in body["buckets"]}
    assert totals == {
        "not_due": "120.00",
        "1_30": "120.00",
        "31_60": "120.00",
        "61_90": "120.00",
        "90_plus": "60.00",
    }
    assert body["total"] == "540.00"
    oldest = body["buckets"][-1]["items"][0]
    assert (
        oldest["days_overdue"] == 170
        and oldest["open_amount"] == "60.00"
        and oldest["type"] == "invoice"
    )
    assert oldest["invoice_number"] == oldest["document_number"]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.booleans(),
            st.decimals(min_value=D("0.01"), max_value=D("9999.99"), places=2),
            st.integers(min_value=-200, max_value=60),
        ),
        max_size=15,
    )
)
def test_property_aging_buckets_add_up_to_what_is_open(steps):
    customer = CustomerFactory()
    today = TODAY()
    for is_invoice, amount, due_in in steps:
        if is_invoice:
            ledger_post(
                customer=customer,
                kind="invoice",
                amount=amount,
                due_date=today + datetime.timedelta(days=due_in),
            )
        else:
            ledger_post(customer=customer, kind="payment", amount=-amount)
    result = aging(customer=customer)
    assert sum((slot["total"] for slot in result["buckets"]), D("0.00")) == result["total"]
    assert [slot["bucket"].code for slot in result["buckets"]] == [b.code for b in AGING_BUCKETS]
    balance = customer_balance(customer=customer)
    assert result["total"] == max(balance, D("0.00"))
    for slot in result["buckets"]:
        for item in slot["items"]:
            assert slot["bucket"].holds((today - item["entry"].due).days)


def test_a_stored_file_that_is_gone_is_404_or_rendered_never_500(erp, owner):
    """A deleted file does not come back by asking again: the API answers 404 for the XML and
    the PDF (not a 503 with Retry-After); the portal renders the PDF from the invoice's
    recorded content."""
    from django.core.files.storage import default_storage

    from apps.finance.models import Invoice

    number = _send(erp, 1, 3, 30, xml=b64(b"<Invoice/>"), pdf=b64(b"%PDF-1.4"))
    stored = Invoice.objects.get(number=number)
    default_storage.delete(stored.xml.name)
    default_storage.delete(stored.pdf.name)
    xml = owner.get(f"/api/v1/invoices/{number}/xml")
    assert xml.status_code == 404 and "Retry-After" not in xml
    pdf = owner.get(f"/api/v1/invoices/{number}/pdf")
    assert pdf.status_code == 404 and "Retry-After" not in pdf
    copy = _portal(owner).get(f"/portal/invoices/{number}/pdf/")
    content = b"".join(copy.streaming_content if copy.streaming else [copy.content])
    assert copy.status_code == 200 and content.startswith(b"%PDF")
    assert content != b"%PDF-1.4"  # rendered, not the ERP's
