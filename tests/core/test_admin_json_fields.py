"""Every JSON field the back office edits refuses hostile JSON with a form error: nesting
1,000 deep (Python's decoder recursed into a 500), NaN and overflowing numbers."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib import admin
from django.db import models

from apps.core.forms import SafeJSONFormField
from tests.catalog.factories import AttributeDefinitionFactory, ProductFactory

pytestmark = [pytest.mark.django_db]

DEEP = "[" * 1000 + "]" * 1000


def _json_form_fields():
    """(model admin, field name) of every JSON model field an admin add form shows."""
    found = []
    for model, model_admin in admin.site._registry.items():
        for field in model._meta.get_fields():
            if isinstance(field, models.JSONField) and field.editable:
                found.append((model, model_admin, field.name))
    return found


def test_the_product_form_answers_a_form_error_to_a_value_nested_1000_deep(staff_client):
    """Attributes are no longer posted as JSON (one field per attribute of the category), but
    a hostile value in such a field is still a form error, never a 500."""
    client = staff_client(superuser=True)
    definition = AttributeDefinitionFactory(code="power_w", type="number")
    product = ProductFactory(category=definition.category)
    url = f"/admin/catalog/product/{product.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if not isinstance(value, list | dict)
    }
    data.update({"attr__power_w": DEEP, "barcodes": "", "_save": "Save"})
    response = client.post(url, data)
    assert response.status_code == 200  # the form again, with its error
    assert "attr__power_w" in response.context["adminform"].form.errors


@pytest.mark.parametrize("text", [DEEP, "NaN", "[1e999]", '{"a": 1, "a": 2}'])
def test_the_admin_json_form_field_refuses_hostile_json(text):
    with pytest.raises(forms.ValidationError):
        SafeJSONFormField().clean(text)
    assert SafeJSONFormField().clean('{"power_w": 40}') == {"power_w": 40}


def test_every_admin_edits_its_json_fields_with_the_safe_field(rf, admin_user):
    request = rf.get("/admin/")
    request.user = admin_user
    fields = _json_form_fields()
    assert fields  # the back office does edit JSON
    for model, model_admin, name in fields:
        formfield = model_admin.formfield_for_dbfield(model._meta.get_field(name), request)
        assert isinstance(formfield, SafeJSONFormField), (model, name)
