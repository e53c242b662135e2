"""Prices on GET products and products/{sku}: the engine's price for the caller's company,
price breaks, and price filters and ordering done in the database."""

from decimal import Decimal

import pytest

from apps.campaigns.models import Campaign
from apps.catalog.models import Product
from apps.catalog.services.categories import category_create
from apps.pricing.models import Price, PriceList, SpecialPrice

pytestmark = [pytest.mark.django_db]

D = Decimal


@pytest.fixture
def shop(dealer_client):
    client = dealer_client("viewer", customer__tier="A")
    leaf = category_create(name="Bulbs")
    lists = {p.code: p for p in PriceList.objects.all()}
    made = {}
    for sku, list_price in (("B-1", "30"), ("B-2", "10"), ("B-3", "20"), ("B-4", None)):
        product = Product.objects.create(sku=sku, name=f"Bulb {sku}", category=leaf)
        if list_price:
            Price.objects.create(price_list=lists["LIST"], product=product, amount=D(list_price))
        made[sku] = product
    Price.objects.create(price_list=lists["A"], product=made["B-1"], amount=D("5"))
    Price.objects.create(price_list=lists["A"], product=made["B-1"], amount=D("4"), min_quantity=10)
    SpecialPrice.objects.create(
        customer=client.user.customer, product=made["B-3"], amount=D("15"), min_quantity=1
    )
    return client, made


def prices(client, query=""):
    body = client.get(f"/api/v1/products?page_size=50{query}").json()
    return {p["sku"]: p["price"] for p in body["results"]}


def test_each_product_carries_this_dealers_price(shop):
    client, _ = shop
    listed = prices(client)
    assert listed["B-1"]["source"] == "tier:A" and listed["B-1"]["unit_net"] == "5.0000"
    assert listed["B-1"]["list"] == "30.0000" and listed["B-1"]["unit_gross"] == "6.0000"
    assert listed["B-2"]["source"] == "list"
    assert listed["B-3"]["source"] == "special" and listed["B-3"]["unit_net"] == "15.0000"
    assert listed["B-4"] is None  # no LIST price: not sellable


def test_another_dealer_sees_its_own_prices(shop, dealer_client):
    other = dealer_client("viewer", customer__tier="C")
    listed = prices(other)
    assert listed["B-1"]["source"] == "list" and listed["B-3"]["source"] == "list"


def test_a_campaign_shows_in_the_price(shop):
    client, _ = shop
    campaign = Campaign.objects.create(
        name="Autumn", discount_type="percentage", discount_value=D("10")
    )
    listed = prices(client)
    assert listed["B-2"]["campaign"] == {"id": campaign.id, "name": "Autumn"}
    assert listed["B-2"]["unit_net"] == "9.0000" and listed["B-2"]["discount"] == "1.0000"


def test_detail_has_the_dealers_price_breaks(shop):
    client, _ = shop
    body = client.get("/api/v1/products/B-1").json()
    assert body["price"]["unit_net"] == "5.0000"
    assert [(b["min_quantity"], b["unit_net"]) for b in body["price_breaks"]] == [
        (1, "5.0000"),
        (10, "4.0000"),
    ]


def test_price_breaks_include_campaign_thresholds_and_match_the_charged_price(shop):
    """The breaks a dealer reads are the prices it is charged: a campaign from 20 units is a
    break of its own (before, the list showed 4.0000 from 10 units while 20 were charged
    3.0000), at every quantity the quote agrees with the break that applies."""
    client, _ = shop
    Campaign.objects.create(
        name="Bulk", discount_type="fixed", discount_value=D("1"), min_quantity=20
    )
    Campaign.objects.create(  # not for special prices: no break on B-3
        name="Spring", discount_type="fixed", discount_value=D("2"), min_quantity=5
    )
    body = client.get("/api/v1/products/B-1").json()
    breaks = [(b["min_quantity"], b["unit_net"]) for b in body["price_breaks"]]
    assert breaks == [(1, "5.0000"), (5, "3.0000"), (10, "2.0000")]
    assert [
        b["min_quantity"] for b in client.get("/api/v1/products/B-3").json()["price_breaks"]
    ] == [1]
    for sku in ("B-1", "B-2", "B-3"):
        breaks = client.get(f"/api/v1/products/{sku}").json()["price_breaks"]
        for quantity in (1, 4, 5, 9, 10, 19, 20, 21, 100):
            quoted = client.post(
                "/api/v1/prices/quote",
                {"items": [{"sku": sku, "quantity": quantity}]},
                format="json",
            ).json()["lines"][0]["unit_net"]
            applies = [b for b in breaks if b["min_quantity"] <= quantity][-1]
            assert applies["unit_net"] == quoted, (sku, quantity)


def test_ordering_by_price_uses_the_dealers_price_with_unpriced_last(shop):
    client, _ = shop
    ascending = list(prices(client, "&ordering=price"))
    descending = list(prices(client, "&ordering=-price"))
    assert ascending == ["B-1", "B-2", "B-3", "B-4"]  # 5 (tier), 10 (list), 15 (special), none
    assert descending == ["B-3", "B-2", "B-1", "B-4"]


def test_price_min_and_max_filter_on_the_dealers_price(shop):
    client, _ = shop
    assert set(prices(client, "&price_min=6&price_max=15")) == {"B-2", "B-3"}
    assert set(prices(client, "&price_max=5")) == {"B-1"}
    # zeros past the 4 places say nothing more (a client's fixed-width formatting)
    assert set(prices(client, "&price_min=6.000000&price_max=15.00000")) == {"B-2", "B-3"}


def test_price_min_above_max_answers_400(shop):
    client, _ = shop
    response = client.get("/api/v1/products?price_min=10&price_max=1")
    assert response.status_code == 400
    assert "price_max" in response.json()["errors"]


