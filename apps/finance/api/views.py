"""Dealer API: the current account (summary, statement, aging), the dealer's invoices with
their PDF and UBL-TR XML, and card payments (with the bank's public return). Everything is
scoped to the caller's company (another company's invoice is not found); the account needs
the finance view permission (owners, finance users, viewers; not purchasing users)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.mixins import ListModelMixin
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response

from apps.accounts.api.base import DealerGenericAPIView
from apps.accounts.api.views import PublicAPIView
from apps.accounts.models import Customer
from apps.accounts.permissions import IsDealerUser, dealer_permission
from apps.core.api.files import file_response, produced
from apps.core.api.parsers import SafeFormParser, SafeJSONParser, SafeMultiPartParser
from apps.core.api.renderers import JSONRenderer
from apps.core.exceptions import ValidationError
from apps.core.i18n import portal_language
from apps.core.links import portal_link
from apps.core.schema import ConflictSerializer, ErrorSerializer
from apps.core.serializers import no_input, validated
from apps.finance import documents
from apps.finance.api import serializers as s
from apps.finance.api.filters import CardPaymentFilter, InvoiceFilter
from apps.finance.card_messages import card_message_shown
from apps.finance.models import (
    BalanceConfirmation,
    CardPayment,
    Invoice,
    InvoiceLine,
    Settlement,
)
from apps.finance.selectors import (
    aging,
    customer_credit_summary,
    invoice_queryset,
    statement,
    statement_default_end,
)
from apps.finance.services.card_payments import card_payment_complete, card_payment_start
from apps.finance.services.confirmations import confirmation_confirm, confirmation_dispute

logger = logging.getLogger(__name__)
_finance = dealer_permission(read_perms=("finance.view_ledgerentry",))

AccountSummarySerializer = inline_serializer(
    name="AccountSummary",
    fields={
        "currency": serializers.CharField(),
        "balance": serializers.CharField(),
        "credit_limit": serializers.CharField(),
        "open_orders_total": serializers.CharField(),
        "available_credit": serializers.CharField(),
        "overdue_total": serializers.CharField(),
    },
)


class _CompanyView(DealerGenericAPIView):
    """The caller's own company as the object."""

    queryset = Customer.objects.all()
    company_field = "pk"
    permission_classes = [_finance]

    def company(self) -> Customer:
        return self.get_queryset().get()


class AccountSummaryView(_CompanyView):
    """Balance (positive: the company owes), credit limit, open orders (what confirmed,
    processing, shipped and delivered orders are worth beyond their invoices), available
    credit and the overdue amount."""

    @extend_schema(
        summary="Your current account",
        description="Balance (positive: your company owes), credit limit, open orders "
        "(what confirmed, processing, shipped and delivered orders are worth beyond the "
        "invoices naming them), available credit and the overdue "
        "amount (what is still open on debts past their due date: invoices after their due "
        "date; an opening balance, a debit adjustment or a card refund, which have none, from "
        "their date).",
        responses=AccountSummarySerializer,
        tags=["finance"],
    )
    def get(self, request):
        summary = customer_credit_summary(customer=self.company())
        return Response(
            {"currency": settings.CURRENCY, **{k: f"{v:.2f}" for k, v in summary.items()}}
        )


