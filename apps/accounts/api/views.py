"""Dealer API: auth, self and company endpoints. Thin: parse, call a service, shape output."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.mixins import ListModelMixin
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors
from apps.accounts.api import serializers as s
from apps.accounts.api.base import DealerGenericAPIView
from apps.accounts.authentication import DealerJWTAuthentication
from apps.accounts.models import Address, AuthEvent, Customer, User
from apps.accounts.permissions import dealer_permission
from apps.accounts.services import addresses as address_services
from apps.accounts.services import auth as auth_services
from apps.accounts.services import password_reset as password_reset_services
from apps.accounts.services import registration as registration_services
from apps.accounts.services import users as user_services
from apps.accounts.throttling import AuthIPRateThrottle
from apps.core.net import client_ip, user_agent
from apps.core.schema import ErrorSerializer

_UNAUTHORIZED = OpenApiResponse(
    ErrorSerializer, description="Bad credentials or token; `code` says why."
)


def _ctx(request) -> dict:
    return {"ip": client_ip(request), "user_agent": user_agent(request)}


def _validated(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PublicAPIView(APIView):
    """An anonymous auth endpoint: besides the global limits, RATE_LIMIT_AUTH_IP per address."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get_throttles(self):
        return [*super().get_throttles(), AuthIPRateThrottle()]


# --- auth -------------------------------------------------------------------------------------


class TokenObtainView(PublicAPIView):
    @extend_schema(
        request=s.TokenObtainSerializer,
        responses={200: s.TokenPairSerializer, 401: _UNAUTHORIZED},
        tags=["auth"],
        summary="Log in with e-mail and password",
    )
    def post(self, request):
        data = _validated(s.TokenObtainSerializer, request.data)
        return Response(auth_services.auth_login(**data, **_ctx(request)))


class TokenRefreshView(PublicAPIView):
    @extend_schema(
        request=s.RefreshInputSerializer,
        responses={200: s.TokenPairSerializer, 401: _UNAUTHORIZED},
        tags=["auth"],
        summary="Rotate a refresh token (the old one stops working)",
    )
    def post(self, request):
        data = _validated(s.RefreshInputSerializer, request.data)
        return Response(auth_services.auth_refresh(refresh=data["refresh"], **_ctx(request)))


class LogoutView(PublicAPIView):
    @extend_schema(
        request=s.RefreshInputSerializer,
        responses={205: OpenApiResponse(description="Done"), 401: _UNAUTHORIZED},
        tags=["auth"],
        summary="Log out: the refresh token stops working",
    )
    def post(self, request):
        data = _validated(s.RefreshInputSerializer, request.data)
        auth_services.auth_logout(refresh=data["refresh"], **_ctx(request))
        return Response(status=status.HTTP_205_RESET_CONTENT)