# --- campaigns in the price filter and sort key ------------------------------------------------


def test_ordering_and_filter_include_the_campaign_discount(
    shop, django_capture_on_commit_callbacks
):
    """Rule "Price of product P for dealer D": the price the list filters and sorts on is the
    dealer's own resolved price at quantity 1, campaign included (not the base price), once the
    campaign is committed (the price index follows it then)."""
    client, made = shop
    with django_capture_on_commit_callbacks(execute=True):
        Campaign.objects.create(
            name="Bulb deal",
            discount_type="fixed",
            discount_value=D("8"),
            scope="products",
        ).products.add(made["B-2"])
    # B-2: LIST 10 - 8 = 2; B-1 tier 5; B-3 special 15 (no flag: no discount)
    assert list(prices(client, "&ordering=price")) == ["B-2", "B-1", "B-3", "B-4"]
    assert set(prices(client, "&price_max=3")) == {"B-2"}
    assert prices(client, "&price_max=3")["B-2"]["unit_net"] == "2.0000"


def test_sort_key_never_goes_below_zero_with_a_fixed_discount_larger_than_the_price(
    shop, django_capture_on_commit_callbacks
):
    client, _made = shop
    with django_capture_on_commit_callbacks(execute=True):
        Campaign.objects.create(name="Giveaway", discount_type="fixed", discount_value=D("12"))
    # B-1 5 -> 0, B-2 10 -> 0; B-3 is a special price (the campaign does not apply)
    assert set(prices(client, "&price_max=0")) == {"B-1", "B-2"}
    assert set(prices(client, "&price_min=0.0001")) == {"B-3"}


def test_sort_key_applies_a_campaign_to_special_prices_only_with_the_flag(
    shop, django_capture_on_commit_callbacks
):
    client, _made = shop
    with django_capture_on_commit_callbacks(execute=True):
        Campaign.objects.create(
            name="Specials too",
            discount_type="percentage",
            discount_value=D("50"),
            applies_to_special_prices=True,
        )
    listed = prices(client, "&price_min=7&price_max=8")
    assert set(listed) == {"B-3"} and listed["B-3"]["unit_net"] == "7.5000"
    # B-2: 10 -> 5 (the tier's row in the index); B-1's tier price 5 -> 2.5
    assert list(prices(client, "&ordering=price")) == ["B-1", "B-2", "B-3", "B-4"]
    assert set(prices(client, "&price_max=5")) == {"B-1", "B-2"}


def test_sort_key_ignores_campaigns_that_need_a_larger_quantity_or_another_audience(
    shop, django_capture_on_commit_callbacks
):
    client, _made = shop
    with django_capture_on_commit_callbacks(execute=True):
        Campaign.objects.create(
            name="Bulk", discount_type="percentage", discount_value=D("90"), min_quantity=10
        )
        Campaign.objects.create(
            name="Tier C only",
            discount_type="percentage",
            discount_value=D("90"),
            audience="tiers",
            tiers=["C"],
        )
    assert set(prices(client, "&price_max=4")) == set()


def test_sort_key_equals_the_engines_price_for_every_product(dealer_client):
    """The SQL sort key and the engine agree, product by product, over a mixed table: tier,
    LIST and special bases; campaigns by category (with sub-categories), brand, product and
    for everyone; percentage and fixed; with and without the special-price flag; priorities."""
    import random

    from apps.catalog.models import Brand
    from apps.pricing.engine import price_resolve_many
    from apps.pricing.selectors import PRICE_SORT_FIELD, annotate_base_price

    client = dealer_client("viewer", customer__tier="B")
    customer = client.user.customer
    rng = random.Random(7)
    root = category_create(name="Tools")
    child = category_create(name="Drills", parent=root)
    other = category_create(name="Paint")
    brands = [Brand.objects.create(name=f"Brand {i}", slug=f"brand-{i}") for i in range(3)]
    lists = {p.code: p for p in PriceList.objects.all()}
    products = []
    for i in range(40):
        product = Product.objects.create(
            sku=f"MIX-{i}",
            name=f"Mixed {i}",
            category=rng.choice([root, child, other]),
            brand=rng.choice([*brands, None]),
            vat_rate=20,
        )
        products.append(product)
        amount = D(rng.randint(100, 99999)) / 100
        Price.objects.create(price_list=lists["LIST"], product=product, amount=amount)
        if rng.random() < 0.5:
            Price.objects.create(price_list=lists["B"], product=product, amount=amount * D("0.9"))
        if rng.random() < 0.3:
            SpecialPrice.objects.create(
                customer=customer, product=product, amount=amount * D("0.8"), min_quantity=1
            )
    by_category = Campaign.objects.create(
        name="Tools", scope="categories", discount_type="percentage", discount_value=D("12.5")
    )
    by_category.categories.add(root)
    by_brand = Campaign.objects.create(
        name="Brand", scope="brands", discount_type="fixed", discount_value=D("3.33"), priority=5
    )
    by_brand.brands.add(brands[0])
    by_product = Campaign.objects.create(
        name="Picks",
        scope="products",
        discount_type="fixed",
        discount_value=D("500"),
        applies_to_special_prices=True,
    )
    by_product.products.add(*products[:5])
    Campaign.objects.create(name="All", discount_type="percentage", discount_value=D("7"))

    keyed = dict(
        annotate_base_price(Product.objects.all(), customer=customer).values_list(
            "pk", PRICE_SORT_FIELD
        )
    )
    resolved = price_resolve_many(customer=customer, items=[(p, 1) for p in products])
    for product, price in zip(products, resolved, strict=True):
        assert keyed[product.pk] == price.unit_net, product.sku
