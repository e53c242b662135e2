"""The current account's documents: the statement's rows (one shape for JSON, CSV and PDF),
the statement as CSV, and the PDFs (a statement; an invoice when the ERP sent none) rendered
by WeasyPrint from Django templates, in the active language."""

from __future__ import annotations

import base64
import csv
import io
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from apps.core.exports import neutralize_cell
from apps.core.files import FileMissing, FileUnavailable, stored_bytes
from apps.finance.models import Invoice, InvoiceLine, LedgerEntry

ZERO = Decimal("0.00")


# a document cannot be produced now (the storage does not answer, or it cannot be rendered
# here): the API answers 503, the portal says so; the stored file gone: 404
DocumentUnavailable = FileUnavailable
DocumentMissing = FileMissing


class RenderingUnavailable(DocumentUnavailable):
    """WeasyPrint or its system libraries (Pango) are missing on this machine."""


def statement_rows(statement: dict) -> list[dict]:
    """Each entry of ``statement`` (``selectors.statement``) as a row: date, due date,
    document number, type, description, debit, credit (one of them zero) and the running
    balance."""
    kinds = dict(LedgerEntry.Kind.choices)
    return [
        {
            "date": entry.entry_date,
            "due_date": entry.due_date,
            "document_number": entry.document_number,
            "type": entry.kind,
            "type_label": str(kinds.get(entry.kind, entry.kind)),
            "description": entry.description,
            "debit": entry.amount if entry.amount > 0 else ZERO,
            "credit": -entry.amount if entry.amount < 0 else ZERO,
            "balance": entry.running_balance,
        }
        for entry in statement["entries"]
    ]


def _decimal(value: Decimal, comma: bool) -> str:
    text = f"{value:.2f}"
    return text.replace(".", ",") if comma else text


def statement_csv(statement: dict, *, semicolon: bool = False) -> bytes:
    """UTF-8 with a byte order mark (Excel then reads Turkish letters right); ``semicolon``:
    ``;`` between fields and a decimal comma, as Excel expects in a Turkish locale."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if semicolon else ",", lineterminator="\r\n")
    writer.writerow(
        [
            _("Date"),
            _("Due date"),
            _("Document"),
            _("Type"),
            _("Description"),
            _("Debit"),
            _("Credit"),
            _("Balance"),
        ]
    )
    opening = statement["opening_balance"]
    writer.writerow(
        [
            statement["date_from"].isoformat(),
            "",
            "",
            "",
            _("Opening balance"),
            "",
            "",
            _decimal(opening, semicolon),
        ]
    )
    for row in statement_rows(statement):
        writer.writerow(
            [
                row["date"].isoformat(),
                row["due_date"].isoformat() if row["due_date"] else "",
                # every text cell: an ERP's document number or reference is text we did not
                # write, as much as a description
                neutralize_cell(row["document_number"]),
                neutralize_cell(str(row["type_label"])),
                neutralize_cell(row["description"]),
                _decimal(row["debit"], semicolon) if row["debit"] else "",
                _decimal(row["credit"], semicolon) if row["credit"] else "",
                _decimal(row["balance"], semicolon),
            ]
        )
    writer.writerow(
        [
            statement["date_to"].isoformat(),
            "",
            "",
            "",
            _("Closing balance"),
            "",
            "",
            _decimal(statement["closing_balance"], semicolon),
        ]
    )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _company() -> dict:
    return {
        "name": settings.COMPANY_NAME,
        "address": settings.COMPANY_ADDRESS,
        "tax_office": settings.COMPANY_TAX_OFFICE,
        "tax_number": settings.COMPANY_TAX_NUMBER,
    }


def _logo_data_uri() -> str:
    """The company logo inlined as a ``data:`` URI (SVG, PNG or JPEG), or "" without one."""
    path = Path(settings.COMPANY_LOGO) if settings.COMPANY_LOGO else None
    if path is None or not path.is_file():
        return ""
    kind = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg"}.get(
        path.suffix.lower(), "image/jpeg"
    )
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"


def _render(template: str, context: dict) -> bytes:
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
    except (ImportError, OSError) as exc:  # OSError: Pango missing
        raise RenderingUnavailable(str(exc)) from exc
    # a document's times are the distributor's (the API itself answers in UTC)
    with timezone.override(timezone.get_default_timezone()):
        html = render_to_string(
            template, {**context, "company": _company(), "logo_url": _logo_data_uri()}
        )
    # only data: URIs are fetched: nothing a value in the document could name (a file, a
    # host) is ever read
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=("data",))).write_pdf()


def statement_pdf_refusal(statement: dict) -> str | None:
    """Why ``statement`` is not printed as a PDF, or None: laying out a page of entries costs
    WeasyPrint about 0.2 s of CPU, so a PDF holds at most ``STATEMENT_PDF_MAX_ENTRIES``
    (10,000 entries ran past the web worker's timeout); the JSON and the CSV hold any number."""
    count, most = len(statement["entries"]), settings.STATEMENT_PDF_MAX_ENTRIES
    if count <= most:
        return None
    return _(
        "A PDF statement holds at most %(most)s entries; this period has %(count)s. Ask for "
        "a shorter period, or download it as CSV."
    ) % {
        "most": number_format(most, force_grouping=True),
        "count": number_format(count, force_grouping=True),
    }


def statement_pdf(statement: dict) -> bytes:
    rows = statement_rows(statement)
    return _render(
        "finance/statement_pdf.html",
        {
            **statement,
            "rows": rows,
            "currency": settings.CURRENCY,
            "total_debit": sum((row["debit"] for row in rows), ZERO),
            "total_credit": sum((row["credit"] for row in rows), ZERO),
            "printed_at": timezone.now(),
        },
    )


def invoice_pdf(invoice, lines=None) -> bytes:
    """The invoice rendered from its recorded content (for an invoice the ERP sent no PDF);
    ``lines`` for an invoice not saved (the demo's ERP renders its PDFs so)."""
    lines = list(invoice.lines.all()) if lines is None else lines
    return _render(
        "finance/invoice_pdf.html",
        {"invoice": invoice, "customer": invoice.customer, "lines": lines},
    )


def invoice_pdf_bytes(invoice) -> bytes:
    """The invoice's PDF as the portal offers it: the ERP's when it sent one (and it is still
    there), else a visual copy rendered from its recorded content (lines in position order).
    The dealer API serves only the ERP's document (404 without one, as API.md says)."""
    if invoice.pdf:
        try:
            return stored_bytes(invoice.pdf)
        except DocumentMissing:
            pass  # logged: the dealer gets the rendered one meanwhile
    invoice = (
        Invoice.objects.select_related("customer", "order")
        .prefetch_related(Prefetch("lines", queryset=InvoiceLine.objects.order_by("position")))
        .get(pk=invoice.pk)
    )
    return invoice_pdf(invoice)
