"""Dealer API: auth, self and company endpoints. Thin: parse, call a service, shape output."""

from __future__ import annotations

from contextlib import nullcontext

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.mixins import ListModelMixin
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors
from apps.accounts.api import serializers as s
from apps.accounts.api.base import DealerGenericAPIView
from apps.accounts.authentication import DealerJWTAuthentication
from apps.accounts.models import Address, Customer, User
from apps.accounts.permissions import dealer_permission
from apps.accounts.services import addresses as address_services
from apps.accounts.services import auth as auth_services
from apps.accounts.services import password_reset as password_reset_services
from apps.accounts.services import registration as registration_services
from apps.accounts.services import users as user_services
from apps.accounts.throttling import AuthIPRateThrottle
from apps.core.net import client_ip, user_agent
from apps.core.schema import ConflictSerializer, ErrorSerializer
from apps.core.serializers import no_input, validated

_LAST_OWNER = OpenApiResponse(
    ConflictSerializer, description="`last_owner`: a company keeps at least one active owner."
)
_UNAUTHORIZED = OpenApiResponse(
    ErrorSerializer, description="Bad credentials or token; `code` says why."
)
_COMPANY_REFUSED = OpenApiResponse(
    ErrorSerializer,
    description="The credentials are right but the company may not sign in: "
    "`email_unverified`, `customer_pending`, `customer_suspended` or `customer_inactive`.",
)


def _ctx(request) -> dict:
    return {"ip": client_ip(request), "user_agent": user_agent(request)}


