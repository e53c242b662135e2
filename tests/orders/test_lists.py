"""Requisition lists: named lists of products and quantities, private or shared with the
company, put into the cart at today's prices (per-line problems reported), exported and
imported as CSV."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook

from apps.catalog.models import Product
from apps.core.exceptions import NotAllowed
from apps.orders.models import CartItem, RequisitionList, RequisitionListItem
from apps.orders.services import lists as lists_service
from tests.factories import CustomerFactory, DealerUserFactory

pytestmark = [pytest.mark.django_db]

API = "/api/v1/lists"


@pytest.fixture
def stocked(shop):
    shop.product("A-1", price="10", stock=100)
    shop.product("A-2", price="3.3333", stock=100, vat_rate=10)
    shop.product("A-SHORT", price="5", stock=2)
    shop.product("A-MOQ", price="1", stock=100, min_order_quantity=4, order_multiple=2)
    shop.product("A-NOPRICE", price=None, stock=100)
    shop.product("A-GONE", price="7", stock=100)
    return shop


def make(client, name="Monthly", items=(), **extra):
    body = {"name": name, "items": [{"sku": sku, "quantity": q} for sku, q in items], **extra}
    response = client.post(API, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def quantities(body) -> dict[str, int]:
    return {item["sku"]: item["quantity"] for item in body["items"]}


def cart(client) -> dict[str, int]:
    return {line["sku"]: line["quantity"] for line in client.get("/api/v1/cart").json()["lines"]}


def snapshot():
    return (
        list(RequisitionList.objects.order_by("pk").values()),
        list(RequisitionListItem.objects.order_by("pk").values()),
        list(CartItem.objects.order_by("pk").values()),
    )


# --- lifecycle ----------------------------------------------------------------------------------


def test_a_list_is_made_read_renamed_shared_filled_and_deleted(stocked):
    owner = stocked.owner
    # given: a list whose SKU given twice makes one line
    made = make(owner, "  Monthly  ", [("A-1", 2), ("A-2", 1), ("A-1", 3)])
    assert made["name"] == "Monthly" and made["shared"] is False
    assert made["owner"] == owner.user.email and made["editable"] is True
    assert quantities(made) == {"A-1": 5, "A-2": 1} and made["item_count"] == 2
    assert [item["name"] for item in made["items"]] == [
        stocked.products["A-1"].name,
        stocked.products["A-2"].name,
    ]
    url = f"{API}/{made['id']}"

    # when / then: read, rename and share
    assert owner.get(url).json()["items"] == made["items"]
    renamed = owner.patch(url, {"name": "Weekly", "shared": True}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Weekly"
    assert renamed.json()["shared"] is True

    # adding a product already in the list adds to its line, like the cart
    added = owner.post(f"{url}/items", {"sku": "A-2", "quantity": 4}, format="json")
    assert added.status_code == 201 and quantities(added.json()) == {"A-1": 5, "A-2": 5}
    added = owner.post(f"{url}/items", {"sku": "A-SHORT", "quantity": 1}, format="json")
    assert quantities(added.json()) == {"A-1": 5, "A-2": 5, "A-SHORT": 1}

    line = RequisitionListItem.objects.get(product__sku="A-1")
    changed = owner.patch(f"{url}/items/{line.pk}", {"quantity": 9}, format="json")
    assert changed.status_code == 200 and quantities(changed.json())["A-1"] == 9
    removed = owner.delete(f"{url}/items/{line.pk}")
    assert removed.status_code == 200 and set(quantities(removed.json())) == {"A-2", "A-SHORT"}

    listed = owner.get(API).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == made["id"]

    assert owner.delete(url).status_code == 204
    assert owner.get(url).status_code == 404
    assert not RequisitionListItem.objects.exists()
    assert not CartItem.objects.exists()  # the cart was never touched


def test_read_only_fields_sent_back_as_read_pass_and_changed_ones_are_named(stocked):
    """A client sending the list back as read is fine; one trying to change its owner, id or
    a line's SKU is told it cannot, not answered 200 with nothing changed."""
    owner = stocked.owner
    made = make(owner, "Monthly", [("A-1", 2)])
    url = f"{API}/{made['id']}"
    echoed = {k: made[k] for k in ("id", "owner", "editable", "item_count", "created_at")}
    assert owner.patch(url, {**echoed, "name": "Weekly"}, format="json").status_code == 200
    for field, value in (("owner", "x@example.com"), ("id", made["id"] + 1)):
        refused = owner.patch(url, {field: value, "name": "Other"}, format="json")
        assert refused.status_code == 400
        assert list(refused.json()["errors"]) == [field]
    line = made["items"][0]
    line_url = f"{url}/items/{line['id']}"
    assert owner.patch(line_url, {**line, "quantity": 7}, format="json").status_code == 200
    refused = owner.patch(line_url, {"sku": "A-2", "quantity": 8}, format="json")
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["sku"]
    body = owner.get(url).json()
    assert body["name"] == "Weekly" and quantities(body) == {"A-1": 7}