class AccountStatementView(_CompanyView):
    @extend_schema(
        summary="Your account statement",
        description="The opening balance at `date_from`, every entry to `date_to` (date, due "
        "date, document number, type, debit, credit, running balance, description) and the "
        "closing balance. Defaults: from January 1 of this year to today, or to the latest "
        "entry when it is dated later; at most 10 years (3,660 days) at a time. `format=csv` is "
        "UTF-8 with a byte order mark (`separator=semicolon`: `;` and decimal commas, for "
        "Excel in Turkish); `format=pdf` a printable statement.",
        parameters=[s.StatementQuerySerializer],
        responses={
            (200, "application/json"): s.StatementSerializer,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/pdf"): OpenApiTypes.BINARY,
            400: OpenApiResponse(ErrorSerializer, description="A bad date, format or range."),
        },
        tags=["finance"],
    )
    def get(self, request):
        customer = self.company()
        query = validated(
            s.StatementQuerySerializer,
            request.query_params,
            context={"default_end": statement_default_end(customer)},
        )
        date_from, date_to = query["date_from"], query["date_to"]
        result = statement(customer=customer, date_from=date_from, date_to=date_to)
        kind = query["format"]
        name = f"statement-{customer.code}-{date_from:%Y%m%d}-{date_to:%Y%m%d}"
        if kind == "csv":
            semicolon = query["separator"] == "semicolon"
            content = documents.statement_csv(result, semicolon=semicolon)
            return file_response(content, "text/csv; charset=utf-8", f"{name}.csv")
        if kind == "pdf":
            refusal = documents.statement_pdf_refusal(result)
            if refusal:
                raise ValidationError({"format": [refusal]})
            return file_response(
                produced(documents.statement_pdf, result), "application/pdf", f"{name}.pdf"
            )
        # the shape of StatementSerializer, written out: 100,000 entries through a serializer
        # cost seconds
        return Response(
            {
                "currency": settings.CURRENCY,
                "date_from": date_from.isoformat(),
                "date_to": date_to.isoformat(),
                "opening_balance": f"{result['opening_balance']:.2f}",
                "closing_balance": f"{result['closing_balance']:.2f}",
                "entries": [
                    {
                        "date": row["date"].isoformat(),
                        "due_date": row["due_date"].isoformat() if row["due_date"] else None,
                        "document_number": row["document_number"],
                        "type": row["type"],
                        "description": row["description"],
                        "debit": f"{row['debit']:.2f}",
                        "credit": f"{row['credit']:.2f}",
                        "balance": f"{row['balance']:.2f}",
                    }
                    for row in documents.statement_rows(result)
                ],
            }
        )


class AccountAgingView(_CompanyView):
    @extend_schema(
        summary="Your open invoices by age",
        description="What is still open, by how long it is overdue: not due, 1-30, 31-60, "
        "61-90 and 90+ days. Each bucket has its total and its items (invoices and other "
        "debts such as an opening balance); the buckets add up to `total`.",
        responses=s.AgingSerializer,
        tags=["finance"],
    )
    def get(self, request):
        result = aging(customer=self.company())
        body = {
            "currency": settings.CURRENCY,
            "as_of": result["as_of"],
            "total": result["total"],
            "buckets": [
                {
                    "bucket": slot["bucket"].code,
                    "label": str(slot["bucket"].label),
                    "total": slot["total"],
                    "items": [
                        {
                            "document_number": item["entry"].document_number,
                            "type": item["entry"].kind,
                            "invoice_number": getattr(
                                getattr(item["entry"], "invoice", None), "number", None
                            ),
                            "date": item["entry"].entry_date,
                            "due_date": item["entry"].due,
                            "days_overdue": item["days_overdue"],
                            "amount": item["entry"].amount,
                            "open_amount": item["entry"].open_amount,
                        }
                        for item in slot["items"]
                    ],
                }
                for slot in result["buckets"]
            ],
        }
        return Response(s.AgingSerializer(body).data)


# --- invoices ---------------------------------------------------------------------------------


class InvoiceListView(ListModelMixin, DealerGenericAPIView):
    queryset = Invoice.objects.select_related("order").order_by("-issue_date", "-id")
    permission_classes = [_finance]
    serializer_class = s.InvoiceSummarySerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = InvoiceFilter

    def get_queryset(self):
        return invoice_queryset(super().get_queryset())

    @extend_schema(
        summary="Your company's invoices",
        description="Newest first, paginated, with what is paid and open; filter by `status` "
        "(open: not yet due; overdue; paid), `issued_from`, `issued_to` and `order` (an "
        "order number).",
        tags=["finance"],
    )
    def get(self, request):
        return self.list(request)


class _InvoiceObjectView(DealerGenericAPIView):
    queryset = Invoice.objects.all()
    permission_classes = [_finance]
    lookup_field = "number"


class InvoiceDetailView(_InvoiceObjectView):
    serializer_class = s.InvoiceSerializer

    def get_queryset(self):
        return (
            invoice_queryset(super().get_queryset())
            .select_related("order", "ledger_entry")
            .prefetch_related(
                Prefetch("lines", queryset=InvoiceLine.objects.order_by("position")),
                Prefetch(
                    "ledger_entry__settled_by",
                    queryset=Settlement.objects.select_related("credit").order_by("id"),
                ),
            )
        )

    @extend_schema(
        summary="An invoice",
        description="With its lines, totals, what is paid and open, and the payments and "
        "credit notes that paid it.",
        tags=["finance"],
    )
    def get(self, request, number):
        return Response(s.InvoiceSerializer(self.get_object()).data)


