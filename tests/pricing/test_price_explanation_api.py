"""``GET products/{sku}/price-explanation``: the dealer's "Why this price" (the portal shows
it too), from the back office's own explanation, without other dealers' campaigns."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.campaigns.models import Campaign
from tests.orders.conftest import Shop

pytestmark = [pytest.mark.django_db]


def campaign(name, **fields):
    defaults = {"discount_type": "percentage", "discount_value": Decimal("10"), "is_active": True}
    return Campaign.objects.create(name=name, **{**defaults, **fields})


def test_the_explanation_shows_the_winner_and_hides_other_dealers_campaigns(dealer_client):
    from tests.factories import CustomerFactory

    shop = Shop(dealer_client)
    shop.product("A-1", price="100", stock=10)
    campaign("For everyone, 10 %")
    campaign("Bulk, 20 % from 50", discount_value=Decimal("20"), min_quantity=50)
    secret = campaign("Secret deal for another dealer", discount_value=Decimal("50"))
    secret.audience = "customers"
    secret.save()
    secret.customers.add(CustomerFactory())
    response = shop.owner.get("/api/v1/products/A-1/price-explanation?quantity=2")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["source"], body["unit_net"]) == ("list", "90.0000")
    names = {c["name"]: c["status"] for c in body["campaigns"]}
    assert names == {"For everyone, 10 %": "applied", "Bulk, 20 % from 50": "excluded"}
    assert "Secret" not in response.content.decode()
    assert [level["status"] for level in body["levels"]][-1] == "taken"  # the list price
    # the levels in the dealer's words, as the catalog names a price's source (not staff's)
    turkish = shop.owner.get(
        "/api/v1/products/A-1/price-explanation?quantity=2", HTTP_ACCEPT_LANGUAGE="tr"
    ).json()
    assert turkish["levels"][0]["label"] == "Size özel fiyat"
    assert body["levels"][0]["label"] == "Your special price"


def test_a_bad_quantity_is_400_and_an_unknown_product_404(dealer_client):
    shop = Shop(dealer_client)
    shop.product("A-1", price="100", stock=10)
    assert shop.owner.get("/api/v1/products/A-1/price-explanation?quantity=0").status_code == 400
    assert shop.owner.get("/api/v1/products/A-1/price-explanation?quantity=x").status_code == 400
    # the most a line holds anywhere else (cart, quote, order)
    over = shop.owner.get("/api/v1/products/A-1/price-explanation?quantity=1000001")
    assert over.status_code == 400 and "1,000,000" in over.json()["errors"]["quantity"][0]
    assert (
        shop.owner.get("/api/v1/products/A-1/price-explanation?quantity=1000000").status_code == 200
    )
    assert shop.owner.get("/api/v1/products/NOPE/price-explanation").status_code == 404
    # an empty parameter counts as absent, as everywhere in the API: quantity 1
    empty = shop.owner.get("/api/v1/products/A-1/price-explanation?quantity=")
    assert empty.status_code == 200 and empty.json()["quantity"] == 1


def test_the_notes_give_times_in_the_distributors_time_with_its_offset(dealer_client):
    # given: a special price that expired at 06:09 UTC, 09:09 in Istanbul; the API answers in
    # UTC, but a dealer reads a bare clock time as its own
    import datetime as dt

    from apps.pricing.models import SpecialPrice

    shop = Shop(dealer_client)
    product = shop.product("A-1", price="100", stock=10)
    SpecialPrice.objects.create(
        customer=shop.customer,
        product=product,
        min_quantity=1,
        amount=Decimal("80"),
        valid_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        valid_to=dt.datetime(2026, 11, 6, 6, 9, tzinfo=dt.UTC),
    )

    def notes(**headers):
        url = "/api/v1/products/A-1/price-explanation?quantity=1"
        body = shop.owner.get(url, **headers).json()
        return [row["note"] for level in body["levels"] for row in level["rows"]]

    assert "06 Kasım 2026 09:09 (UTC+03:00) tarihinde süresi doldu." in notes(
        HTTP_ACCEPT_LANGUAGE="tr"
    )
    assert "Expired at Nov. 6, 2026 09:09 (UTC+03:00)." in notes()


def test_the_schema_describes_the_explanation_it_answers(dealer_client):
    """The schema said only "an object": a client generated from it knew no field."""
    import jsonschema
    from drf_spectacular.generators import SchemaGenerator

    shop = Shop(dealer_client)
    shop.product("A-1", price="100", stock=10)
    campaign("For everyone, 10 %")
    campaign("Bulk, 20 % from 50", discount_value=Decimal("20"), min_quantity=50)
    answer = shop.owner.get("/api/v1/products/A-1/price-explanation?quantity=2").json()
    assert answer["levels"] and answer["campaigns"] and answer["campaign"]

    api = SchemaGenerator().get_schema(request=None, public=True)
    operation = api["paths"]["/api/v1/products/{sku}/price-explanation"]["get"]
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/PriceExplanation"}
    components = api["components"]["schemas"]
    # every object of the answer has the fields the schema names, and no other
    jsonschema.Draft7Validator(_closed(body, components)).validate(answer)
    (quantity,) = [p for p in operation["parameters"] if p["name"] == "quantity"]
    assert (quantity["schema"]["minimum"], quantity["schema"]["maximum"]) == (1, 1_000_000)


def _closed(node, components):
    """An OpenAPI 3.0 schema as JSON Schema with its references inlined: ``nullable`` as a
    null type, and objects closed to fields the schema does not name."""
    if isinstance(node, list):
        return [_closed(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _closed(components[node["$ref"].rsplit("/", 1)[-1]], components)
    out = {key: _closed(value, components) for key, value in node.items() if key != "nullable"}
    if out.get("type") == "object" and "properties" in out:
        out["additionalProperties"] = False
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out
