from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.models import Address, AuthEvent, Consent, Customer, DealerRole, User
from apps.accounts.services.registration import consent_problems
from apps.accounts.validators import (
    normalize_tax_number,
    validate_country_code,
    validate_tax_number,
)
from apps.core.serializers import (
    FieldsBuiltOnceMixin,
    MoneyField,
    StrictInputSerializer,
    one_line,
    phone_number,
    postal_code_form,
)

TURKISH_POSTAL_CODE = _("A Turkish postal code has five digits (34394).")

# --- auth -------------------------------------------------------------------------------------


class TokenObtainSerializer(StrictInputSerializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    sms_code = serializers.CharField(
        max_length=12,
        required=False,
        allow_blank=True,
        help_text="Only for users who asked for an SMS code at sign-in: the code of the SMS "
        "the first attempt (401 `sms_code_required`) sent.",
    )


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshInputSerializer(StrictInputSerializer):
    refresh = serializers.CharField()


class TaxNumberField(serializers.CharField):
    """A Turkish VKN (10 digits) or TCKN (11 digits), check digits verified. Normalised first
    (NFKC, any decimal digit as ASCII, spaces removed): full-width digits become ASCII, so
    "4540536920" is one number however typed; letters and punctuation are refused, not dropped."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = normalize_tax_number(super().to_internal_value(data))
        try:
            validate_tax_number(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return value


@extend_schema_field(
    {"type": "string", "pattern": "^[A-Za-z]{2}$", "default": "TR", "example": "TR"}
)
class CountryField(serializers.CharField):
    """An assigned ISO 3166-1 alpha-2 code; lower case is accepted and stored upper case."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 2)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data).upper()
        try:
            validate_country_code(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return value


class PasswordCheckedMixin:
    """Judges the ``password`` field by the password rules (``AUTH_PASSWORD_VALIDATORS``, with
    the user's e-mail and names from the same body) together with the other fields, so that
    one answer names every field to correct, a weak password included. The service checks it
    again: this is the report, not the guard."""

    def to_internal_value(self, data):
        try:
            value, errors = super().to_internal_value(data), {}
        except serializers.ValidationError as exc:
            if not isinstance(exc.detail, dict):
                raise
            value, errors = None, dict(exc.detail)
        raw = data.get("password") if isinstance(data, dict) else None
        if "password" not in errors and isinstance(raw, str):
            text = {
                name: data[name] if isinstance(data.get(name), str) else ""
                for name in ("email", "first_name", "last_name")
            }
            try:
                validate_password(raw, user=User(**text))
            except DjangoValidationError as exc:
                errors["password"] = list(exc.messages)
        if errors:
            raise serializers.ValidationError(errors)
        return value


class RegisterCompanySerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=200, validators=[one_line])
    tax_number = TaxNumberField()
    tax_office = serializers.CharField(max_length=100, validators=[one_line])
    phone = serializers.CharField(max_length=32, validators=[one_line, phone_number])


class RegisterOwnerSerializer(PasswordCheckedMixin, StrictInputSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    first_name = serializers.CharField(max_length=150, validators=[one_line])
    last_name = serializers.CharField(max_length=150, validators=[one_line])
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, validators=[one_line, phone_number]
    )


class ConsentsSerializer(StrictInputSerializer):
    terms = serializers.BooleanField(help_text="The terms of sale are accepted: must be true.")
    kvkk = serializers.BooleanField(
        help_text="The KVKK privacy notice is acknowledged: must be true."
    )
    marketing = serializers.BooleanField(
        required=False, help_text="Marketing messages are allowed (may be withdrawn later)."
    )

    def validate(self, attrs):
        problems = consent_problems(attrs)
        if problems:
            raise serializers.ValidationError(problems)
        return attrs


class RegisterSerializer(StrictInputSerializer):
    company = RegisterCompanySerializer()
    owner = RegisterOwnerSerializer()
    consents = ConsentsSerializer()


class RegisterVerifySerializer(StrictInputSerializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)


class PasswordResetSerializer(StrictInputSerializer):
    email = serializers.CharField(max_length=254)


class PasswordResetConfirmSerializer(StrictInputSerializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=256, trim_whitespace=False)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


# --- self and company -------------------------------------------------------------------------


class CompanyBriefSerializer(FieldsBuiltOnceMixin, serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "code", "name", "tier", "status"]


class MeUserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "phone", "last_login", "date_joined"]
        read_only_fields = fields


class MeSerializer(FieldsBuiltOnceMixin, serializers.ModelSerializer):
    # API.md's shape (user, role, permissions, company); the user's fields also stay at the
    # top level, where clients written before ``user`` read them
    user = MeUserSerializer(source="*", read_only=True)
    permissions = serializers.SerializerMethodField()
    company = CompanyBriefSerializer(source="customer", allow_null=True)
    order_limit = MoneyField(allow_null=True)

    class Meta:
        model = User
        fields = [
            "user",
            "id",
            "email",
            "first_name",
            "last_name",
            "phone",
            "role",
            "order_limit",
            "is_staff",
            "permissions",
            "company",
            "last_login",
            "date_joined",
        ]

    def get_permissions(self, user) -> list[str]:
        return sorted(user.get_all_permissions())


