"""The cart (priced now on every read, per-line problems) and quick order (CSV / Excel)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from apps.campaigns.models import Campaign
from apps.orders.models import CartItem
from apps.pricing.models import Price

pytestmark = [pytest.mark.django_db]

D = Decimal


@pytest.fixture
def stocked(shop):
    shop.product("A-1", price="10", stock=5)
    shop.product("A-2", price="3.3333", stock=100, vat_rate=10)
    shop.product("A-MOQ", price="1", stock=100, min_order_quantity=4, order_multiple=2)
    shop.product("A-NOPRICE", price=None, stock=100)
    return shop


def add(client, sku, quantity):
    return client.post("/api/v1/cart/items", {"sku": sku, "quantity": quantity}, format="json")


def lines(client):
    return {line["sku"]: line for line in client.get("/api/v1/cart").json()["lines"]}


def test_adding_the_same_sku_adds_to_its_line(stocked):
    assert add(stocked.owner, "A-2", 2).status_code == 201
    response = add(stocked.owner, "A-2", 3)
    assert response.status_code == 201
    assert [(line["sku"], line["quantity"]) for line in response.json()["lines"]] == [("A-2", 5)]
    assert CartItem.objects.count() == 1


@pytest.mark.parametrize("withdrawal", ["product", "parent category"])
def test_a_line_no_longer_sold_is_shown_but_not_counted_in_the_totals(stocked, withdrawal):
    """The totals are what ordering the cart would charge: a withdrawn product's line (or one
    below a switched-off category) says so and adds nothing."""
    from apps.catalog.models import Category, Product

    add(stocked.owner, "A-1", 2)
    add(stocked.owner, "A-2", 3)
    gone = Product.objects.get(sku="A-1")
    if withdrawal == "product":
        gone.is_active = False
        gone.save()
    else:
        parent = Category.objects.create(name="Top", slug="top", path="zz01")
        Category.objects.filter(pk=gone.category_id).update(parent=parent, path="zz010001")
        parent.is_active = False
        parent.save()
    cart = stocked.owner.get("/api/v1/cart").json()
    by_sku = {line["sku"]: line for line in cart["lines"]}
    assert by_sku["A-1"]["problems"][0]["code"] == "not_available"
    assert by_sku["A-1"]["line_gross"] is None and by_sku["A-1"]["price"] is None
    assert cart["subtotal_net"] == "10.00" and cart["grand_total"] == "11.00"
    assert cart["orderable"] is False


def test_the_cart_is_priced_now_with_totals(stocked):
    add(stocked.owner, "A-1", 2)
    add(stocked.owner, "A-2", 3)
    cart = stocked.owner.get("/api/v1/cart").json()
    by_sku = {line["sku"]: line for line in cart["lines"]}
    assert by_sku["A-2"]["line_net"] == "10.00" and by_sku["A-2"]["line_vat"] == "1.00"
    assert cart["subtotal_net"] == "30.00" and cart["vat_total"] == "5.00"
    assert cart["grand_total"] == "35.00" and cart["orderable"] is True
    # a price change shows at the next read: nothing is frozen in the cart
    Price.objects.filter(product__sku="A-1").update(amount=D("20"))
    from apps.pricing.engine import prices_bump

    prices_bump()
    Campaign.objects.create(name="Ten off", discount_type="percentage", discount_value=D("10"))
    line = lines(stocked.owner)["A-1"]
    assert line["price"]["unit_net"] == "18.0000"
    assert line["price"]["campaign"]["name"] == "Ten off" and line["price"]["source"] == "list"


def test_each_line_reports_its_problems(stocked):
    add(stocked.owner, "A-1", 6)  # 5 in stock
    add(stocked.owner, "A-MOQ", 3)  # under 4 and not a multiple of 2
    add(stocked.owner, "A-NOPRICE", 1)
    cart = stocked.owner.get("/api/v1/cart").json()
    problems = {line["sku"]: {p["code"] for p in line["problems"]} for line in cart["lines"]}
    assert problems == {
        "A-1": {"out_of_stock"},
        "A-MOQ": {"below_minimum", "not_multiple"},
        "A-NOPRICE": {"not_sellable"},
    }
    assert cart["orderable"] is False
    assert {line["sku"]: line["price"] for line in cart["lines"]}["A-NOPRICE"] is None


def test_patch_and_delete_a_line_and_empty_the_cart(stocked):
    add(stocked.owner, "A-1", 1)
    add(stocked.owner, "A-2", 1)
    item = CartItem.objects.get(product__sku="A-1")
    response = stocked.owner.patch(f"/api/v1/cart/items/{item.pk}", {"quantity": 4}, format="json")
    assert response.status_code == 200 and lines(stocked.owner)["A-1"]["quantity"] == 4
    bad = stocked.owner.patch(f"/api/v1/cart/items/{item.pk}", {"quantity": 0}, format="json")
    assert bad.status_code == 400 and "quantity" in bad.json()["errors"]
    assert stocked.owner.delete(f"/api/v1/cart/items/{item.pk}").status_code == 200
    assert set(lines(stocked.owner)) == {"A-2"}
    assert stocked.owner.delete("/api/v1/cart").status_code == 204
    assert lines(stocked.owner) == {}


def test_an_empty_cart_says_why_it_is_not_orderable(stocked):
    """``orderable`` false comes with its reason: the code placing it answers
    (test_placement.py::test_an_empty_cart_cannot_be_ordered)."""
    cart = stocked.owner.get("/api/v1/cart").json()
    assert cart["orderable"] is False and cart["lines"] == []
    assert [problem["code"] for problem in cart["problems"]] == ["empty_cart"]
    assert cart["problems"][0]["message"]
    add(stocked.owner, "A-1", 1)
    assert stocked.owner.get("/api/v1/cart").json()["problems"] == []


def test_bad_input_is_400_and_changes_nothing(stocked):
    for body, field in (
        ({"sku": "NOPE", "quantity": 1}, "sku"),
        ({"sku": "A-1", "quantity": 0}, "quantity"),
        ({"sku": "A-1", "quantity": "many"}, "quantity"),
        ({"sku": "A-1"}, "quantity"),
        ({"sku": "A-1", "quantity": 1, "unit_net": "1"}, "unit_net"),
    ):
        response = stocked.owner.post("/api/v1/cart/items", body, format="json")
        assert response.status_code == 400, body
        assert field in response.json()["errors"], body
    assert not CartItem.objects.exists()


def test_a_colleagues_cart_line_is_not_found(stocked):
    colleague = stocked.client("purchasing")
    add(colleague, "A-1", 1)
    item = CartItem.objects.get()
    assert stocked.owner.patch(f"/api/v1/cart/items/{item.pk}", {"quantity": 2}).status_code == 404
    assert stocked.owner.delete(f"/api/v1/cart/items/{item.pk}").status_code == 404
    assert CartItem.objects.get().quantity == 1


@pytest.mark.parametrize("role", ["viewer", "finance"])
def test_users_who_cannot_order_have_no_cart(stocked, role):
    client = stocked.client(role)
    assert client.get("/api/v1/cart").status_code == 403
    assert add(client, "A-1", 1).status_code == 403


# --- quick order ---------------------------------------------------------------------------------


def upload(client, name, content, content_type="text/csv"):
    return client.post(
        "/api/v1/cart/import",
        {"file": SimpleUploadedFile(name, content, content_type=content_type)},
        format="multipart",
    )


def test_csv_import_adds_valid_rows_and_reports_bad_ones_by_line(stocked):
    content = b"sku;quantity\nA-1;2\nNOPE;1\nA-2;x\n;3\nA-2;4\nA-1;1\n"
    response = upload(stocked.owner, "order.csv", b"\xef\xbb\xbf" + content)  # with a BOM
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["rows"], body["added"], body["failed"]) == (6, 3, 3)
    assert [(e["line"], e["sku"]) for e in body["errors"]] == [(3, "NOPE"), (4, "A-2"), (5, "")]
    assert all(e["error"] for e in body["errors"])
    assert {k: v["quantity"] for k, v in lines(stocked.owner).items()} == {"A-1": 3, "A-2": 4}


def test_csv_quantities_are_ascii_whole_numbers(stocked):
    """``٣`` (Arabic-Indic three) is not read as 3, and ``²`` is a row error, not a 500."""
    response = upload(stocked.owner, "order.csv", "A-1,\u0663\nA-2,\u00b2\nA-1,2\n".encode())
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["added"], body["failed"]) == (1, 2)
    assert [e["line"] for e in body["errors"]] == [1, 2]
    assert {k: v["quantity"] for k, v in lines(stocked.owner).items()} == {"A-1": 2}


def test_a_csv_saved_by_turkish_excel_is_read(stocked):
    """Turkish Excel's "CSV" is Windows-1254 with ``;``: a Turkish header is skipped and the
    rows are read."""
    content = "Ürün Kodu;Miktar\nA-1;2\nA-2;1\n".encode("cp1254")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    response = upload(stocked.owner, "sipariş.csv", content)
    assert response.status_code == 200, response.json()
    assert (response.json()["added"], response.json()["failed"]) == (2, 0)


def test_an_old_excel_file_is_named_as_such(stocked):
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    response = upload(stocked.owner, "order.xls", ole2, content_type="application/vnd.ms-excel")
    assert response.status_code == 400
    assert ".xls" in response.json()["errors"]["file"][0]


def test_csv_without_header_and_with_commas(stocked):
    response = upload(stocked.owner, "order.csv", b"A-1,2\r\nA-2,1\r\n")
    assert response.json()["added"] == 2 and response.json()["failed"] == 0


def test_a_tab_separated_file_is_read(stocked):
    # a text file saved from a spreadsheet or a list pasted into a file: tabs, as the quick
    # order's text box takes them
    response = upload(stocked.owner, "order.txt", b"A-1\t2\nA-2\t1\n", content_type="text/plain")
    assert response.status_code == 200, response.json()
    assert (response.json()["added"], response.json()["failed"]) == (2, 0)


def test_xlsx_import(stocked):
    book = Workbook()
    sheet = book.active
    sheet.append(["sku", "quantity"])
    sheet.append(["A-1", 2])
    sheet.append(["NOPE", 1])
    buffer = io.BytesIO()
    book.save(buffer)
    response = upload(
        stocked.owner,
        "order.xlsx",
        buffer.getvalue(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["added"], body["failed"]) == (1, 1)
    assert body["errors"][0]["line"] == 3


def test_import_refuses_too_many_rows_and_non_files(stocked):
    big = "".join(f"A-1;{i + 1}\n" for i in range(1001)).encode()
    response = upload(stocked.owner, "big.csv", big)
    assert response.status_code == 400 and "file" in response.json()["errors"]
    assert not CartItem.objects.exists()
    assert stocked.owner.post("/api/v1/cart/import", {}, format="multipart").status_code == 400
    assert upload(stocked.owner, "x.csv", b"\xff\xfe\x00bad").status_code == 400


def test_import_refuses_a_field_it_does_not_take(stocked):
    """1,000 junk fields beside the file were taken without a word."""
    response = stocked.owner.post(
        "/api/v1/cart/import",
        {
            "file": SimpleUploadedFile("o.csv", b"A-1;1\n", content_type="text/csv"),
            "junk": "1",
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"junk": ["Unknown or read-only field."]}
    assert not CartItem.objects.exists()


def test_a_quantity_out_of_range_names_the_bound_the_readers_way(stocked):
    for language, bound in (("tr", "1.000.000"), ("en", "1,000,000")):
        response = stocked.owner.get(
            "/api/v1/products/A-1/price-explanation",
            {"quantity": "0"},
            HTTP_ACCEPT_LANGUAGE=language,
        )
        assert response.status_code == 400
        assert bound in response.json()["errors"]["quantity"][0], response.json()


def test_a_serializers_limit_is_written_the_readers_way_too(stocked):
    for language, bound in (("tr", "1.000.000"), ("en", "1,000,000")):
        response = stocked.owner.post(
            "/api/v1/cart/items",
            {"sku": "A-1", "quantity": 10**12},
            format="json",
            HTTP_ACCEPT_LANGUAGE=language,
        )
        assert response.status_code == 400
        assert bound in response.json()["errors"]["quantity"][0], response.json()
    assert not CartItem.objects.exists()
