"""Records the ERP sends, validated one by one."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.accounts.models import Address, Tier, customer_code_validator
from apps.accounts.validators import normalize_tax_number, validate_tax_number
from apps.core.serializers import MoneyField, StrictInputSerializer

ERP_CUSTOMER_STATUSES = [("active", "active"), ("suspended", "suspended")]


class ErpAddressSerializer(StrictInputSerializer):
    type = serializers.ChoiceField(choices=Address.Type.choices)
    title = serializers.CharField(max_length=100)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    district = serializers.CharField(max_length=100, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100)
    postal_code = serializers.CharField(max_length=16, required=False, allow_blank=True)
    country = serializers.RegexField(r"^[A-Z]{2}$", max_length=2, required=False, default="TR")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    is_default = serializers.BooleanField(required=False, default=False)


class ErpCustomerSerializer(StrictInputSerializer):
    code = serializers.CharField(max_length=32, validators=[customer_code_validator])
    name = serializers.CharField(max_length=200)
    tax_number = serializers.CharField(max_length=20)
    tax_office = serializers.CharField(max_length=100, required=False, allow_blank=True)
    tier = serializers.ChoiceField(choices=Tier.choices, required=False)
    credit_limit = MoneyField(required=False, min_value=0)
    status = serializers.ChoiceField(choices=ERP_CUSTOMER_STATUSES, required=False)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    payment_terms_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    addresses = ErpAddressSerializer(many=True, required=False)

    def validate_tax_number(self, value):
        try:
            validate_tax_number(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return normalize_tax_number(value)

    def validate_addresses(self, value):
        keys = [(a["type"], a["title"]) for a in value]
        if len(keys) != len(set(keys)):
            raise serializers.ValidationError(_("Two addresses share a type and title."))
        for kind in ("billing", "shipping"):
            if sum(1 for a in value if a["type"] == kind and a.get("is_default")) > 1:
                raise serializers.ValidationError(_("At most one default address per type."))
        return value