class InvoicePdfView(_InvoiceObjectView):
    @extend_schema(
        summary="An invoice's PDF",
        description="The PDF the ERP sent; 404 when it sent none (the portal offers a visual "
        "copy rendered from the recorded invoice; this API serves only the ERP's document).",
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            404: OpenApiResponse(
                ErrorSerializer, description="No such invoice, or the ERP sent no PDF."
            ),
        },
        tags=["finance"],
    )
    def get(self, request, number):
        invoice = self.get_object()
        if not invoice.pdf:
            raise NotFound(_("The ERP sent no PDF for this invoice."))
        return file_response(
            produced(documents.stored_bytes, invoice.pdf),
            "application/pdf",
            f"{invoice.number}.pdf",
        )


class InvoiceXmlView(_InvoiceObjectView):
    @extend_schema(
        summary="An invoice's UBL-TR XML",
        description="The signed e-invoice document the ERP sent; 404 when it sent none.",
        responses={
            (200, "application/xml"): OpenApiTypes.BINARY,
            404: OpenApiResponse(
                ErrorSerializer, description="No such invoice, or the ERP sent no XML."
            ),
        },
        tags=["finance"],
    )
    def get(self, request, number):
        invoice = self.get_object()
        if not invoice.xml:
            raise NotFound(_("The ERP sent no XML for this invoice."))
        return file_response(
            produced(documents.stored_bytes, invoice.xml),
            "application/xml",
            f"{invoice.number}.xml",
        )


# --- balance confirmations (mutabakat) ---------------------------------------------------------


def _conflict():
    return OpenApiResponse(ConflictSerializer, description="Already answered.")


_answer = dealer_permission(
    "finance.answer_balanceconfirmation", read_perms=("finance.view_ledgerentry",)
)


class ConfirmationListView(ListModelMixin, DealerGenericAPIView):
    queryset = BalanceConfirmation.objects.select_related("answered_by").order_by("-as_of", "-id")
    permission_classes = [_finance]
    serializer_class = s.BalanceConfirmationSerializer

    @extend_schema(
        summary="Balance confirmations sent to your company",
        description="Newest first. Each states your balance as of a date: your owner or "
        "finance user confirms it or disputes it by `respond_by`; without an answer it counts "
        "as accepted (`deemed_accepted`).",
        tags=["finance"],
    )
    def get(self, request):
        return self.list(request)


class _ConfirmationObjectView(DealerGenericAPIView):
    queryset = BalanceConfirmation.objects.select_related("answered_by")
    serializer_class = s.BalanceConfirmationSerializer


class ConfirmationDetailView(_ConfirmationObjectView):
    permission_classes = [_finance]

    @extend_schema(
        summary="A balance confirmation",
        tags=["finance"],
        description="The balance as of the date, its status and your answer.",
    )
    def get(self, request, pk):
        return Response(s.BalanceConfirmationSerializer(self.get_object()).data)


class ConfirmationConfirmView(_ConfirmationObjectView):
    permission_classes = [_answer]

    @extend_schema(
        summary="Confirm a balance",
        description="Your owner or finance user agrees with the balance. Once: an answered "
        "confirmation answers 409.",
        request=None,
        responses={200: s.BalanceConfirmationSerializer, 409: _conflict()},
        tags=["finance"],
    )
    def post(self, request, pk):
        confirmation = self.get_object()
        no_input(request)
        confirmation = confirmation_confirm(confirmation=confirmation, by=request.user)
        return Response(s.BalanceConfirmationSerializer(confirmation).data)


class ConfirmationDisputeView(_ConfirmationObjectView):
    permission_classes = [_answer]

    @extend_schema(
        summary="Dispute a balance",
        description="Your owner or finance user disagrees: `reason` (what does not match) "
        "and `their_balance` (your figure as of the same date). Once: an answered "
        "confirmation answers 409.",
        request=s.DisputeSerializer,
        responses={200: s.BalanceConfirmationSerializer, 409: _conflict()},
        tags=["finance"],
    )
    def post(self, request, pk):
        confirmation = self.get_object()
        data = validated(s.DisputeSerializer, request.data)
        confirmation = confirmation_dispute(confirmation=confirmation, by=request.user, **data)
        return Response(s.BalanceConfirmationSerializer(confirmation).data)


# --- card payments ----------------------------------------------------------------------------

_pay = dealer_permission("finance.add_cardpayment")


