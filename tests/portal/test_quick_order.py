"""Quick order in the portal: SKUs typed with suggestions, a pasted list or a CSV/Excel file,
a preview of each row priced for the dealer before anything is added, then the cart's own
import adds the rows that can be added."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from apps.core.exceptions import ValidationError
from apps.orders.models import CartItem
from apps.orders.services.cart import quick_order_rows
from tests.portal.test_portal import browser

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def shop(dealer_client):
    from tests.orders.conftest import Shop

    shop = Shop(dealer_client)
    shop.product("A-1", price="1234.5", stock=50, name="Bakır kablo 3x2,5")
    shop.product("B-2", price="10", stock=0, name="Priz")
    shop.product("C-3", price=None, stock=5, name="Fiyatsız ürün")
    shop.product("H-9", price="5", stock=5, name="Gizli", is_active=False)
    return shop


def cart_of(user) -> dict[str, int]:
    return {
        item.product.sku: item.quantity
        for item in CartItem.objects.filter(cart__user=user).select_related("product")
    }


def test_pasted_text_reads_tabs_semicolons_commas_and_spaces():
    rows = quick_order_rows(text="sku\tquantity\nA-1\t3\nB-2;4\n\nC-3, 5\nD-4 6\nE-5\n")
    assert rows == [
        (2, ["A-1", "3"]),
        (3, ["B-2", "4"]),
        (5, ["C-3", "5"]),
        (6, ["D-4", "6"]),
        (7, ["E-5", "1"]),  # a SKU alone asks for one
    ]
    with pytest.raises(ValidationError) as refused:
        quick_order_rows(text="\n \n")
    assert "text" in refused.value.errors


def test_a_pasted_list_is_previewed_with_prices_and_problems_before_anything_is_added(shop):
    client, user = browser(shop)
    response = client.post(
        "/portal/quick-order/",
        {"text": "A-1\t2\nB-2;3\nC-3 1\nH-9 1\nNOPE 1\nA-1 x", "action": "preview"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert cart_of(user) == {}  # a preview adds nothing
    assert "1.234,50\u00a0₺" in page and "2.962,80\u00a0₺" in page  # 2 x 1234.50 + 20 % VAT
    assert "Yalnızca 0 adet mevcut." in page  # B-2: a warning, still added
    assert page.count("Eklenmez:") == 3  # a hidden product, an unknown SKU, a bad quantity
    assert "Bilinmeyen ürün." in page and "Bir tam sayı girin." in page
    assert "Bu ürünün sizin için bir fiyatı yok." in page  # C-3: added, but warned
    skus = [v for k, v in _hidden_inputs(page) if k == "sku"]
    quantities = [v for k, v in _hidden_inputs(page) if k == "quantity"]
    assert skus == ["A-1", "B-2", "C-3"] and quantities == ["2", "3", "1"]

    response = client.post(
        "/portal/quick-order/",
        {"action": "add", "sku": skus, "quantity": quantities},
    )
    assert response.status_code == 302 and response["Location"] == "/portal/cart/"
    assert cart_of(user) == {"A-1": 2, "B-2": 3, "C-3": 1}


def test_a_preview_of_a_thousand_lines_can_be_added(shop):
    """The preview posts a SKU and a quantity per line, up to the 1,000 rows a quick order
    takes: Django's default limit of 1,000 fields answered its bare 400 from about 500."""
    client, user = browser(shop)
    skus = ["A-1", "B-2"] * 500
    response = client.post(
        "/portal/quick-order/", {"action": "add", "sku": skus, "quantity": ["1"] * 1000}
    )
    assert response.status_code == 302 and response["Location"] == "/portal/cart/"
    assert set(cart_of(user)) == {"A-1", "B-2"}


def _hidden_inputs(page: str) -> list[tuple[str, str]]:
    import re

    return re.findall(r'<input type="hidden" name="(sku|quantity)" value="([^"]*)">', page)


