"""Malformed requests to the back office answer as form errors, messages, a redirect or a 400,
never a 500 (``apps.core.admin_site``): a NUL in a filter or an autocomplete search, a list
filter given a value it cannot read, a bulk action posted with ids that are not ids, an
autocomplete field redrawn with a posted value that is not an id, the autocomplete endpoint
asked for a reverse relation."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from apps.campaigns.models import Campaign
from apps.core.admin_site import MalformedInputAdminMixin
from tests.admin.test_staff_rules import CAMPAIGNS, campaign_form
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def superuser(staff_client):
    return staff_client(superuser=True)


def test_every_admin_of_the_site_is_given_the_mixin():
    assert admin.site._registry  # the site is ours: every admin registered on it
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, MalformedInputAdminMixin), model


@pytest.mark.parametrize(
    "query",
    [
        "/admin/orders/order/?status__exact=%00",
        "/admin/accounts/customer/?tier__exact=%00",
        "/admin/autocomplete/?app_label=orders&model_name=order&field_name=customer&term=%00",
    ],
)
def test_a_nul_in_a_filter_or_a_search_answers_400(superuser, query):
    assert superuser.get(query).status_code == 400


@pytest.mark.parametrize("value", ["abc", "1.5", ""])
def test_a_list_filter_that_cannot_read_its_value_redirects_as_an_incorrect_lookup(
    superuser, value
):
    response = superuser.get("/admin/auditlog/logentry/", {"resource_type": value})
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


@pytest.mark.parametrize("selected", [["abc"], [""], ["1.5"], ["1", "x"]])
def test_a_bulk_action_with_ids_that_are_not_ids_changes_nothing(superuser, selected):
    customer = CustomerFactory(status="pending")
    response = superuser.post(
        "/admin/accounts/customer/",
        {"action": "approve_selected", ACTION_CHECKBOX_NAME: selected},
        follow=True,
    )
    assert response.status_code == 200
    assert "Items must be selected" in response.content.decode()
    customer.refresh_from_db()
    assert customer.status == "pending"


def test_an_autocomplete_field_posted_with_a_value_that_is_not_an_id_is_a_form_error(
    superuser,
):
    response = superuser.post(f"{CAMPAIGNS}add/", campaign_form(customers=["abc"]))
    assert response.status_code == 200
    assert "customers" in response.context["adminform"].form.errors
    assert not Campaign.objects.exists()


@pytest.mark.parametrize(
    ("model", "field"),
    [("customer", "orders"), ("customer", "addresses")],
)
def test_the_autocomplete_of_a_reverse_relation_answers_403(superuser, model, field):
    response = superuser.get(
        "/admin/autocomplete/",
        {"app_label": "accounts", "model_name": model, "field_name": field, "term": ""},
    )
    assert response.status_code == 403


def test_the_audit_log_still_filters_by_a_readable_value(superuser):
    CustomerFactory()
    kind = LogEntry.objects.values_list("content_type_id", flat=True).first()
    assert kind is not None
    response = superuser.get("/admin/auditlog/logentry/", {"resource_type": str(kind)})
    assert response.status_code == 200
    assert all(entry.content_type_id == kind for entry in response.context["cl"].result_list)
