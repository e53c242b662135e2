"""The catalog back office: products (list, search, filters, attributes, actions, soft delete,
CSV import/export), the category tree and brands."""

from __future__ import annotations

import csv
import io
import json

import pytest
import tablib
from django import forms
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models.fields.files import FieldFile
from django.test.utils import CaptureQueriesContext
from PIL import Image

from apps.catalog.models import AttributeDefinition, Brand, Category, Product, ProductImage
from apps.catalog.resources import ProductResource
from tests.catalog.factories import (
    AttributeDefinitionFactory,
    BrandFactory,
    CategoryFactory,
    ProductFactory,
    StockLevelFactory,
    WarehouseFactory,
)

pytestmark = [pytest.mark.django_db]

PRODUCTS = "/admin/catalog/product/"
CATEGORIES = "/admin/catalog/category/"
BRANDS = "/admin/catalog/brand/"


@pytest.fixture
def admin_client(staff_client):
    return staff_client(superuser=True)


@pytest.fixture
def lighting():
    """Lighting > LED > Panels, with power_w (number) and ip_rating (choice) on Lighting."""
    top = CategoryFactory(name="Lighting")
    led = CategoryFactory(name="LED", parent=top)
    panels = CategoryFactory(name="Panels", parent=led)
    AttributeDefinitionFactory(category=top, code="power_w", type="number", unit="W")
    AttributeDefinitionFactory(
        category=top, code="ip_rating", type="choice", choices=["IP20", "IP44", "IP65"]
    )
    return panels


def run_action(client, action: str, products):
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(p.pk) for p in products]}
    return client.post(PRODUCTS, data, follow=True)


def inline_management(response) -> dict:
    """What the inline formsets of an admin form page post back unchanged: management forms
    and the current values of every existing row."""
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data[f"{formset.prefix}-TOTAL_FORMS"] = formset.total_form_count()
        data[f"{formset.prefix}-INITIAL_FORMS"] = formset.initial_form_count()
        for index, form in enumerate(formset.initial_forms):
            for name, field in form.fields.items():
                value = form.initial.get(name, field.initial)
                if isinstance(value, FieldFile) or value is None or value is False:
                    continue  # a file input left empty keeps the file; unticked boxes
                if value is True:
                    value = "on"
                elif isinstance(value, list | dict):
                    value = json.dumps(value)
                elif hasattr(value, "pk"):
                    value = value.pk
                data[f"{formset.prefix}-{index}-{name}"] = value
    return data


def product_data(category, brand=None, **overrides) -> dict:
    data = {
        "sku": "PNL-6060-40",
        "name": "LED Panel 60x60 40W",
        "description": "",
        "brand": brand.pk if brand else "",
        "category": category.pk,
        "is_active": "on",
        "unit": "piece",
        "vat_rate": 20,
        "min_order_quantity": 1,
        "order_multiple": 1,
        "barcodes": "8690000000011, 8690000000028",
        # the attribute fields of the category, as the page showed them for it
        "attributes_category": category.pk,
        "attr__power_w": "40",
        "attr__ip_rating": "IP44",
    }
    data.update(overrides)
    return data


# --- product list -------------------------------------------------------------------------------


def test_product_changelist_search_and_filters_answer_200_for_a_superuser(admin_client, lighting):
    brand = BrandFactory(name="Yıldız")
    panel = ProductFactory(
        sku="PNL-1",
        name="Panel 60x60",
        brand=brand,
        category=lighting,
        barcodes=["8691234567890"],
        vat_rate=10,
    )
    other = ProductFactory(sku="CBL-1", name="NYM cable", is_active=False)
    StockLevelFactory(product=panel, warehouse=WarehouseFactory(code="IST"), on_hand=30, reserved=5)
    StockLevelFactory(product=panel, warehouse=WarehouseFactory(code="ANK"), on_hand=7)

    response = admin_client.get(PRODUCTS)
    assert response.status_code == 200
    rows = {p.sku: p for p in response.context["cl"].result_list}
    assert set(rows) == {"PNL-1", "CBL-1"}
    assert rows["PNL-1"].available == 32  # 25 in IST + 7 in ANK

    def found(**params) -> set[str]:
        page = admin_client.get(PRODUCTS, params)
        assert page.status_code == 200
        return {p.sku for p in page.context["cl"].result_list}

    assert found(q="8691234567890") == {"PNL-1"}  # a barcode, through search_document
    assert found(q="yıldız") == {"PNL-1"}  # the brand
    assert found(q="cbl-1") == {"CBL-1"}
    assert found(is_active__exact="0") == {"CBL-1"}
    assert found(brand__id__exact=brand.pk) == {"PNL-1"}
    assert found(category=lighting.parent.parent.pk) == {"PNL-1"}  # with sub-categories
    assert found(category="not-a-number") == set()
    assert found(vat_rate__exact=10) == {"PNL-1"}
    assert found(serial_tracked__exact="0") == {"PNL-1", "CBL-1"}
    assert found(o="7") == {"PNL-1", "CBL-1"}  # sorted by available stock
    assert other.pk