class RegisterView(PublicAPIView):
    @extend_schema(
        request=s.RegisterSerializer,
        responses={202: s.DetailSerializer},
        tags=["auth"],
        summary="Register a dealer company and its owner (202 always: the owner gets an "
        "e-mail to verify the address; verified, the company waits for staff approval)",
    )
    def post(self, request):
        data = _validated(s.RegisterSerializer, request.data)
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
    )
    def post(self, request):
        data = _validated(s.RegisterVerifySerializer, request.data)
        registration_services.registration_verify(**data, **_ctx(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(PublicAPIView):
    @extend_schema(
        request=s.PasswordResetSerializer,
        responses={202: s.DetailSerializer},
        tags=["auth"],
        summary="E-mail a password reset link (always 202)",
    )
    def post(self, request):
        data = _validated(s.PasswordResetSerializer, request.data)
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
    )
    def post(self, request):
        data = _validated(s.PasswordResetConfirmSerializer, request.data)
        auth_services.password_reset_confirm(**data, **_ctx(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- self -------------------------------------------------------------------------------------


class MeView(APIView):
    authentication_classes = [DealerJWTAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=s.MeSerializer, tags=["self"])
    def get(self, request):
        return Response(s.MeSerializer(request.user).data)


class MeExportView(APIView):
    authentication_classes = [DealerJWTAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=inline_serializer(
            name="PersonalDataExport",
            fields={
                "exported_at": serializers.DateTimeField(),
                "user": s.MeSerializer(),
                "consents": s.ConsentSerializer(many=True),
                "auth_events": serializers.ListField(child=serializers.DictField()),
            },
        ),
        tags=["self"],
        summary="The caller's personal data (KVKK / GDPR)",
    )
    def get(self, request):
        from django.utils import timezone

        user = request.user
        events = AuthEvent.objects.filter(user=user).values(
            "kind", "at", "ip_address", "user_agent", "detail"
        )[:1000]
        response = Response(
            {
                "exported_at": timezone.now(),
                "user": s.MeSerializer(user).data,
                "consents": s.ConsentSerializer(user.consents.all(), many=True).data,
                "auth_events": [
                    {**e, "at": serializers.DateTimeField().to_representation(e["at"])}
                    for e in events
                ],
            }
        )
        response["Content-Disposition"] = 'attachment; filename="personal-data.json"'
        return response


# --- company ----------------------------------------------------------------------------------


class CompanyView(DealerGenericAPIView):
    queryset = Customer.objects.select_related("sales_rep")
    company_field = "pk"
    permission_classes = [dealer_permission(read_perms=("accounts.view_customer",))]
    serializer_class = s.CompanySerializer

    def get(self, request):
        customer = get_object_or_404(self.get_queryset())
        summary = selectors.customer_credit_summary(customer=customer)
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

    @extend_schema(tags=["company"])
    def get(self, request):
        return self.list(request)

    @extend_schema(
        request=s.CompanyUserCreateSerializer,
        responses={201: s.CompanyUserSerializer},
        tags=["company"],
    )
    def post(self, request):
        data = _validated(s.CompanyUserCreateSerializer, request.data)
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

    @extend_schema(tags=["company"])
    def get(self, request, pk):
        return Response(s.CompanyUserSerializer(self.get_object()).data)

    @extend_schema(
        request=s.CompanyUserUpdateSerializer, responses=s.CompanyUserSerializer, tags=["company"]
    )
    def patch(self, request, pk):
        user = self.get_object()
        data = _validated(s.CompanyUserUpdateSerializer, request.data)
        user = user_services.user_update_for_company(user=user, by=request.user, **data)
        return Response(s.CompanyUserSerializer(user).data)

    @extend_schema(tags=["company"], responses={204: None})
    def delete(self, request, pk):
        user_services.user_remove_from_company(user=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


_addresses = dealer_permission(
    "accounts.manage_company_addresses", read_perms=("accounts.view_address",)
)


class CompanyAddressListView(ListModelMixin, DealerGenericAPIView):
    queryset = Address.objects.all()
    permission_classes = [_addresses]
    serializer_class = s.AddressSerializer

    @extend_schema(tags=["company"])
    def get(self, request):
        return self.list(request)

    @extend_schema(
        request=s.AddressInputSerializer, responses={201: s.AddressSerializer}, tags=["company"]
    )
    def post(self, request):
        data = _validated(s.AddressInputSerializer, request.data)
        address = address_services.address_create(
            customer=request.user.customer, data=data, by=request.user
        )
        return Response(s.AddressSerializer(address).data, status=status.HTTP_201_CREATED)


class CompanyAddressDetailView(DealerGenericAPIView):
    queryset = Address.objects.all()
    permission_classes = [_addresses]
    serializer_class = s.AddressSerializer

    @extend_schema(tags=["company"])
    def get(self, request, pk):
        return Response(s.AddressSerializer(self.get_object()).data)

    @extend_schema(
        request=s.AddressInputSerializer, responses=s.AddressSerializer, tags=["company"]
    )
    def patch(self, request, pk):
        address = self.get_object()
        data = _validated(s.AddressInputSerializer, request.data, partial=True)
        address = address_services.address_update(address=address, data=data, by=request.user)
        return Response(s.AddressSerializer(address).data)

    @extend_schema(tags=["company"], responses={204: None})
    def delete(self, request, pk):
        address_services.address_delete(address=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