def test_typed_skus_and_a_csv_or_excel_file_are_previewed_too(shop):
    client, user = browser(shop)
    response = client.post(
        "/portal/quick-order/",
        {"sku": ["A-1", "", "B-2"], "quantity": ["4", "", ""], "action": "preview"},
    )
    assert response.status_code == 200
    assert [v for k, v in _hidden_inputs(response.content.decode())] == ["A-1", "4", "B-2", "1"]

    csv_file = SimpleUploadedFile("order.csv", b"stok kodu;miktar\nA-1;7\n", "text/csv")
    response = client.post("/portal/quick-order/", {"file": csv_file, "action": "preview"})
    assert [v for k, v in _hidden_inputs(response.content.decode())] == ["A-1", "7"]

    book = Workbook()
    book.active.append(["SKU", "Quantity"])
    book.active.append(["B-2", 12])
    data = io.BytesIO()
    book.save(data)
    xlsx = SimpleUploadedFile("order.xlsx", data.getvalue(), "application/octet-stream")
    response = client.post("/portal/quick-order/", {"file": xlsx, "action": "preview"})
    assert [v for k, v in _hidden_inputs(response.content.decode())] == ["B-2", "12"]
    assert cart_of(user) == {}


@pytest.mark.parametrize(
    "body",
    [
        {"action": "preview"},
        {"action": "preview", "sku": ["", ""], "quantity": ["1", "2"]},
        {"action": "preview", "text": "   "},
        {"action": "preview", "file": "not a file"},
    ],
)
def test_an_empty_or_unreadable_quick_order_is_a_400_that_adds_nothing(shop, body):
    client, user = browser(shop)
    response = client.post("/portal/quick-order/", body)
    assert response.status_code == 400 and 'role="alert"' in response.content.decode()
    assert cart_of(user) == {}


def test_a_file_that_is_not_a_quick_order_is_refused(shop):
    client, user = browser(shop)
    binary = SimpleUploadedFile("x.csv", b"\x00\x01\x02", "text/csv")
    response = client.post("/portal/quick-order/", {"file": binary, "action": "preview"})
    assert response.status_code == 400
    big = SimpleUploadedFile("big.csv", b"A-1;1\n" * 400_000, "text/csv")
    response = client.post("/portal/quick-order/", {"file": big, "action": "preview"})
    assert response.status_code == 400 and "2 MB" in response.content.decode()
    assert cart_of(user) == {}


def test_sku_suggestions_come_from_the_catalog_search_without_hidden_products(shop):
    client, _user = browser(shop)
    response = client.get("/portal/quick-order/suggest/?sku=kablo", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert '<option value="A-1">Bakır kablo 3x2,5</option>' in response.content.decode()
    assert "<html" not in response.content.decode()
    hidden = client.get("/portal/quick-order/suggest/?sku=Gizli").content.decode()
    assert "H-9" not in hidden
    assert client.get("/portal/quick-order/suggest/?sku=a").content.decode().strip() == ""


def test_quick_order_needs_a_signed_in_dealer(client):
    for url in ("/portal/quick-order/", "/portal/quick-order/suggest/?sku=A-1"):
        response = client.get(url)
        assert response.status_code == 302 and "/portal/login/" in response["Location"]


def test_the_same_form_submitted_twice_adds_its_lines_once(shop):
    """A double click (or a reload) on "Add to the cart", "Order again" or a list's "to cart"
    doubled the cart's quantities; each form adds once."""
    import re

    from tests.orders.conftest import place

    client, user = browser(shop)
    preview = client.post(
        "/portal/quick-order/", {"action": "preview", "sku": ["A-1"], "quantity": ["3"]}
    )
    form = {
        "action": "add",
        "sku": ["A-1"],
        "quantity": ["3"],
        "form_key": re.search(r'name="form_key" value="([^"]+)"', preview.content.decode())[1],
    }
    assert client.post("/portal/quick-order/", form).status_code == 302
    assert client.post("/portal/quick-order/", form).status_code == 302
    assert cart_of(user) == {"A-1": 3}

    number = place(shop.owner, [("A-1", 2)]).json()["number"]
    page = client.get(f"/portal/orders/{number}/").content.decode()
    key = re.search(r'name="form_key" value="([^"]+)"', page)[1]
    for _twice in range(2):
        client.post(f"/portal/orders/{number}/reorder/", {"form_key": key})
    assert cart_of(user) == {"A-1": 5}

    listed = client.post("/portal/lists/", {"name": "Haftalık"})
    assert listed.status_code == 302, listed.content[:300]
    list_url = listed["Location"]
    client.post(list_url, {"action": "add", "sku": "A-1", "quantity": "4"})
    page = client.get(list_url).content.decode()
    key = re.search(r'id="to-cart">.*?name="form_key" value="([^"]+)"', page, re.S)[1]
    for _twice in range(2):
        client.post(list_url, {"action": "to_cart", "form_key": key})
    assert cart_of(user) == {"A-1": 9}