def test_product_changelist_query_count_does_not_grow_with_the_rows(admin_client, lighting):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(PRODUCTS).status_code == 200
        return len(queries)

    warehouse = WarehouseFactory(code="IST")
    for _ in range(3):
        StockLevelFactory(product=ProductFactory(category=lighting), warehouse=warehouse)
    count_queries()  # warm: the work queues of the header are cached a minute
    few = count_queries()
    for _ in range(20):
        StockLevelFactory(product=ProductFactory(category=lighting), warehouse=warehouse)
    assert count_queries() == few


def test_product_change_page_shows_the_category_attributes_as_fields_and_stock(
    admin_client, lighting
):
    product = ProductFactory(category=lighting, attributes={"power_w": 40, "ip_rating": "IP44"})
    StockLevelFactory(product=product, warehouse=WarehouseFactory(code="IST"), on_hand=12)
    response = admin_client.get(f"{PRODUCTS}{product.pk}/change/")
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert isinstance(form.fields["attr__power_w"].widget, forms.NumberInput)
    assert isinstance(form.fields["attr__ip_rating"].widget, forms.Select)
    assert [c for c, _label in form.fields["attr__ip_rating"].choices] == [
        "",
        "IP20",
        "IP44",
        "IP65",
    ]
    assert form["attr__power_w"].value() == 40 and form["attr__ip_rating"].value() == "IP44"
    assert "attributes" not in form.fields  # no raw JSON for staff
    content = response.content.decode()
    assert 'name="attributes"' not in content
    assert 'data-panel="stock"' in content  # read-only: no stock inline to edit
    assert not [
        i
        for i in response.context["inline_admin_formsets"]
        if i.opts.model._meta.model_name == "stocklevel"
    ]
    add = admin_client.get(f"{PRODUCTS}add/")
    assert add.status_code == 200
    assert "Choose the category: its attributes appear here" in add.content.decode()


@pytest.mark.parametrize("role", ["Customer Service", "Sales Manager"])
def test_a_read_only_product_page_shows_the_attribute_values(staff_client, lighting, role):
    # given: staff who may view products but not change them (a read-only page showed each
    # attribute form field as "None")
    product = ProductFactory(category=lighting, attributes={"power_w": 40, "ip_rating": "IP44"})
    response = staff_client(role).get(f"{PRODUCTS}{product.pk}/change/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "40 W" in content and "IP44" in content
    assert "Attr power w" not in content and "Attributes category" not in content


def test_a_yes_no_and_a_text_attribute_get_their_own_kind_of_field(admin_client, lighting):
    AttributeDefinitionFactory(category=lighting, code="dimmable", type="boolean")
    AttributeDefinitionFactory(category=lighting, code="colour", type="text", is_required=True)
    product = ProductFactory(
        category=lighting, attributes={"colour": "warm white", "dimmable": True}
    )
    form = admin_client.get(f"{PRODUCTS}{product.pk}/change/").context["adminform"].form
    assert isinstance(form.fields["attr__dimmable"].widget, forms.NullBooleanSelect)
    assert form.fields["attr__colour"].required  # shown as required (the label is bold)
    assert form["attr__colour"].value() == "warm white"
    assert form["attr__dimmable"].value() is True


# --- product form -------------------------------------------------------------------------------


def test_product_add_validates_each_attribute_in_its_field_and_saves_nothing(
    admin_client, lighting
):
    page = admin_client.get(f"{PRODUCTS}add/")
    data = {
        **product_data(lighting),
        **inline_management(page),
        "attr__power_w": "forty",
        "attr__ip_rating": "IP99",
    }
    response = admin_client.post(f"{PRODUCTS}add/", data)
    assert response.status_code == 200  # the form again, not a 500
    errors = response.context["adminform"].form.errors
    assert errors["attr__power_w"] == ["Must be a number."]  # the catalog's own words
    assert errors["attr__ip_rating"] == ["Must be one of: IP20, IP44, IP65."]
    assert not Product.all_objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sku", "PNL\u200b-6060-40"),
        ("sku", "PNL-6060-٤٠"),
        ("sku", "PNL\x01-6060"),
        ("sku", "PNL∕6060"),
        ("name", "LED\x07 Panel"),
        ("barcodes", "8690000000011, 86900\u200b00000028"),
    ],
    ids=["zero-width sku", "arabic-indic sku", "control sku", "division slash", "bell", "barcode"],
)
def test_a_product_typed_in_the_admin_takes_no_lookalike_key_nor_control_character(
    admin_client, lighting, field, value
):
    """The ERP feed and the API refuse these; the admin saved them, and a SKU cannot be
    changed once saved (a look-alike of an ERP SKU for good)."""
    page = admin_client.get(f"{PRODUCTS}add/")
    data = {**product_data(lighting), **inline_management(page), field: value}
    response = admin_client.post(f"{PRODUCTS}add/", data)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Product.all_objects.exists()