class SalesRepSerializer(serializers.Serializer):
    name = serializers.CharField(source="get_full_name")
    email = serializers.EmailField()
    phone = serializers.CharField()


class CompanySerializer(serializers.ModelSerializer):
    # the current account's figures: null for a role that may not see the ledger
    ACCOUNT_FIGURES = ("credit_limit", "balance", "open_orders_total", "available_credit")
    credit_limit = MoneyField(allow_null=True)
    balance = MoneyField(allow_null=True)
    open_orders_total = MoneyField(allow_null=True)
    available_credit = MoneyField(allow_null=True)
    currency = serializers.CharField()
    sales_rep = SalesRepSerializer(allow_null=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "code",
            "name",
            "tier",
            "status",
            "tax_number",
            "tax_office",
            "phone",
            "email",
            "payment_terms_days",
            "credit_limit",
            "balance",
            "open_orders_total",
            "available_credit",
            "currency",
            "sales_rep",
        ]


class CompanyUserSerializer(serializers.ModelSerializer):
    order_limit = MoneyField(allow_null=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "phone",
            "role",
            "order_limit",
            "is_active",
            "last_login",
            "date_joined",
        ]


class CompanyUserUpdateSerializer(StrictInputSerializer):
    echo_fields = ("id", "email", "last_login", "date_joined")

    first_name = serializers.CharField(
        max_length=150, required=False, allow_blank=True, validators=[one_line]
    )
    last_name = serializers.CharField(
        max_length=150, required=False, allow_blank=True, validators=[one_line]
    )
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, validators=[one_line, phone_number]
    )
    role = serializers.ChoiceField(choices=DealerRole.choices, required=False)
    order_limit = MoneyField(required=False, allow_null=True, min_value=0)
    is_active = serializers.BooleanField(required=False)


class CompanyUserCreateSerializer(PasswordCheckedMixin, CompanyUserUpdateSerializer):
    echo_fields = ()

    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=DealerRole.choices)
    is_active = serializers.BooleanField(required=False, default=True)
    password = serializers.CharField(
        max_length=256,
        required=False,
        trim_whitespace=False,
        write_only=True,
        help_text=_("Leave out to e-mail the user an invitation to choose a password."),
    )


class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = [
            "id",
            "type",
            "title",
            "line1",
            "line2",
            "district",
            "city",
            "postal_code",
            "country",
            "phone",
            "is_default",
        ]


class AddressInputSerializer(StrictInputSerializer):
    echo_fields = ("id",)

    type = serializers.ChoiceField(choices=Address.Type.choices)
    # one line each (an address label, a PDF, a courier's form): no tab or line separator
    title = serializers.CharField(max_length=100, validators=[one_line])
    line1 = serializers.CharField(max_length=200, validators=[one_line])
    line2 = serializers.CharField(
        max_length=200, required=False, allow_blank=True, validators=[one_line]
    )
    district = serializers.CharField(
        max_length=100, required=False, allow_blank=True, validators=[one_line]
    )
    city = serializers.CharField(max_length=100, validators=[one_line])
    postal_code = serializers.CharField(
        max_length=16, required=False, allow_blank=True, validators=[one_line, postal_code_form]
    )
    country = CountryField(required=False)
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, validators=[one_line, phone_number]
    )
    is_default = serializers.BooleanField(required=False)

    def validate(self, attrs):
        # a Turkish address's postal code has five digits; the country is the one sent, else
        # the address's (a change: ``current``, its fields as the API shows them), else
        # Turkey's (a new address). A change that touches neither keeps what is stored.
        current = self.context.get("current") or {}
        if "postal_code" not in attrs and "country" not in attrs:
            return attrs
        country = attrs.get("country") or current.get("country") or "TR"
        code = attrs.get("postal_code", current.get("postal_code", ""))
        if country == "TR" and code and not (code.isascii() and code.isdigit() and len(code) == 5):
            raise serializers.ValidationError({"postal_code": [TURKISH_POSTAL_CODE]})
        return attrs


class ConsentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Consent
        fields = ["kind", "version", "granted", "at", "ip_address"]


class AuthEventSerializer(serializers.ModelSerializer):
    """A login, logout, failed login or password change of the user."""

    class Meta:
        model = AuthEvent
        fields = ["kind", "at", "ip_address", "user_agent", "detail"]


class PersonalDataExportSerializer(serializers.Serializer):
    exported_at = serializers.DateTimeField()
    user = MeSerializer()
    consents = ConsentSerializer(many=True)
    auth_events = AuthEventSerializer(many=True)
