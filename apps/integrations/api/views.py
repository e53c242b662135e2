"""Integration API resources. Each bulk resource is a few lines on the batch frame."""

from __future__ import annotations

from django.utils.translation import gettext as _

from apps.accounts.models import ApiKeyScope, Customer
from apps.accounts.services.erp import customer_upsert_from_erp
from apps.core.exceptions import ValidationError
from apps.integrations.api.base import BatchUpsertView
from apps.integrations.api.serializers import ErpCustomerSerializer


class CustomerBatchView(BatchUpsertView):
    resource = "customers"
    key_field = "code"
    batch_unique = ("code",)
    scope = ApiKeyScope.CUSTOMERS_WRITE
    record_serializer_class = ErpCustomerSerializer

    def upsert(self, record: dict) -> str:
        clash = Customer.objects.filter(tax_number=record["tax_number"]).exclude(
            code=record["code"]
        )
        if clash.exists():
            raise ValidationError(
                {"tax_number": [_("Another customer already has this tax number.")]}
            )
        return customer_upsert_from_erp(record=record)