@pytest.mark.parametrize("value", ["-1", "0"])
def test_a_minimum_order_quantity_below_one_is_told_at_least_one(admin_client, lighting, value):
    page = admin_client.get(f"{PRODUCTS}add/")
    data = {**product_data(lighting), **inline_management(page), "min_order_quantity": value}
    response = admin_client.post(f"{PRODUCTS}add/", data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["min_order_quantity"]
    assert errors == ["Ensure this value is greater than or equal to 1."]
    assert not Product.all_objects.exists()


def test_a_sku_pasted_in_decomposed_form_is_taken_composed(admin_client, lighting):
    """A "Ç" pasted as C and a combining cedilla (macOS, some PDFs) was refused for its
    combining mark; the ERP's feed takes it as the composed "Ç"."""
    page = admin_client.get(f"{PRODUCTS}add/")
    data = {**product_data(lighting), **inline_management(page), "sku": "C\u0327AY-1"}
    response = admin_client.post(f"{PRODUCTS}add/", data)
    assert response.status_code == 302
    assert Product.objects.get().sku == "ÇAY-1"


def test_a_name_with_a_c1_control_or_a_line_separator_is_refused(admin_client, lighting):
    page = admin_client.get(f"{PRODUCTS}add/")
    for name in ("LED\x85 Panel", "LED\u2028Panel"):
        data = {**product_data(lighting), **inline_management(page), "name": name}
        response = admin_client.post(f"{PRODUCTS}add/", data)
        assert response.status_code == 200, name
        assert "name" in response.context["adminform"].form.errors
    assert not Product.all_objects.exists()


def test_a_product_description_keeps_its_line_breaks_and_tabs(admin_client, lighting):
    page = admin_client.get(f"{PRODUCTS}add/")
    description = "Two lines:\r\n\tan indented one"
    data = {**product_data(lighting), **inline_management(page), "description": description}
    response = admin_client.post(f"{PRODUCTS}add/", data)
    assert response.status_code == 302
    assert Product.objects.get().description == description


def test_a_required_attribute_left_empty_is_a_form_error(admin_client, lighting):
    AttributeDefinitionFactory(category=lighting, code="colour", type="text", is_required=True)
    page = admin_client.get(f"{PRODUCTS}add/")
    data = {**product_data(lighting), **inline_management(page), "attr__colour": ""}
    response = admin_client.post(f"{PRODUCTS}add/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["attr__colour"] == [
        "This attribute is required."
    ]
    assert not Product.all_objects.exists()


def test_product_add_saves_clean_attributes_and_the_search_document(admin_client, lighting):
    brand = BrandFactory(name="Nova Led")
    page = admin_client.get(f"{PRODUCTS}add/")
    data = {
        **product_data(lighting, brand, attr__ip_rating=""),
        **inline_management(page),
    }
    response = admin_client.post(f"{PRODUCTS}add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    product = Product.objects.get(sku="PNL-6060-40")
    assert product.attributes == {"power_w": 40}  # a number, as the API stores it
    assert product.barcodes == ["8690000000011", "8690000000028"]
    assert product.created_by == admin_client.user
    for word in ("pnl-6060-40", "nova led", "8690000000028", "40"):
        assert word in product.search_document


def test_a_new_product_shows_its_category_attributes_before_it_saves(admin_client, lighting):
    page = admin_client.get(f"{PRODUCTS}add/")
    assert "attr__power_w" not in page.context["adminform"].form.fields  # no category yet
    data = {**product_data(lighting), **inline_management(page), "attributes_category": ""}
    for name in ("attr__power_w", "attr__ip_rating"):
        data.pop(name)
    response = admin_client.post(f"{PRODUCTS}add/", data)
    assert response.status_code == 200  # the attributes to fill in, nothing saved yet
    form = response.context["adminform"].form
    assert "attr__power_w" in form.fields and "attr__ip_rating" in form.fields
    assert "The attributes of the category Panels are shown below" in str(form.non_field_errors())
    assert not Product.all_objects.exists()
    data.update(attributes_category=lighting.pk, attr__power_w="36", attr__ip_rating="IP65")
    assert admin_client.post(f"{PRODUCTS}add/", data).status_code == 302
    assert Product.objects.get().attributes == {"power_w": 36, "ip_rating": "IP65"}


def test_changing_the_category_shows_the_new_category_attributes_first(admin_client, lighting):
    cables = CategoryFactory(name="Cables")
    AttributeDefinitionFactory(category=cables, code="cross_section", type="number", unit="mm²")
    product = ProductFactory(
        sku="PNL-9", category=lighting, attributes={"power_w": 40, "ip_rating": "IP44"}
    )
    url = f"{PRODUCTS}{product.pk}/change/"
    page = admin_client.get(url)
    data = {**product_data(lighting, sku="PNL-9"), **inline_management(page)}
    data.pop("sku")
    data["category"] = cables.pk  # attributes_category still says lighting
    response = admin_client.post(url, data)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "attr__cross_section" in form.fields and "attr__power_w" not in form.fields
    assert form["attributes_category"].value() == str(cables.pk)  # shown for the new one
    product.refresh_from_db()
    assert product.category == lighting  # nothing saved yet
    data.update(attributes_category=cables.pk, attr__cross_section="2.5")
    assert admin_client.post(url, data).status_code == 302
    product.refresh_from_db()
    assert (product.category, product.attributes) == (cables, {"cross_section": 2.5})


def test_product_change_rebuilds_the_search_document(admin_client, lighting):
    product = ProductFactory(sku="PNL-2", name="Old name", category=lighting)
    page = admin_client.get(f"{PRODUCTS}{product.pk}/change/")
    data = {
        **product_data(lighting, name="Brand new panel", barcodes="123"),
        **inline_management(page),
    }
    data.pop("sku")  # read-only once saved
    response = admin_client.post(f"{PRODUCTS}{product.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    product.refresh_from_db()
    assert product.sku == "PNL-2"
    assert "brand new panel" in product.search_document and "123" in product.search_document
    assert product.updated_by == admin_client.user


def test_product_add_refuses_the_sku_of_a_deleted_product(admin_client, lighting):
    ProductFactory(sku="PNL-6060-40", category=lighting).soft_delete()
    page = admin_client.get(f"{PRODUCTS}add/")
    response = admin_client.post(
        f"{PRODUCTS}add/", {**product_data(lighting), **inline_management(page)}
    )
    assert response.status_code == 200
    assert "sku" in response.context["adminform"].form.errors


# --- actions and deletion -----------------------------------------------------------------------


def test_activate_and_deactivate_actions(admin_client):
    products = [ProductFactory(is_active=True), ProductFactory(is_active=True)]
    response = run_action(admin_client, "deactivate_selected", products)
    assert response.status_code == 200
    assert Product.objects.filter(is_active=True).count() == 0
    assert "2 products deactivated" in response.content.decode()

    run_action(admin_client, "activate_selected", products[:1])
    assert list(Product.objects.filter(is_active=True)) == products[:1]
    products[0].refresh_from_db()
    assert products[0].updated_by == admin_client.user


def test_soft_delete_action_hides_products_and_hard_delete_is_disabled(admin_client):
    doomed, kept = ProductFactory(), ProductFactory()
    response = run_action(admin_client, "soft_delete_selected", [doomed])
    assert response.status_code == 200
    doomed = Product.all_objects.get(pk=doomed.pk)
    assert doomed.is_deleted and doomed.deleted_at is not None
    assert list(Product.objects.all()) == [kept]
    assert {p.pk for p in admin_client.get(PRODUCTS).context["cl"].result_list} == {kept.pk}

    page = admin_client.get(PRODUCTS)
    actions = [value for value, _label in page.context["action_form"].fields["action"].choices]
    assert "delete_selected" not in actions and "soft_delete_selected" in actions
    assert admin_client.get(f"{PRODUCTS}{kept.pk}/delete/").status_code == 403
    assert Product.objects.filter(pk=kept.pk).exists()


def test_deleted_products_are_listed_apart_read_only_and_can_be_restored(
    admin_client, dealer_client, staff_client
):
    from apps.integrations.models import OutboxEvent
    from apps.pricing.models import Price, PriceList

    gone, kept = ProductFactory(sku="GONE-1"), ProductFactory(sku="KEPT-1")
    Price.objects.create(price_list=PriceList.objects.get(code="LIST"), product=gone, amount=5)
    run_action(admin_client, "soft_delete_selected", [gone])
    dealer = dealer_client("viewer")
    assert dealer.get("/api/v1/products/GONE-1").status_code == 404

    # the list shows live products; the "deleted" filter shows the deleted ones only
    listed = admin_client.get(PRODUCTS).context["cl"].result_list
    assert {p.pk for p in listed} == {kept.pk}
    listed = admin_client.get(PRODUCTS, {"deleted": "yes"}).context["cl"].result_list
    assert {p.pk for p in listed} == {gone.pk}
    # its page opens read-only: nothing is saved on a deleted product
    page = admin_client.get(f"{PRODUCTS}{gone.pk}/change/")
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert admin_client.post(f"{PRODUCTS}{gone.pk}/change/", {"name": "X"}).status_code == 403

    # other screens' product pickers offer live products only
    found = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "pricing", "model_name": "price", "field_name": "product", "term": "1"},
    ).json()["results"]
    assert {r["id"] for r in found} == {str(kept.pk)}

    # staff without the delete right are not offered the restore
    viewer = staff_client("Customer Service")
    form = viewer.get(PRODUCTS, {"deleted": "yes"}).context["action_form"]
    offered = [v for v, _label in form.fields["action"].choices] if form else []
    assert "restore_selected" not in offered

    # each list offers what makes sense there
    def offered(query):
        form = admin_client.get(PRODUCTS, query).context["action_form"]
        return {value for value, _label in form.fields["action"].choices if value}

    assert offered({"deleted": "yes"}) == {"restore_selected"}
    assert "restore_selected" not in offered({}) and "soft_delete_selected" in offered({})

    before = OutboxEvent.objects.filter(type="product.updated").count()
    data = {"action": "restore_selected", ACTION_CHECKBOX_NAME: [str(gone.pk), str(kept.pk)]}
    response = admin_client.post(f"{PRODUCTS}?deleted=yes", data, follow=True)
    assert "1 product restored." in response.content.decode()
    gone = Product.objects.get(pk=gone.pk)  # back among the live ones
    assert gone.deleted_at is None and gone.updated_by == admin_client.user
    event = OutboxEvent.objects.filter(type="product.updated").order_by("id").last()
    assert OutboxEvent.objects.filter(type="product.updated").count() == before + 1
    assert event.data["products"] == [
        {"sku": "GONE-1", "name": gone.name, "is_active": True, "change": "updated"}
    ]
    detail = dealer.get("/api/v1/products/GONE-1")
    assert detail.status_code == 200 and detail.json()["price"]["unit_net"] == "5.0000"


def test_serial_tracking_of_a_product_with_stock_cannot_change_in_the_form_or_the_import(
    admin_client, lighting
):
    """Rule (DESIGN.md, Returns and Orders): serial-tracked units ship and come back by serial
    number, so a product's tracking changes only while no stock hangs on it."""
    product = ProductFactory(sku="PNL-6060-40", category=lighting, attributes={"power_w": 40})
    StockLevelFactory(product=product, warehouse=WarehouseFactory(), on_hand=3)
    url = f"{PRODUCTS}{product.pk}/change/"
    page = admin_client.get(url)
    data = {**product_data(lighting), **inline_management(page), "serial_tracked": "on"}
    response = admin_client.post(url, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "stock on hand or reserved" in str(errors["serial_tracked"])
    product.refresh_from_db()
    assert not product.serial_tracked

    upload = csv_file([import_row("PNL-6060-40", serial_tracked="1")])
    response = admin_client.post(
        f"{PRODUCTS}import/", {"import_file": upload, "format": "0", "resource": "0"}
    )
    invalid = response.context["result"].invalid_rows
    assert [row.number for row in invalid] == [1]
    assert "stock on hand or reserved" in str(invalid[0].error_dict["serial_tracked"])

    # without stock it changes (and nothing else hangs on it)
    StockLevelFactory._meta.model.objects.filter(product=product).update(on_hand=0)
    response = admin_client.post(url, data)
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.serial_tracked


def test_staff_without_catalog_permissions_cannot_open_products(staff_client):
    assert staff_client().get(PRODUCTS).status_code == 403


# --- import / export ----------------------------------------------------------------------------


def test_export_csv_contains_the_rows(admin_client, lighting):
    brand = BrandFactory(name="Lumina Pro")
    ProductFactory(
        sku="PNL-9",
        name="LED Panel",
        brand=brand,
        category=lighting,
        barcodes=["8690000000011"],
        attributes={"power_w": 40},
    )
    ProductFactory(sku="GONE-9").soft_delete()
    data = {"format": "0", "resource": "0"}
    data.update({f"productresource_{name}": "on" for name in ProductResource.Meta.fields})
    response = admin_client.post(f"{PRODUCTS}export/", data)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row["sku"] for row in rows] == ["PNL-9"]
    row = rows[0]
    assert row["brand"] == "Lumina Pro"
    assert row["category"] == "Lighting > LED > Panels"
    assert row["barcodes"] == "8690000000011"
    assert row["attributes"] == '{"power_w": 40}'


def csv_file(rows: list[dict]) -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile("products.csv", out.getvalue().encode(), "text/csv")


def import_row(sku: str, **overrides) -> dict:
    row = {
        "sku": sku,
        "name": f"Product {sku}",
        "brand": "Nova Led",
        "category": "Lighting > LED > Panels",
        "vat_rate": "20",
        "barcodes": "",
        "attributes": '{"power_w": 36}',
        "is_active": "1",
    }
    row.update(overrides)
    return row


def test_import_csv_creates_and_updates_products(admin_client, lighting):
    existing = ProductFactory(sku="PNL-1", name="Old", category=lighting)
    upload = csv_file(
        [
            import_row("PNL-1", name="Renamed panel", barcodes="8690000000011;8690000000028"),
            import_row("BLB-1", category="Lighting > LED > Bulbs", brand="Brand New Co"),
        ]
    )
    response = admin_client.post(
        f"{PRODUCTS}import/", {"import_file": upload, "format": "0", "resource": "0"}
    )
    assert response.status_code == 200
    assert not response.context["result"].has_errors()
    confirm = response.context["confirm_form"]
    assert not Product.objects.filter(sku="BLB-1").exists()  # the first step is a dry run

    response = admin_client.post(f"{PRODUCTS}process_import/", confirm.initial, follow=True)
    assert response.status_code == 200
    existing.refresh_from_db()
    assert existing.name == "Renamed panel"
    assert existing.barcodes == ["8690000000011", "8690000000028"]
    assert "8690000000028" in existing.search_document
    created = Product.objects.get(sku="BLB-1")
    assert created.category.name == "Bulbs" and created.category.parent == lighting.parent
    assert created.category.path.startswith(lighting.parent.path)
    assert created.brand.name == "Brand New Co" and created.brand.slug == "brand-new-co"
    assert created.attributes == {"power_w": 36}
    assert created.created_by == admin_client.user


def test_import_csv_reports_a_bad_row_and_imports_nothing_from_the_admin(admin_client, lighting):
    upload = csv_file(
        [
            import_row("OK-1"),
            import_row("BAD-1", vat_rate="7", attributes='{"power_w": "strong"}'),
            import_row("BAD-2", category=""),
        ]
    )
    response = admin_client.post(
        f"{PRODUCTS}import/", {"import_file": upload, "format": "0", "resource": "0"}
    )
    assert response.status_code == 200
    result = response.context["result"]
    assert result.has_validation_errors()
    invalid = {row.number: row for row in result.invalid_rows}
    assert set(invalid) == {2, 3}
    errors = invalid[2].error_dict
    assert "vat_rate" in errors and "attributes" in errors
    assert any("power_w" in str(m) for m in errors["attributes"])
    assert "category" in invalid[3].error_dict
    assert "confirm_form" not in response.context
    assert not Product.objects.filter(sku__in=["OK-1", "BAD-1", "BAD-2"]).exists()


def test_import_refuses_control_characters_and_lookalike_skus(admin_client, lighting):
    upload = csv_file(
        [
            import_row("OK-1"),
            import_row("IMP\x01A"),
            import_row("IMP-2", name="Bell\x07"),
            import_row("IMP\u200b-3"),
        ]
    )
    response = admin_client.post(
        f"{PRODUCTS}import/", {"import_file": upload, "format": "0", "resource": "0"}
    )
    result = response.context["result"]
    invalid = {row.number: row.error_dict for row in result.invalid_rows}
    assert set(invalid) == {2, 3, 4}, invalid
    assert "sku" in invalid[2] and "name" in invalid[3] and "sku" in invalid[4]
    assert "confirm_form" not in response.context
    assert not Product.all_objects.exists()


def test_a_file_without_the_sku_column_is_said_in_words_without_a_traceback(admin_client):
    """The import page printed the Python traceback of an error of the whole file, with the
    server's paths."""
    row = import_row("X-1")
    del row["sku"]
    response = admin_client.post(
        f"{PRODUCTS}import/", {"import_file": csv_file([row]), "format": "0", "resource": "0"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["result"].has_errors()
    assert "sku" in page
    assert "Traceback" not in page and "site-packages" not in page
    assert not Product.all_objects.exists()


def test_product_resource_applies_valid_rows_and_reports_bad_ones_like_the_erp_feed(lighting):
    dataset = tablib.Dataset(headers=list(import_row("X")))
    for row in (
        import_row("OK-1"),
        import_row("BAD-1", attributes="not json"),
        import_row("OK-2", is_active="0"),
        import_row("BAD-2", is_active="maybe"),
        import_row("BAD-3", category="A > > B"),
    ):
        dataset.append(list(row.values()))
    result = ProductResource().import_data(dataset, dry_run=False)
    assert sorted(Product.objects.values_list("sku", flat=True)) == ["OK-1", "OK-2"]
    assert Product.objects.get(sku="OK-2").is_active is False
    assert {row.number for row in result.invalid_rows} == {2, 4, 5}
    assert not result.has_errors()

    again = ProductResource().import_data(dataset.subset(rows=[0]), dry_run=False)
    assert again.totals["skip"] == 1  # unchanged rows write nothing


def test_import_brings_a_deleted_product_back(lighting):
    product = ProductFactory(sku="PNL-5", category=lighting)
    product.soft_delete()
    dataset = tablib.Dataset(headers=list(import_row("PNL-5")))
    dataset.append(list(import_row("PNL-5").values()))
    ProductResource().import_data(dataset, dry_run=False)
    assert Product.objects.filter(pk=product.pk).exists()


# --- categories ---------------------------------------------------------------------------------


def category_form(response, **data) -> dict:
    return {**data, **inline_management(response)}


def test_category_tree_admin_creates_children_with_the_right_path(admin_client):
    page = admin_client.get(f"{CATEGORIES}add/")
    data = category_form(page, name="Electrical", sort_order=0, is_active="on")
    assert admin_client.post(f"{CATEGORIES}add/", data).status_code == 302
    root = Category.objects.get(name="Electrical")

    data = category_form(page, name="Cables", parent=root.pk, sort_order=0, is_active="on")
    assert admin_client.post(f"{CATEGORIES}add/", data).status_code == 302
    cables = Category.objects.get(name="Cables")
    data = category_form(page, name="Power cables", parent=cables.pk, sort_order=0)
    assert admin_client.post(f"{CATEGORIES}add/", data).status_code == 302
    power = Category.objects.get(name="Power cables")

    assert cables.parent == root and cables.depth == 2 and cables.path == root.path + "0001"
    assert power.depth == 3 and power.path.startswith(cables.path) and len(power.path) == 12
    assert power.slug == "electrical-cables-power-cables"

    listing = admin_client.get(CATEGORIES)
    assert listing.status_code == 200
    assert [c.name for c in listing.context["cl"].result_list] == [
        "Electrical",
        "Cables",
        "Power cables",
    ]
    assert "— — Power cables" in listing.content.decode()

    duplicate = category_form(page, name="cables", parent=root.pk, sort_order=0)
    response = admin_client.post(f"{CATEGORIES}add/", duplicate)
    assert response.status_code == 200
    assert "name" in response.context["adminform"].form.errors


def test_category_change_renames_but_cannot_move(admin_client):
    root, other = CategoryFactory(name="Lighting"), CategoryFactory(name="Plumbing")
    child = CategoryFactory(name="LED", parent=root)
    page = admin_client.get(f"{CATEGORIES}{child.pk}/change/")
    assert "not supported" in page.content.decode()
    data = category_form(page, name="LED lighting", parent=other.pk, sort_order=5, is_active="on")
    response = admin_client.post(f"{CATEGORIES}{child.pk}/change/", data)
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.name == "LED lighting" and child.sort_order == 5
    assert child.parent == root and child.path.startswith(root.path)  # not moved


def test_category_attribute_definitions_inline_requires_choices_for_the_choice_type(admin_client):
    category = CategoryFactory(name="Lighting")
    page = admin_client.get(f"{CATEGORIES}{category.pk}/change/")
    prefix = "attribute_definitions"
    data = category_form(page, name="Lighting", sort_order=0, is_active="on")
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": 2,
            f"{prefix}-0-code": "ip_rating",
            f"{prefix}-0-name": "IP rating",
            f"{prefix}-0-type": "choice",
            f"{prefix}-0-choices": "[]",
            f"{prefix}-0-sort_order": 0,
            f"{prefix}-1-code": "power_w",
            f"{prefix}-1-name": "Power",
            f"{prefix}-1-type": "number",
            f"{prefix}-1-unit": "W",
            f"{prefix}-1-choices": "[]",
            f"{prefix}-1-is_filterable": "on",
            f"{prefix}-1-sort_order": 1,
        }
    )
    response = admin_client.post(f"{CATEGORIES}{category.pk}/change/", data)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert "choices" in formset.forms[0].errors
    assert not AttributeDefinition.objects.exists()

    data[f"{prefix}-0-choices"] = '["IP20", "IP44", "IP65"]'
    response = admin_client.post(f"{CATEGORIES}{category.pk}/change/", data)
    assert response.status_code == 302
    ip = AttributeDefinition.objects.get(code="ip_rating")
    assert ip.choices == ["IP20", "IP44", "IP65"] and ip.category == category
    assert AttributeDefinition.objects.get(code="power_w").is_filterable


def test_brand_admin_lists_and_searches(admin_client):
    BrandFactory(name="Anka Elektrik")
    BrandFactory(name="Volta Teknik", is_active=False)
    response = admin_client.get(BRANDS, {"q": "anka"})
    assert response.status_code == 200
    assert [b.name for b in response.context["cl"].result_list] == ["Anka Elektrik"]
    assert admin_client.get(BRANDS, {"is_active__exact": "0"}).status_code == 200
    response = admin_client.post(
        f"{BRANDS}add/", {"name": "anka elektrik", "slug": "anka-2", "is_active": "on"}
    )
    assert response.status_code == 200  # the same name in other letters
    assert Brand.objects.count() == 2


# --- images in the product form -----------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": "/media/"},
        },
    }
    return root


