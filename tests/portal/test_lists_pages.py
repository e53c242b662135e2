"""Requisition lists in the portal: make one, add, change and remove lines, import a file,
download CSV, put all or the ticked lines into the cart (what cannot go is said), "Add to
list" from a product page, "Save as a list" from an order; a colleague's private list is not
found, a shared one is read but changed only by its owner or the company owner."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.orders.models import CartItem, Order, RequisitionList
from tests.portal.test_portal import _checkout, browser

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def shop(dealer_client):
    from tests.orders.conftest import Shop

    shop = Shop(dealer_client)
    shop.product("A-1", price="100", stock=50, name="Kablo")
    shop.product("B-2", price="40", stock=0, name="Priz")
    shop.product("N-3", price=None, stock=10, name="Fiyatsız")
    return shop


def cart_of(user) -> dict[str, int]:
    return {
        i.product.sku: i.quantity
        for i in CartItem.objects.filter(cart__user=user).select_related("product")
    }


def test_a_list_is_made_filled_and_put_into_the_cart(shop):
    client, user = browser(shop, role="purchasing")
    response = client.post("/portal/lists/", {"name": "Aylık", "shared": "on"})
    reqlist = RequisitionList.objects.get()
    assert response["Location"] == f"/portal/lists/{reqlist.pk}/" and reqlist.shared
    url = f"/portal/lists/{reqlist.pk}/"
    for sku, quantity in (("A-1", "5"), ("B-2", "2"), ("N-3", "1"), ("A-1", "1")):
        client.post(url, {"action": "add", "sku": sku, "quantity": quantity})
    lines = {i.product.sku: i for i in reqlist.items.select_related("product")}
    assert {sku: i.quantity for sku, i in lines.items()} == {"A-1": 6, "B-2": 2, "N-3": 1}
    client.post(url, {"action": "quantity", "item": lines["A-1"].pk, "quantity": "4"})
    refused = client.post(url, {"action": "add", "sku": "NOPE", "quantity": "3"})
    page = refused.content.decode()
    # the refusal beside its field, with what was typed (a banner above, the boxes emptied)
    assert refused.status_code == 400 and 'id="sku-error"' in page
    assert "Bilinmeyen ürün." in page and 'value="NOPE"' in page and 'value="3"' in page
    zero = client.post(url, {"action": "add", "sku": "A-1", "quantity": "0"}).content.decode()
    assert 'id="quantity-error"' in zero and 'value="A-1"' in zero
    csv = client.get(f"{url}?format=csv")
    assert csv.status_code == 200 and b"A-1;4" in csv.content

    response = client.post(url, {"action": "to_cart"})
    assert response["Location"] == "/portal/cart/"
    assert cart_of(user) == {"A-1": 4, "B-2": 2}  # N-3 has no price: not added
    page = client.get("/portal/cart/").content.decode()
    assert "N-3: Bu ürünün sizin için bir fiyatı yok." in page
    CartItem.objects.filter(cart__user=user).delete()
    client.post(url, {"action": "to_cart", "item_ids": [lines["B-2"].pk]})
    assert cart_of(user) == {"B-2": 2}

    client.post(url, {"action": "remove", "item": lines["N-3"].pk})
    upload = SimpleUploadedFile("l.csv", b"sku;quantity\nA-1;3\nZZZ;1\n", "text/csv")
    client.post(url, {"action": "import", "file": upload})
    assert {i.product.sku: i.quantity for i in reqlist.items.select_related("product")} == {
        "A-1": 7,
        "B-2": 2,
    }
    # deleting asks once more: the button that deletes opens under a first one (no script)
    page = client.get(url).content.decode()
    confirm = page[page.index('data-testid="delete-list"') :]
    assert confirm.index("<summary") < confirm.index('value="delete"') < confirm.index("</details>")
    assert "Aylık" in confirm[: confirm.index('value="delete"')]  # the list it deletes, named
    client.post(url, {"action": "delete"})
    assert not RequisitionList.objects.exists()


def test_a_list_without_a_name_is_told_beside_the_name(shop):
    client, _user = browser(shop, role="purchasing")
    response = client.post("/portal/lists/", {"name": " ", "shared": "on"})
    page = response.content.decode()
    assert response.status_code == 400 and 'id="name-error"' in page
    assert 'name="shared" type="checkbox" checked' in page
    assert not RequisitionList.objects.exists()


def test_add_to_list_from_a_product_and_save_an_order_as_a_list(shop):
    client, _user = browser(shop)
    page = client.get("/portal/products/A-1/").content.decode()
    assert "Listeye ekle" in page
    client.post(
        "/portal/lists/add/",
        {"sku": "A-1", "quantity": "3", "list": "new", "back": "/portal/products/A-1/"},
    )
    reqlist = RequisitionList.objects.get()
    client.post("/portal/lists/add/", {"sku": "A-1", "quantity": "2", "list": reqlist.pk})
    assert reqlist.items.get().quantity == 5
    _checkout(client, shop, po="LST")
    order = Order.objects.get(po_number="LST")
    response = client.post(f"/portal/orders/{order.number}/to-list/")
    saved = RequisitionList.objects.exclude(pk=reqlist.pk).get()
    assert response["Location"] == f"/portal/lists/{saved.pk}/"
    assert order.number in saved.name and saved.items.get().quantity == 1


def test_an_order_with_a_product_no_longer_sold_saves_its_other_lines(shop):
    """A withdrawn product refused the whole list with a bare "Unknown product.": the other
    lines are saved, and the withdrawn one is named."""
    from tests.orders.conftest import place

    shop.product("GONE-1", price="10", stock=10)
    number = place(shop.owner, [("A-1", 2), ("GONE-1", 3)]).json()["number"]
    shop.products["GONE-1"].is_active = False
    shop.products["GONE-1"].save(update_fields=["is_active"])
    client, _user = browser(shop)

    response = client.post(f"/portal/orders/{number}/to-list/", follow=True)

    saved = RequisitionList.objects.get()
    assert [(i.product.sku, i.quantity) for i in saved.items.all()] == [("A-1", 2)]
    assert "GONE-1: Artık satılmıyor." in response.content.decode()


def test_colleagues_lists_and_roles(shop):
    owner, _owner_user = browser(shop)
    owner.post("/portal/lists/", {"name": "Gizli"})
    owner.post("/portal/lists/", {"name": "Ortak", "shared": "on"})
    private, shared = RequisitionList.objects.order_by("pk")
    owner.post(f"/portal/lists/{shared.pk}/", {"action": "add", "sku": "A-1", "quantity": "1"})
    buyer, _buyer = browser(shop, role="purchasing")
    index = buyer.get("/portal/lists/").content.decode()
    assert "Ortak" in index and "Gizli" not in index
    assert buyer.get(f"/portal/lists/{private.pk}/").status_code == 404
    page = buyer.get(f"/portal/lists/{shared.pk}/").content.decode()
    assert "Kablo" in page and 'value="delete"' not in page  # read, not changed
    buyer.post(f"/portal/lists/{shared.pk}/", {"action": "delete"})
    assert RequisitionList.objects.filter(pk=shared.pk).exists()
    viewer, _viewer = browser(shop, role="viewer")
    assert viewer.get("/portal/lists/").status_code == 403
    assert viewer.post("/portal/lists/", {"name": "x"}).status_code == 403
