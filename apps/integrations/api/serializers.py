"""Records the ERP sends, validated one by one."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.accounts.api.serializers import AddressInputSerializer, TaxNumberField
from apps.accounts.models import MAX_PAYMENT_TERMS_DAYS, Tier, customer_code_validator
from apps.core.serializers import MoneyField, StrictInputSerializer, one_line

ERP_CUSTOMER_STATUSES = [("active", "active"), ("suspended", "suspended")]


class ErpAddressSerializer(AddressInputSerializer):
    """An address as in the dealer API; the ERP's are matched by type and title."""

    echo_fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].default = "TR"
        self.fields["is_default"].default = False


class ErpCustomerSerializer(StrictInputSerializer):
    code = serializers.CharField(max_length=32, validators=[customer_code_validator])
    name = serializers.CharField(max_length=200, validators=[one_line])
    tax_number = TaxNumberField()
    tax_office = serializers.CharField(
        max_length=100, required=False, allow_blank=True, validators=[one_line]
    )
    tier = serializers.ChoiceField(choices=Tier.choices, required=False)
    credit_limit = MoneyField(required=False, min_value=0)
    status = serializers.ChoiceField(choices=ERP_CUSTOMER_STATUSES, required=False)
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, validators=[one_line]
    )
    email = serializers.EmailField(required=False, allow_blank=True)
    payment_terms_days = serializers.IntegerField(
        min_value=0, max_value=MAX_PAYMENT_TERMS_DAYS, required=False
    )
    addresses = ErpAddressSerializer(many=True, required=False)

    def validate_addresses(self, value):
        keys = [(a["type"], a["title"]) for a in value]
        if len(keys) != len(set(keys)):
            raise serializers.ValidationError(_("Two addresses share a type and title."))
        for kind in ("billing", "shipping"):
            if sum(1 for a in value if a["type"] == kind and a.get("is_default")) > 1:
                raise serializers.ValidationError(_("At most one default address per type."))
        return value