def test_a_list_may_start_empty_and_its_name_is_required_and_trimmed(stocked):
    assert make(stocked.owner, "Empty")["items"] == []
    for name in ("", "   ", None, "x" * 101, 5):
        response = stocked.owner.post(API, {"name": name}, format="json")
        assert response.status_code == 400, name
        assert "name" in response.json()["errors"], name
    assert stocked.owner.post(API, {}, format="json").json()["errors"].keys() == {"name"}
    assert make(stocked.owner, " " + "x" * 98 + " ")["name"] == "x" * 98
    # the schema's maxLength counts what is sent, spaces included
    response = stocked.owner.post(API, {"name": "\u0085" + "x" * 100}, format="json")
    assert response.status_code == 400 and "name" in response.json()["errors"]


# --- who sees and changes what ------------------------------------------------------------------


def test_a_private_list_is_its_owners_and_a_shared_one_the_companys(stocked):
    buyer = stocked.client("purchasing")
    colleague = stocked.client("purchasing")
    private = make(buyer, "Mine", [("A-1", 1)])
    shared = make(buyer, "Ours", [("A-1", 1)], shared=True)

    # the colleague and the company owner see the shared list only
    for client in (colleague, stocked.owner):
        assert [row["id"] for row in client.get(API).json()["results"]] == [shared["id"]]
        assert client.get(f"{API}/{shared['id']}").status_code == 200
        assert client.get(f"{API}/{private['id']}").status_code == 404
        assert client.patch(f"{API}/{private['id']}", {"name": "x"}).status_code == 404
        assert client.delete(f"{API}/{private['id']}").status_code == 404
        assert client.post(f"{API}/{private['id']}/to-cart", {}).status_code == 404
        assert client.get(f"{API}/{private['id']}/export").status_code == 404
    assert {row["id"] for row in buyer.get(API).json()["results"]} == {
        private["id"],
        shared["id"],
    }

    # no longer shared: no longer seen
    assert buyer.patch(f"{API}/{shared['id']}", {"shared": False}, format="json").status_code == 200
    assert colleague.get(API).json()["results"] == []
    assert colleague.get(f"{API}/{shared['id']}").status_code == 404