def png(name="photo.png", size=(640, 480)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), "image/png")


def change_with_new_image(client, product, upload, **image_fields):
    url = f"{PRODUCTS}{product.pk}/change/"
    page = client.get(url)
    data = {
        **product_data(product.category, name=product.name, barcodes=""),
        **inline_management(page),
    }
    data.pop("sku")
    count = data["images-TOTAL_FORMS"]
    data["images-TOTAL_FORMS"] = count + 1
    data[f"images-{count}-image"] = upload
    data[f"images-{count}-product"] = product.pk
    data[f"images-{count}-sort_order"] = image_fields.pop("sort_order", count)
    for name, value in image_fields.items():
        data[f"images-{count}-{name}"] = value
    return client.post(url, data)


def test_admin_image_inline_refuses_a_text_file_named_jpg(admin_client, media):
    product = ProductFactory()
    fake = SimpleUploadedFile("x.jpg", b"plain text, not a photo" * 50, "image/jpeg")
    response = change_with_new_image(admin_client, product, fake)
    assert response.status_code == 200
    formset = next(
        i.formset for i in response.context["inline_admin_formsets"] if i.formset.prefix == "images"
    )
    assert "image" in formset.forms[-1].errors
    assert not ProductImage.objects.exists()


def test_admin_image_inline_refuses_an_oversize_image(admin_client, media, settings):
    settings.PRODUCT_IMAGE_MAX_BYTES = 500
    product = ProductFactory()
    response = change_with_new_image(admin_client, product, png(size=(900, 900)))
    assert response.status_code == 200
    assert not ProductImage.objects.exists()