class PublicAPIView(APIView):
    """An anonymous auth endpoint: besides the global limits, RATE_LIMIT_AUTH_IP per address
    for those that take a credential or send an e-mail (``auth_ip_limited``)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    auth_ip_limited = True

    def get_throttles(self):
        if not self.auth_ip_limited:
            return super().get_throttles()
        return [*super().get_throttles(), AuthIPRateThrottle()]


# --- auth -------------------------------------------------------------------------------------


class TokenObtainView(PublicAPIView):
    @extend_schema(
        request=s.TokenObtainSerializer,
        responses={200: s.TokenPairSerializer, 401: _UNAUTHORIZED, 403: _COMPANY_REFUSED},
        tags=["auth"],
        summary="Log in with e-mail and password",
        description="Answers an access token (15 minutes) and a refresh token (7 days). An "
        "account locks for 15 minutes after 5 failed logins. A user who turned on the SMS code "
        "at sign-in first gets 401 `sms_code_required` (a 6-digit code is sent to their phone, "
        "valid 5 minutes); the same request again with `sms_code` answers the tokens. A wrong "
        "code is 401 `sms_code_invalid` and counts as a failed login; after 5 the code is void "
        "(`sms_code_expired`). Staff to whom the back office's two-factor sign-in applies get "
        "401 `two_factor_staff`: a password alone gives them no token.",
    )
    def post(self, request):
        data = validated(s.TokenObtainSerializer, request.data)
        return Response(auth_services.auth_login(**data, **_ctx(request)))


class TokenRefreshView(PublicAPIView):
    # a refresh token is no guess: an office's refreshes must not wait for one user's typos
    # (the general limits still count it)
    auth_ip_limited = False

    @extend_schema(
        request=s.RefreshInputSerializer,
        responses={200: s.TokenPairSerializer, 401: _UNAUTHORIZED, 403: _COMPANY_REFUSED},
        tags=["auth"],
        summary="Rotate a refresh token (the old one stops working)",
        description="Answers a new access and refresh token; the refresh token sent is "
        "blacklisted.",
    )
    def post(self, request):
        data = validated(s.RefreshInputSerializer, request.data)
        return Response(auth_services.auth_refresh(refresh=data["refresh"], **_ctx(request)))


class LogoutView(PublicAPIView):
    auth_ip_limited = False  # as a refresh: it carries its token

    @extend_schema(
        request=s.RefreshInputSerializer,
        responses={205: OpenApiResponse(description="Done"), 401: _UNAUTHORIZED},
        tags=["auth"],
        summary="Log out: the refresh token stops working",
        description="Blacklists the refresh token and ends every access token of the user at "
        "once (they answer 401 `token_revoked`).",
    )
    def post(self, request):
        data = validated(s.RefreshInputSerializer, request.data)
        auth_services.auth_logout(refresh=data["refresh"], **_ctx(request))
        return Response(status=status.HTTP_205_RESET_CONTENT)


class RegisterView(PublicAPIView):
    @extend_schema(
        request=s.RegisterSerializer,
        responses={202: s.DetailSerializer},
        tags=["auth"],
        summary="Register a dealer company and its owner (202 always: the owner gets an "
        "e-mail to verify the address; verified, the company waits for staff approval)",
        description="The same answer whether or not the e-mail or the tax number is known.",
    )
    def post(self, request):
        data = validated(s.RegisterSerializer, request.data)
        # the language the company registers in becomes its own (its e-mails, SMS): the one the
        # client asked for, else the portal's, as for a company the ERP or staff created (the
        # API's own answers stay in its default when none was asked for)
        asked = request.META.get("HTTP_ACCEPT_LANGUAGE") or request.COOKIES.get(
            settings.LANGUAGE_COOKIE_NAME
        )
        language = nullcontext() if asked else translation.override(settings.PORTAL_LANGUAGE_CODE)
        with language:
            registration_services.customer_register(
                company=data["company"],
                owner=data["owner"],
                consents=data.get("consents"),
                **_ctx(request),
            )
        # the same answer whether or not the e-mail or the tax number was already known
        return Response(
            {
                "detail": _(
                    "Thank you. Please confirm your e-mail address with the link we are "
                    "sending to it; then our team reviews the registration."
                )
            },
            status=status.HTTP_202_ACCEPTED,
        )


class RegisterVerifyView(PublicAPIView):
    @extend_schema(
        request=s.RegisterVerifySerializer,
        responses={204: OpenApiResponse(description="Verified: waits for staff approval")},
        tags=["auth"],
        summary="Verify the owner's e-mail with the e-mailed uid and token",
        description="Once verified, the registration waits for staff approval.",
    )
    def post(self, request):
        data = validated(s.RegisterVerifySerializer, request.data)
        registration_services.registration_verify(**data, **_ctx(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(PublicAPIView):
    @extend_schema(
        request=s.PasswordResetSerializer,
        responses={202: s.DetailSerializer},
        tags=["auth"],
        summary="E-mail a password reset link (always 202)",
        description="The same answer whether or not the address belongs to an account.",
    )
    def post(self, request):
        data = validated(s.PasswordResetSerializer, request.data)
        password_reset_services.password_reset_request(email=data["email"], **_ctx(request))
        return Response(
            {"detail": _("If the address belongs to an account, a reset link is on its way.")},
            status=status.HTTP_202_ACCEPTED,
        )


class PasswordResetConfirmView(PublicAPIView):
    @extend_schema(
        request=s.PasswordResetConfirmSerializer,
        responses={204: OpenApiResponse(description="Password changed")},
        tags=["auth"],
        summary="Set a new password with the e-mailed uid and token",
        description="The link is valid for a limited time; the password must meet the "
        "complexity rules.",
    )
    def post(self, request):
        data = validated(s.PasswordResetConfirmSerializer, request.data)
        auth_services.password_reset_confirm(**data, **_ctx(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- self -------------------------------------------------------------------------------------


class MeView(APIView):
    authentication_classes = [DealerJWTAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Who you are",
        description="Your user, role, permissions and company.",
        responses=s.MeSerializer,
        tags=["self"],
    )
    def get(self, request):
        return Response(s.MeSerializer(request.user).data)


class MeExportView(APIView):
    authentication_classes = [DealerJWTAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=s.PersonalDataExportSerializer,
        tags=["self"],
        summary="The caller's personal data (KVKK / GDPR)",
        description="Everything we keep about you as a person, as a JSON download.",
    )
    def get(self, request):
        export = selectors.personal_data(user=request.user)
        response = Response(s.PersonalDataExportSerializer(export).data)
        response["Content-Disposition"] = 'attachment; filename="personal-data.json"'
        return response


# --- company ----------------------------------------------------------------------------------


ACCOUNT_FIGURES_PERMISSION = "finance.view_ledgerentry"  # what account/summary asks


class CompanyView(DealerGenericAPIView):
    queryset = Customer.objects.select_related("sales_rep")
    company_field = "pk"
    permission_classes = [dealer_permission(read_perms=("accounts.view_customer",))]
    serializer_class = s.CompanySerializer

    @extend_schema(
        summary="Your company",
        description="Name, code, tier, status, credit limit, balance and available credit. "
        "The credit limit, balance, open orders and available credit are the current "
        "account's figures: null for a role that may not see the ledger (purchasing), as "
        "account/summary answers it 403.",
        tags=["company"],
    )
    def get(self, request):
        customer = get_object_or_404(self.get_queryset())
        if request.user.has_perm(ACCOUNT_FIGURES_PERMISSION):
            summary = selectors.customer_credit_summary(customer=customer)
        else:  # the current account's figures are the ledger's, as in account/summary
            summary = dict.fromkeys(s.CompanySerializer.ACCOUNT_FIGURES)
        for name, value in summary.items():
            setattr(customer, name, value)
        customer.currency = settings.CURRENCY
        return Response(s.CompanySerializer(customer).data)


_manage_users = dealer_permission(
    "accounts.manage_company_users", read_perms=("accounts.manage_company_users",)
)


class CompanyUserListView(ListModelMixin, DealerGenericAPIView):
    queryset = User.objects.filter(is_deleted=False).order_by("email")
    permission_classes = [_manage_users]
    serializer_class = s.CompanyUserSerializer

    @extend_schema(
        summary="Your company's users",
        description="For the owner: every user of the company, paginated.",
        tags=["company"],
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        summary="Add a user to your company",
        description="For the owner. Without a password the new user is e-mailed an invitation "
        "to set one.",
        request=s.CompanyUserCreateSerializer,
        responses={201: s.CompanyUserSerializer},
        tags=["company"],
    )
    def post(self, request):
        data = validated(s.CompanyUserCreateSerializer, request.data)
        user = user_services.user_create_for_company(
            customer=request.user.customer, by=request.user, **data
        )
        if not data.get("password"):
            user_services.user_invite(user=user)
        return Response(s.CompanyUserSerializer(user).data, status=status.HTTP_201_CREATED)


class CompanyUserDetailView(DealerGenericAPIView):
    queryset = User.objects.filter(is_deleted=False)
    permission_classes = [_manage_users]
    serializer_class = s.CompanyUserSerializer

    @extend_schema(
        summary="A user of your company",
        description="For the owner.",
        tags=["company"],
    )
    def get(self, request, pk):
        return Response(s.CompanyUserSerializer(self.get_object()).data)

    @extend_schema(
        summary="Change a user of your company",
        description="For the owner: role, order limit, active. 409 `last_owner` when it would "
        "leave the company without an active owner.",
        request=s.CompanyUserUpdateSerializer,
        responses={200: s.CompanyUserSerializer, 409: _LAST_OWNER},
        tags=["company"],
    )
    def patch(self, request, pk):
        user = self.get_object()
        current = s.CompanyUserSerializer(user).data  # what may be sent back unchanged
        data = validated(s.CompanyUserUpdateSerializer, request.data, context={"current": current})
        user = user_services.user_update_for_company(user=user, by=request.user, **data)
        return Response(s.CompanyUserSerializer(user).data)

    @extend_schema(
        summary="Remove a user from your company",
        description="For the owner: the user can no longer log in. 409 `last_owner` for the "
        "company's last active owner.",
        tags=["company"],
        responses={204: None, 409: _LAST_OWNER},
    )
    def delete(self, request, pk):
        user = self.get_object()
        no_input(request)
        user_services.user_remove_from_company(user=user, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


_addresses = dealer_permission(
    "accounts.manage_company_addresses", read_perms=("accounts.view_address",)
)


class CompanyAddressListView(ListModelMixin, DealerGenericAPIView):
    queryset = Address.objects.all()
    permission_classes = [_addresses]
    serializer_class = s.AddressSerializer

    @extend_schema(
        summary="Your company's addresses",
        description="Billing and shipping addresses, paginated.",
        tags=["company"],
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        summary="Add an address",
        description="A billing or shipping address of your company.",
        request=s.AddressInputSerializer,
        responses={201: s.AddressSerializer},
        tags=["company"],
    )
    def post(self, request):
        data = validated(s.AddressInputSerializer, request.data, context={"creating": True})
        address = address_services.address_create(
            customer=request.user.customer, data=data, by=request.user
        )
        return Response(s.AddressSerializer(address).data, status=status.HTTP_201_CREATED)


class CompanyAddressDetailView(DealerGenericAPIView):
    queryset = Address.objects.all()
    permission_classes = [_addresses]
    serializer_class = s.AddressSerializer

    @extend_schema(
        summary="An address of your company",
        description="One billing or shipping address.",
        tags=["company"],
    )
    def get(self, request, pk):
        return Response(s.AddressSerializer(self.get_object()).data)

    @extend_schema(
        summary="Change an address",
        description="Only the fields sent change.",
        request=s.AddressInputSerializer,
        responses=s.AddressSerializer,
        tags=["company"],
    )
    def patch(self, request, pk):
        address = self.get_object()
        current = s.AddressSerializer(address).data  # what may be sent back unchanged
        data = validated(
            s.AddressInputSerializer, request.data, partial=True, context={"current": current}
        )
        address = address_services.address_update(address=address, data=data, by=request.user)
        return Response(s.AddressSerializer(address).data)

    @extend_schema(
        summary="Delete an address",
        description="Orders keep their copy of the address.",
        tags=["company"],
        responses={204: None},
    )
    def delete(self, request, pk):
        address = self.get_object()
        no_input(request)
        address_services.address_delete(address=address, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