def test_only_the_owner_and_the_companys_owners_change_a_shared_list(stocked):
    buyer = stocked.client("purchasing")
    colleague = stocked.client("purchasing")
    shared = make(buyer, "Ours", [("A-1", 2)], shared=True)
    url = f"{API}/{shared['id']}"
    line = RequisitionListItem.objects.get()
    before = snapshot()

    # a colleague who sees it may not change it
    csv_file = SimpleUploadedFile("l.csv", b"A-2;1\n", content_type="text/csv")
    for response in (
        colleague.patch(url, {"name": "Hijacked"}, format="json"),
        colleague.patch(url, {"shared": False}, format="json"),
        colleague.delete(url),
        colleague.post(f"{url}/items", {"sku": "A-2", "quantity": 1}, format="json"),
        colleague.patch(f"{url}/items/{line.pk}", {"quantity": 7}, format="json"),
        colleague.delete(f"{url}/items/{line.pk}"),
        colleague.post(f"{url}/import", {"file": csv_file}, format="multipart"),
        # refused before the body is read: bad input is still a 403
        colleague.patch(url, {"name": ""}, format="json"),
    ):
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "permission_denied"
    assert snapshot() == before
    assert colleague.get(url).json()["editable"] is False

    # ... but may use it: into their own cart, or as a file
    assert colleague.post(f"{url}/to-cart", {}, format="json").status_code == 200
    assert cart(colleague) == {"A-1": 2} and cart(buyer) == {}
    assert colleague.get(f"{url}/export").status_code == 200

    # the company's owner may change it
    assert stocked.owner.get(url).json()["editable"] is True
    response = stocked.owner.patch(url, {"name": "Renamed by the owner"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "Renamed by the owner"
    added = stocked.owner.post(f"{url}/items", {"sku": "A-2", "quantity": 1}, format="json")
    assert added.status_code == 201
    # and stop sharing it: it is then its maker's alone
    unshared = stocked.owner.patch(url, {"shared": False}, format="json")
    assert unshared.status_code == 200
    assert unshared.json()["shared"] is False and unshared.json()["editable"] is False
    assert stocked.owner.get(url).status_code == 404 and colleague.get(url).status_code == 404
    assert buyer.delete(url).status_code == 204


def test_the_company_owner_does_not_see_a_private_list_of_a_buyer(stocked):
    buyer = stocked.client("purchasing")
    private = make(buyer, "Mine", [("A-1", 1)])
    assert stocked.owner.patch(f"{API}/{private['id']}", {"name": "x"}).status_code == 404
    assert RequisitionList.objects.get().name == "Mine"


@pytest.mark.parametrize("role", ["viewer", "finance"])
def test_users_who_cannot_order_cannot_use_lists(stocked, role):
    shared = make(stocked.owner, "Ours", [("A-1", 1)], shared=True)
    client = stocked.client(role)
    url = f"{API}/{shared['id']}"
    before = snapshot()
    for response in (
        client.get(API),
        client.post(API, {"name": "Mine"}, format="json"),
        client.get(url),
        client.patch(url, {"name": "x"}, format="json"),
        client.delete(url),
        client.post(f"{url}/items", {"sku": "A-2", "quantity": 1}, format="json"),
        client.post(f"{url}/to-cart", {}, format="json"),
        client.get(f"{url}/export"),
    ):
        assert response.status_code == 403, response.content
    assert snapshot() == before


def test_another_companys_list_answers_404_to_every_method_and_nothing_changes(stocked):
    other = CustomerFactory()
    stranger = DealerUserFactory(customer=other, role="owner")
    foreign = RequisitionList.objects.create(
        customer=other, owner=stranger, name="Theirs", shared=True
    )
    line = RequisitionListItem.objects.create(
        list=foreign, product=stocked.products["A-1"], quantity=3
    )
    url = f"{API}/{foreign.pk}"
    calls = [
        ("get", url, None),
        ("patch", url, {"name": "Hijacked", "shared": False}),
        ("delete", url, None),
        ("post", f"{url}/items", {"sku": "A-2", "quantity": 1}),
        ("patch", f"{url}/items/{line.pk}", {"quantity": 9}),
        ("delete", f"{url}/items/{line.pk}", None),
        ("post", f"{url}/to-cart", {}),
        ("post", f"{url}/to-cart", {"item_ids": [line.pk]}),
        ("get", f"{url}/export", None),
    ]
    before = snapshot()
    for method, path, body in calls:
        response = getattr(stocked.owner, method)(path, body, format="json")
        assert response.status_code == 404, (method, path, response.content)
    csv_file = SimpleUploadedFile("l.csv", b"A-2;1\n", content_type="text/csv")
    response = stocked.owner.post(f"{url}/import", {"file": csv_file}, format="multipart")
    assert response.status_code == 404
    assert stocked.owner.get(API).json()["results"] == []
    assert snapshot() == before


def test_a_line_of_another_list_is_not_found(stocked):
    first = make(stocked.owner, "First", [("A-1", 1)])
    make(stocked.owner, "Second", [("A-2", 1)])
    other_line = RequisitionListItem.objects.get(product__sku="A-2")
    url = f"{API}/{first['id']}/items/{other_line.pk}"
    assert stocked.owner.patch(url, {"quantity": 5}, format="json").status_code == 404
    assert stocked.owner.delete(url).status_code == 404
    assert RequisitionListItem.objects.get(pk=other_line.pk).quantity == 1
    bad_ids = stocked.owner.post(
        f"{API}/{first['id']}/to-cart", {"item_ids": [other_line.pk]}, format="json"
    )
    assert bad_ids.status_code == 400 and "item_ids" in bad_ids.json()["errors"]


# --- input and limits ---------------------------------------------------------------------------


def test_only_products_the_dealer_may_order_go_into_a_list(stocked):
    Product.objects.filter(sku="A-GONE").update(is_active=False)
    listed = make(stocked.owner, "L")
    url = f"{API}/{listed['id']}/items"
    for sku in ("NOPE", "A-GONE"):
        response = stocked.owner.post(url, {"sku": sku, "quantity": 1}, format="json")
        assert response.status_code == 400 and "sku" in response.json()["errors"]
    response = stocked.owner.post(
        API, {"name": "L", "items": [{"sku": "A-1", "quantity": 1}, {"sku": "NOPE", "quantity": 1}]}
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"items.1.sku"}
    assert RequisitionList.objects.count() == 1  # the bad create made nothing


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "", [], "non_field_errors"),
        ("post", "", {"name": "L", "shared": "true"}, "shared"),
        ("post", "", {"name": "L", "shared": 1}, "shared"),
        ("post", "", {"name": "L", "items": {"sku": "A-1"}}, "items"),
        (
            "post",
            "",
            {"name": "L", "items": [{"sku": "A-1", "quantity": "many"}]},
            "items.0.quantity",
        ),
        (
            "post",
            "",
            {"name": "L", "items": [{"sku": "A-1", "quantity": 10**15}]},
            "items.0.quantity",
        ),
        ("post", "", {"name": "L", "items": [{"sku": 12, "quantity": 1}]}, "items.0.sku"),
        ("post", "", {"name": "L", "items": [{"sku": "A-1"}]}, "items.0.quantity"),
        ("post", "", {"name": "L", "owner": "x@example.com"}, "owner"),
        ("post", "", {"name": "L\x00"}, "name"),
        ("post", "", {"name": ["L"]}, "name"),
        ("post", "/items", {"sku": "A-1", "quantity": 0}, "quantity"),
        ("post", "/items", {"sku": "A-1", "quantity": 1_000_001}, "quantity"),
        ("post", "/items", {"sku": "A-1", "quantity": True}, "quantity"),
        ("post", "/items", {"sku": "A-1", "quantity": "x"}, "quantity"),
        ("post", "/items", {"sku": None, "quantity": 1}, "sku"),
        ("post", "/items", ["A-1", 1], "non_field_errors"),
        ("patch", "/", {"shared": "yes"}, "shared"),
        ("patch", "/", {"name": None}, "name"),
        ("patch", "/", {"items": []}, "items"),
        ("patch", "/items/{line}", {"quantity": -1}, "quantity"),
        ("patch", "/items/{line}", {}, "quantity"),
        ("post", "/to-cart", {"item_ids": "1"}, "item_ids"),
        ("post", "/to-cart", {"item_ids": []}, "item_ids"),
        ("post", "/to-cart", {"item_ids": ["a"]}, "item_ids.0"),
        ("post", "/to-cart", {"item_ids": [999_999_999]}, "item_ids"),
        ("post", "/to-cart", {"item_ids": [9_223_372_036_854_775_807]}, "item_ids"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(
    stocked, method, path, body, field
):
    listed = make(stocked.owner, "L", [("A-1", 1)])
    line = RequisitionListItem.objects.get()
    url = API if not path else f"{API}/{listed['id']}{path.rstrip('/')}"
    url = url.replace("{line}", str(line.pk))
    before = snapshot()
    response = getattr(stocked.owner, method)(url, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert snapshot() == before


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b'{"name": "L", "name": "M"}',
        b"[[[[" * 100,
        b"\xff",
        b'{"name": "L", "shared": NaN}',
        b'{"name": "L", "items": [{"sku": "A-1", "quantity": 1e999}]}',
    ],
)
def test_a_malformed_body_is_a_400(stocked, raw):
    response = stocked.owner.generic("POST", API, raw, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"
    assert not RequisitionList.objects.exists()


def test_a_quantity_beyond_64_bits_is_a_field_error(stocked):
    raw = b'{"name": "L", "items": [{"sku": "A-1", "quantity": 9223372036854775808}]}'
    response = stocked.owner.generic("POST", API, raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] != "parse_error"
    assert list(response.json()["errors"]) == ["items.0.quantity"]
    assert not RequisitionList.objects.exists()


def test_a_company_keeps_at_most_200_lists(stocked):
    colleague = stocked.client("purchasing")
    RequisitionList.objects.bulk_create(
        RequisitionList(customer=stocked.customer, owner=colleague.user, name=f"L{i}")
        for i in range(lists_service.MAX_LISTS_PER_COMPANY)
    )
    response = stocked.owner.post(API, {"name": "One more"}, format="json")
    assert response.status_code == 400 and "non_field_errors" in response.json()["errors"]
    assert RequisitionList.objects.count() == 200
    # another company is not counted
    assert make(stocked.dealer_client("owner"), "Elsewhere")["name"] == "Elsewhere"


def test_a_removed_colleagues_lists_take_no_room_and_a_shared_one_stays_shared(stocked):
    """Nobody sees a removed user's private lists: they held the company's room for ever.
    Their shared list could be unshared by an owner, and then nobody could see or delete it."""
    colleague = stocked.client("purchasing")
    RequisitionList.objects.bulk_create(
        RequisitionList(customer=stocked.customer, owner=colleague.user, name=f"L{i}")
        for i in range(lists_service.MAX_LISTS_PER_COMPANY - 1)
    )
    shared = make(colleague, "Ortak")
    assert (
        colleague.patch(f"{API}/{shared['id']}", {"shared": True}, format="json").status_code == 200
    )
    removed = stocked.owner.delete(f"/api/v1/company/users/{colleague.user.pk}")
    assert removed.status_code == 204

    assert make(stocked.owner, "Mine")["name"] == "Mine"  # the room is the live users'
    refused = stocked.owner.patch(f"{API}/{shared['id']}", {"shared": False}, format="json")
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["shared"]
    assert stocked.owner.delete(f"{API}/{shared['id']}").status_code == 204


def test_a_list_holds_at_most_500_lines_and_a_line_a_million_units(stocked, monkeypatch):
    too_many = [{"sku": "A-1", "quantity": 1}] * 501
    response = stocked.owner.post(API, {"name": "L", "items": too_many}, format="json")
    assert response.status_code == 400 and "items" in response.json()["errors"]

    monkeypatch.setattr(lists_service, "MAX_LIST_ITEMS", 2)
    response = stocked.owner.post(
        API,
        {"name": "L", "items": [{"sku": s, "quantity": 1} for s in ("A-1", "A-2", "A-SHORT")]},
        format="json",
    )
    assert response.status_code == 400 and "items" in response.json()["errors"]
    listed = make(stocked.owner, "L", [("A-1", 1), ("A-2", 1), ("A-1", 1)])  # two lines
    url = f"{API}/{listed['id']}/items"
    full = stocked.owner.post(url, {"sku": "A-SHORT", "quantity": 1}, format="json")
    assert full.status_code == 400 and "sku" in full.json()["errors"]
    # an existing line still takes more, up to a million units
    assert stocked.owner.post(url, {"sku": "A-1", "quantity": 999_998}).status_code == 201
    over = stocked.owner.post(url, {"sku": "A-1", "quantity": 1}, format="json")
    assert over.status_code == 400 and "quantity" in over.json()["errors"]
    assert quantities(stocked.owner.get(f"{API}/{listed['id']}").json()) == {
        "A-1": 1_000_000,
        "A-2": 1,
    }


# --- into the cart ------------------------------------------------------------------------------


def test_to_cart_adds_what_can_be_ordered_and_reports_each_lines_problems(stocked):
    listed = make(
        stocked.owner,
        "L",
        [("A-1", 2), ("A-NOPRICE", 1), ("A-SHORT", 5), ("A-GONE", 1), ("A-MOQ", 3)],
    )
    Product.objects.filter(sku="A-GONE").update(is_active=False)  # discontinued since
    before = list(RequisitionListItem.objects.order_by("pk").values())

    response = stocked.owner.post(f"{API}/{listed['id']}/to-cart", format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["added"] == [
        {"sku": "A-1", "quantity": 2},
        {"sku": "A-SHORT", "quantity": 5},
        {"sku": "A-MOQ", "quantity": 3},
    ]
    assert [(p["sku"], p["code"]) for p in body["problems"]] == [
        ("A-NOPRICE", "not_sellable"),
        ("A-SHORT", "out_of_stock"),
        ("A-GONE", "not_available"),
        ("A-MOQ", "below_minimum"),
        ("A-MOQ", "not_multiple"),
    ]
    assert all(p["message"] for p in body["problems"])
    # the cart has the added lines and shows the same problems; the list did not change
    assert cart(stocked.owner) == {"A-1": 2, "A-SHORT": 5, "A-MOQ": 3}
    problems = {
        line["sku"]: {p["code"] for p in line["problems"]}
        for line in stocked.owner.get("/api/v1/cart").json()["lines"]
    }
    assert problems == {
        "A-1": set(),
        "A-SHORT": {"out_of_stock"},
        "A-MOQ": {"below_minimum", "not_multiple"},
    }
    assert list(RequisitionListItem.objects.order_by("pk").values()) == before


def test_to_cart_adds_to_the_cart_lines_and_judges_the_stock_of_the_sum(stocked):
    stocked.owner.post("/api/v1/cart/items", {"sku": "A-SHORT", "quantity": 2}, format="json")
    listed = make(stocked.owner, "L", [("A-SHORT", 1), ("A-1", 1)])
    body = stocked.owner.post(f"{API}/{listed['id']}/to-cart", {}, format="json").json()
    assert body["added"] == [{"sku": "A-SHORT", "quantity": 1}, {"sku": "A-1", "quantity": 1}]
    assert [(p["sku"], p["code"]) for p in body["problems"]] == [("A-SHORT", "out_of_stock")]
    assert cart(stocked.owner) == {"A-SHORT": 3, "A-1": 1}


def test_to_cart_takes_only_the_chosen_lines(stocked):
    listed = make(stocked.owner, "L", [("A-1", 1), ("A-2", 2), ("A-SHORT", 1)])
    ids = {item["sku"]: item["id"] for item in listed["items"]}
    response = stocked.owner.post(
        f"{API}/{listed['id']}/to-cart",
        {"item_ids": [ids["A-2"], ids["A-SHORT"], ids["A-2"]]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == {
        "added": [{"sku": "A-2", "quantity": 2}, {"sku": "A-SHORT", "quantity": 1}],
        "problems": [],
    }
    assert cart(stocked.owner) == {"A-2": 2, "A-SHORT": 1}

    before = snapshot()
    bad = stocked.owner.post(
        f"{API}/{listed['id']}/to-cart", {"item_ids": [ids["A-1"], 10**12]}, format="json"
    )
    assert bad.status_code == 400 and "item_ids" in bad.json()["errors"]
    assert snapshot() == before


def test_to_cart_reports_a_line_the_cart_cannot_take(stocked):
    stocked.owner.post("/api/v1/cart/items", {"sku": "A-1", "quantity": 999_999}, format="json")
    listed = make(stocked.owner, "L", [("A-1", 2), ("A-2", 1)])
    body = stocked.owner.post(f"{API}/{listed['id']}/to-cart", {}, format="json").json()
    assert body["added"] == [{"sku": "A-2", "quantity": 1}]
    assert [(p["sku"], p["code"]) for p in body["problems"]] == [("A-1", "cart_limit")]
    assert cart(stocked.owner) == {"A-1": 999_999, "A-2": 1}


def test_an_empty_list_adds_nothing(stocked):
    listed = make(stocked.owner, "Empty")
    response = stocked.owner.post(f"{API}/{listed['id']}/to-cart", {}, format="json")
    assert response.status_code == 200 and response.json() == {"added": [], "problems": []}


# --- export and import --------------------------------------------------------------------------


def upload(client, list_id, name, content, content_type="text/csv"):
    return client.post(
        f"{API}/{list_id}/import",
        {"file": SimpleUploadedFile(name, content, content_type=content_type)},
        format="multipart",
    )


def test_export_and_import_make_the_same_list_again(stocked):
    listed = make(stocked.owner, "Şubat siparişi", [("A-1", 2), ("A-2", 30), ("A-MOQ", 4)])

    exported = stocked.owner.get(f"{API}/{listed['id']}/export")

    assert exported.status_code == 200
    assert exported["Content-Type"] == "text/csv; charset=utf-8"
    assert exported["Content-Disposition"] == f'attachment; filename="list-{listed["id"]}.csv"'
    assert exported.content == b"\xef\xbb\xbfsku;quantity\r\nA-1;2\r\nA-2;30\r\nA-MOQ;4\r\n"
    copy = make(stocked.owner, "Copy")
    response = upload(stocked.owner, copy["id"], "list.csv", exported.content)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["rows"], body["added"], body["failed"], body["errors"]) == (3, 3, 0, [])
    assert quantities(body["list"]) == quantities(listed)
    assert body["list"]["editable"] is True
    # the same file read again adds to the lines
    again = upload(stocked.owner, copy["id"], "list.csv", exported.content).json()
    assert quantities(again["list"]) == {"A-1": 4, "A-2": 60, "A-MOQ": 8}


def test_export_neutralises_a_sku_a_spreadsheet_would_run_and_import_restores_it(stocked):
    stocked.product("-A1", price="1")  # a spreadsheet reads -A1 as a formula
    listed = make(stocked.owner, "L", [("-A1", 3)])
    exported = stocked.owner.get(f"{API}/{listed['id']}/export").content
    assert b"'-A1;3" in exported
    copy = make(stocked.owner, "Copy")
    assert quantities(upload(stocked.owner, copy["id"], "l.csv", exported).json()["list"]) == {
        "-A1": 3
    }


def test_import_adds_valid_rows_and_reports_bad_ones_by_line(stocked):
    listed = make(stocked.owner, "L", [("A-1", 1)])
    content = b"sku,quantity\nA-1,2\nNOPE,1\nA-2,x\n,3\nA-2,4\n"
    body = upload(stocked.owner, listed["id"], "l.csv", content).json()
    assert (body["rows"], body["added"], body["failed"]) == (5, 2, 3)
    assert [(e["line"], e["sku"]) for e in body["errors"]] == [(3, "NOPE"), (4, "A-2"), (5, "")]
    assert quantities(body["list"]) == {"A-1": 3, "A-2": 4}


def test_import_reads_excel_files(stocked):
    book = Workbook()
    book.active.append(["sku", "quantity"])
    book.active.append(["A-2", 6])
    data = io.BytesIO()
    book.save(data)
    listed = make(stocked.owner, "L")
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    body = upload(stocked.owner, listed["id"], "l.xlsx", data.getvalue(), xlsx).json()
    assert quantities(body["list"]) == {"A-2": 6}


def test_import_reports_rows_past_the_line_limit(stocked, monkeypatch):
    monkeypatch.setattr(lists_service, "MAX_LIST_ITEMS", 2)
    listed = make(stocked.owner, "L", [("A-1", 1)])
    body = upload(stocked.owner, listed["id"], "l.csv", b"A-2;1\nA-SHORT;1\nA-1;1\n").json()
    assert (body["added"], body["failed"]) == (2, 1)
    assert body["errors"][0]["line"] == 2 and body["errors"][0]["sku"] == "A-SHORT"
    assert quantities(body["list"]) == {"A-1": 2, "A-2": 1}


def test_a_refused_file_adds_nothing(stocked):
    listed = make(stocked.owner, "L")
    before = snapshot()
    for response in (
        upload(stocked.owner, listed["id"], "x.csv", b"\xff\xfe\x00bad"),
        upload(stocked.owner, listed["id"], "x.csv", b"sku;quantity\n"),
        stocked.owner.post(f"{API}/{listed['id']}/import", {}, format="multipart"),
    ):
        assert response.status_code == 400 and "file" in response.json()["errors"]
    assert snapshot() == before


# --- queries ------------------------------------------------------------------------------------


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


def test_reading_lists_does_not_query_per_list_or_line(stocked, django_assert_max_num_queries):
    skus = ["A-1", "A-2", "A-SHORT", "A-MOQ", "A-NOPRICE"]
    colleague = stocked.client("purchasing")
    make(stocked.owner, "One", [("A-1", 1)])
    make(colleague, "Shared", [("A-2", 1)], shared=True)
    few = count_queries(stocked.owner, API)
    detail = count_queries(stocked.owner, f"{API}/{RequisitionList.objects.first().pk}")
    for i in range(6):
        make(stocked.owner, f"Big {i}", [(sku, i + 1) for sku in skus])
        make(colleague, f"Shared {i}", [(sku, 1) for sku in skus], shared=True)

    with django_assert_max_num_queries(few):
        response = stocked.owner.get(f"{API}?page_size=100")
    assert response.json()["count"] == 14
    assert sum(row["item_count"] for row in response.json()["results"]) == 2 + 12 * 5
    assert few <= 5, few
    big = RequisitionList.objects.filter(name="Big 5").get()
    assert count_queries(stocked.owner, f"{API}/{big.pk}") == detail


def test_the_services_hold_the_rules_without_the_api(stocked):
    # the portal calls the services directly: they refuse what the API refuses
    buyer, colleague = stocked.client("purchasing").user, stocked.client("purchasing").user
    stranger = DealerUserFactory(customer=CustomerFactory(), role="owner")
    shared = lists_service.list_create(user=buyer, name="Ours", shared=True)
    private = lists_service.list_create(
        user=buyer, name="Mine", items=[{"sku": "A-1", "quantity": 1}]
    )
    for call in (
        lambda: lists_service.list_update(by=colleague, reqlist=shared, name="x"),
        lambda: lists_service.list_delete(by=colleague, reqlist=shared),
        lambda: lists_service.list_item_add(by=colleague, reqlist=shared, sku="A-1", quantity=1),
        lambda: lists_service.list_to_cart(user=colleague, reqlist=private),
        lambda: lists_service.list_to_cart(user=stranger, reqlist=shared),
        lambda: lists_service.list_update(by=stranger, reqlist=shared, name="x"),
    ):
        with pytest.raises(NotAllowed):
            call()
    assert not CartItem.objects.exists()
    assert RequisitionList.objects.get(pk=shared.pk).name == "Ours"


@pytest.mark.parametrize("name", ["Monthly\x01", "Mont\x7fhly", "\x1b[31mRed"])
def test_a_name_with_a_control_character_is_refused(stocked, name):
    """Every text the API reads refuses control characters but tabs and line breaks (DRF's
    text field, as installed by the core app): they are invisible on screen and garble the
    CSV exports."""
    response = stocked.owner.post(API, {"name": name, "items": []}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["name"]
    assert "Control characters are not allowed" in response.json()["errors"]["name"][0]
    assert not RequisitionList.objects.exists()
    # the service the portal's forms call says so too (the portal's list took it without a word)
    from apps.core.exceptions import ValidationError  # here: the service's own refusal

    with pytest.raises(ValidationError) as refused:
        lists_service.list_create(user=stocked.owner.user, name=name)
    assert "Control characters are not allowed" in refused.value.errors["name"][0]
    with pytest.raises(ValidationError):
        lists_service.list_create(user=stocked.owner.user, name="Two\nlines")
    assert not RequisitionList.objects.exists()


def test_a_list_deleted_under_a_write_is_404_not_a_500(stocked):
    """A rename, a line's change or a line's removal that reads the list, then finds it
    deleted by another request (a second tab, a colleague) before it writes, answers 404: it
    was a 500 (the rename's save found no row; the answer's read found no list)."""
    from apps.core.exceptions import NotFound

    user = stocked.owner.user
    body = make(stocked.owner, items=[("A-1", 2)])
    stale = RequisitionList.objects.get(pk=body["id"])
    line = RequisitionListItem.objects.select_related("list").get(list=stale)
    RequisitionList.objects.filter(pk=stale.pk).delete()
    for write in (
        lambda: lists_service.list_update(by=user, reqlist=stale, name="Renamed"),
        lambda: lists_service.list_update(by=user, reqlist=stale, shared=True),
        lambda: lists_service.list_item_update(by=user, item=line, quantity=3),
        lambda: lists_service.list_item_delete(by=user, item=line),
        lambda: lists_service.list_item_add(by=user, reqlist=stale, sku="A-2", quantity=1),
    ):
        with pytest.raises(NotFound):
            write()
    assert not RequisitionList.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_renaming_and_deleting_a_list_at_once_never_answers_500(stocked):
    """Real parallel requests against PostgreSQL: each rename either lands before the delete
    (200) or finds the list gone (404)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections
    from rest_framework.test import APIClient

    token = stocked.owner._credentials["HTTP_AUTHORIZATION"]

    def call(method, url, body=None):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=token)
        try:
            return getattr(client, method)(url, body, format="json").status_code
        finally:
            connections.close_all()

    for round_ in range(8):
        list_id = make(stocked.owner, name=f"Round {round_}", items=[("A-1", 1)])["id"]
        with ThreadPoolExecutor(max_workers=3) as pool:
            renames = [
                pool.submit(call, "patch", f"{API}/{list_id}", {"name": f"R{n}"}) for n in range(2)
            ]
            deleted = pool.submit(call, "delete", f"{API}/{list_id}")
            codes = [future.result() for future in renames]
        assert deleted.result() in (204, 404)
        assert set(codes) <= {200, 404}, codes