def test_admin_image_inline_saves_primary_and_queues_the_thumbnail(
    admin_client, media, django_capture_on_commit_callbacks
):
    product = ProductFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = change_with_new_image(admin_client, product, png("first.png"))
    assert response.status_code == 302
    first = ProductImage.objects.get(product=product)
    assert first.is_primary  # the first image is the primary one
    assert first.thumbnail.name.endswith(".webp")
    assert (media / first.thumbnail.name).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = change_with_new_image(admin_client, product, png("second.png"), is_primary="on")
    assert response.status_code == 302
    second = ProductImage.objects.exclude(pk=first.pk).get()
    first.refresh_from_db()
    assert second.is_primary and not first.is_primary


def test_excel_export_imports_back_unchanged(lighting):
    ProductFactory(
        sku="12345",
        name="Numeric SKU panel",
        category=lighting,
        barcodes=["8690000000011"],
        attributes={"power_w": 40, "ip_rating": "IP44"},
    )
    workbook = ProductResource().export().export("xlsx")
    dataset = tablib.Dataset().load(workbook, format="xlsx")
    assert dataset.dict[0]["category"] == "Lighting > LED > Panels"

    result = ProductResource().import_data(dataset, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["skip"] == 1
    assert Product.objects.get(sku="12345").barcodes == ["8690000000011"]