class _ResultPageRenderer(BaseRenderer):
    """The bank's return lands in the dealer's browser: a page saying how the payment went
    (JSON for any other client)."""

    media_type = "text/html"
    format = "html"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        data = data if isinstance(data, dict) else {}
        # back to the portal's page of the order paid, or its start page
        base = portal_link()
        number = data.get("order_number")
        # the dealer's portal language (its cookie), else the portal's default: not the
        # browser's Accept-Language, so a Turkish portal's payment ends on a Turkish page
        request = (renderer_context or {}).get("request")
        with translation.override(portal_language(request)):
            if data.get("message"):  # written by the serializer in the request's language
                data = {**data, "message": card_message_shown(data["message"])}
            return self._page(data, response, base, number)

    def _page(self, data, response, base, number) -> str:
        return render_to_string(
            "finance/payment_result.html",
            {
                "data": data,
                "status_code": getattr(response, "status_code", 200),
                "portal_url": portal_link("orders", str(number)) if number else base,
            },
        )


class _CardPaymentView(DealerGenericAPIView):
    queryset = CardPayment.objects.select_related("order").order_by("-created_at", "-id")
    serializer_class = s.CardPaymentSerializer
    permission_classes = [IsDealerUser]

    def get_queryset(self):
        queryset = super().get_queryset()
        if not self.request.user.has_perm("finance.view_ledgerentry"):
            queryset = queryset.filter(created_by=self.request.user)  # purchasing: their own
        return queryset


class CardPaymentListView(ListModelMixin, _CardPaymentView):
    filter_backends = [DjangoFilterBackend]
    filterset_class = CardPaymentFilter

    def get_permissions(self):
        if self.request.method == "POST":
            return [_pay()]
        return super().get_permissions()

    @extend_schema(
        summary="Card payments",
        operation_id="card_payments_list",
        description="Newest first: your company's card payments (a purchasing user sees the "
        "ones they started), `pending`, `succeeded`, `failed` or `refunded`; `status` filters.",
        tags=["finance"],
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        summary="Pay by card (3-D Secure)",
        operation_id="card_payments_create",
        description="Starts a card payment: `order_number` (an order awaiting payment: its "
        "grand total), `invoice_numbers` (open invoices: at most what is open on them) or "
        "neither (an amount on account; invoices and amounts on account need the owner or "
        "finance role). Answers the pending payment and `redirect_url`, the bank's page the "
        "browser goes to: the card is typed there, never sent to us. The bank sends the "
        "browser back to `payments/callback/{provider}`; the payment is then `succeeded` (the "
        "order confirmed, the amount on your account) or `failed` with the bank's message. "
        "503 when the payment service does not answer.",
        request=s.CardPaymentStartSerializer,
        responses={201: s.CardPaymentSerializer, 409: OpenApiResponse(ConflictSerializer)},
        tags=["finance"],
    )
    def post(self, request):
        s.card_fields_refuse(request.query_params)
        data = validated(s.CardPaymentStartSerializer, request.data)
        payment = card_payment_start(user=request.user, **data)
        return Response(s.CardPaymentSerializer(payment).data, status=201)


class CardPaymentDetailView(_CardPaymentView):
    @extend_schema(
        summary="A card payment",
        description="Its status (`pending`, `succeeded`, `failed`, `refunded`), the bank's "
        "message when it failed, the masked card, and `redirect_url` while it is pending.",
        operation_id="card_payments_retrieve",
        tags=["finance"],
    )
    def get(self, request, pk):
        return Response(s.CardPaymentSerializer(self.get_object()).data)


@method_decorator(csrf_exempt, name="dispatch")
class CardPaymentCallbackView(PublicAPIView):
    """The bank's return (public: the post is unsigned, so the gateway is asked)."""

    parser_classes = [SafeFormParser, SafeMultiPartParser, SafeJSONParser]
    renderer_classes = [JSONRenderer, _ResultPageRenderer]

    @extend_schema(
        summary="The bank's return from 3-D Secure",
        operation_id="card_payments_callback",
        description="Public; the bank posts the dealer's browser here with the gateway "
        "session's ids. The post is not trusted: the gateway is asked to complete the "
        "session and its answer decides. Idempotent: a payment already decided is answered "
        "as it is. An unknown session: 404, nothing changes. Browsers get a page, other "
        "clients JSON.",
        request=inline_serializer(
            name="PaymentCallback",
            fields={
                "session_id": serializers.CharField(),
                "token_id": serializers.CharField(required=False),
            },
        ),
        responses={200: s.CardPaymentResultSerializer, 404: OpenApiResponse(ErrorSerializer)},
        tags=["finance"],
        auth=[],
    )
    def post(self, request, provider):
        data = request.data if hasattr(request.data, "get") else {}
        payment = card_payment_complete(provider_name=provider, data=data)
        return Response(s.CardPaymentResultSerializer(payment).data)
