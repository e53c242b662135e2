"""The price index (apps/pricing/index.py): the catalog sorts and filters by price on it, and
it agrees with the price engine, which alone says what a dealer is shown and charged.

Rule "Price of product P for dealer D" (DESIGN.md): the price a list is sorted and filtered on
is the dealer's own price at quantity 1 — special price, tier, LIST, best campaign — so the
index plus the dealer's exceptions must give exactly the engine's answer after any sequence of
changes to prices, special prices, campaigns and products."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.campaigns.models import Campaign
from apps.campaigns.rules import campaigns_bump
from apps.catalog.cache import catalog_cache_bump
from apps.catalog.models import Brand, Product
from apps.catalog.services.categories import category_create
from apps.pricing import index as index_module
from apps.pricing.engine import price_resolve_many, prices_bump
from apps.pricing.index import (
    CONTEXTS,
    price_filter,
    price_index_rebuild,
    price_index_refresh,
    price_index_sync,
    price_ordered_ids,
)
from apps.pricing.models import Price, PriceIndex, PriceIndexState, PriceList, SpecialPrice
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db]

D = Decimal
N_PRODUCTS = 8
AMOUNTS = [D("5"), D("10"), D("10"), D("12.5"), D("99.99"), D("0.5")]  # repeats: price ties


@pytest.fixture
def world(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # as if committed
        return _world()


def _world():
    root = category_create(name="Tools")
    child = category_create(name="Drills", parent=root)
    other = category_create(name="Paint")
    brands = [Brand.objects.create(name=f"Brand {i}", slug=f"brand-{i}") for i in range(2)]
    products = [
        Product.objects.create(
            sku=f"IX-{i}",
            name=f"Item {i % 3}",  # repeated names: ties broken by id
            category=(root, child, other)[i % 3],
            brand=brands[i % 2] if i % 3 else None,
            vat_rate=20,
        )
        for i in range(N_PRODUCTS)
    ]
    tiers = {tier: CustomerFactory(tier=tier) for tier in CONTEXTS}
    dealer = CustomerFactory(tier="B")  # the one with special prices and its own campaign
    someone = CustomerFactory(tier="A")  # in the dealers' campaigns too
    return {
        "categories": (root, child, other),
        "brands": brands,
        "products": products,
        "tiers": tiers,
        "dealer": dealer,
        "someone": someone,
        "lists": {p.code: p for p in PriceList.objects.all()},
    }


def engine_prices(customer, products) -> dict[int, Decimal | None]:
    fresh = list(Product.objects.filter(pk__in=[p.pk for p in products]))
    resolved = price_resolve_many(customer=customer, items=[(p, 1) for p in fresh])
    return {r.product_id: (r.unit_net if r.sellable else None) for r in resolved}


def expected_order(customer, products, *, descending=False) -> list[int]:
    prices = engine_prices(customer, products)
    names = dict(Product.objects.values_list("pk", "name"))
    priced = [pk for pk, price in prices.items() if price is not None]
    unpriced = [pk for pk, price in prices.items() if price is None]
    priced.sort(key=lambda pk: (names[pk], pk))
    priced.sort(key=lambda pk: prices[pk], reverse=descending)
    unpriced.sort(key=lambda pk: (names[pk], pk))
    return priced + unpriced


# --- the property ------------------------------------------------------------------------------

windows = st.sampled_from(["always", "now", "past", "future"])
price_ops = st.tuples(
    st.just("price"),
    st.sampled_from(["LIST", "A", "B", "C"]),
    st.integers(0, N_PRODUCTS - 1),
    st.sampled_from(AMOUNTS),
    windows,
)
delete_ops = st.tuples(
    st.just("delete"), st.sampled_from(["LIST", "A", "B", "C"]), st.integers(0, N_PRODUCTS - 1)
)
special_ops = st.tuples(
    st.just("special"), st.integers(0, N_PRODUCTS - 1), st.sampled_from(AMOUNTS), windows
)
campaign_ops = st.tuples(
    st.just("campaign"),
    st.sampled_from(["everyone", "tiers", "dealers"]),
    st.sampled_from(["everything", "categories", "brands", "products"]),
    st.sampled_from(["percentage", "fixed"]),
    st.sampled_from([D("10"), D("50"), D("7.5"), D("200")]),
    st.sampled_from([1, 1, 5]),
    st.booleans(),
    windows,
)
move_ops = st.tuples(
    st.just("move"), st.integers(0, N_PRODUCTS - 1), st.integers(0, 2), st.integers(0, 2)
)
operations = st.lists(
    st.one_of(price_ops, delete_ops, special_ops, campaign_ops, move_ops), min_size=1, max_size=8
)


def window(kind):
    now = timezone.now()
    return {
        "always": (None, None),
        "now": (now - timedelta(days=1), now + timedelta(days=1)),
        "past": (now - timedelta(days=3), now - timedelta(days=2)),
        "future": (now + timedelta(days=2), now + timedelta(days=3)),
    }[kind]


def apply(world, op):
    products, lists = world["products"], world["lists"]
    kind = op[0]
    if kind == "price":
        _, code, index, amount, when = op
        start, end = window(when)
        Price.objects.update_or_create(
            price_list=lists[code],
            product=products[index],
            min_quantity=1,
            defaults={"amount": amount, "valid_from": start, "valid_to": end},
        )
    elif kind == "delete":
        _, code, index = op
        for price in Price.objects.filter(price_list=lists[code], product=products[index]):
            price.delete()
    elif kind == "special":
        _, index, amount, when = op
        start, end = window(when)
        SpecialPrice.objects.update_or_create(
            customer=world["dealer"],
            product=products[index],
            min_quantity=1,
            defaults={"amount": amount, "valid_from": start, "valid_to": end},
        )
    elif kind == "campaign":
        _, audience, scope, discount, value, min_quantity, specials, when = op
        start, end = window(when)
        if discount == "percentage":
            value = min(value, D("100"))
        campaign = Campaign.objects.create(
            name="c",
            audience=audience,
            tiers=["B", "C"] if audience == "tiers" else [],
            scope=scope,
            discount_type=discount,
            discount_value=value,
            min_quantity=min_quantity,
            applies_to_special_prices=specials,
            starts_at=start,
            ends_at=end,
        )
        if audience == "dealers":
            campaign.customers.add(world["dealer"], world["someone"])
        if scope == "categories":
            campaign.categories.add(world["categories"][0])
        elif scope == "brands":
            campaign.brands.add(world["brands"][1])
        elif scope == "products":
            campaign.products.add(*products[:3])
    else:
        _, index, category, brand = op
        product = Product.objects.get(pk=products[index].pk)
        product.category = world["categories"][category]
        product.brand = world["brands"][brand] if brand < 2 else None
        product.save()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_index_and_engine_agree_after_any_sequence_of_changes(world, ops):
    """Rule "Price of product P for dealer D": after random changes (list and tier prices with
    windows, deletions, special prices, campaigns of every audience, scope and window, products
    moved between categories and brands) and the sync that follows them, every tier's index row
    is the engine's price for a plain dealer of that tier, and a dealer with special prices and
    its own campaign gets the engine's order and the engine's price range from the index."""
    with transaction.atomic():
        # a rolled-back example must not leave its rows in the caches of the next one
        prices_bump()
        campaigns_bump()
        catalog_cache_bump()
        for op in ops:
            apply(world, op)
        price_index_sync()
        products = world["products"]
        for tier, customer in world["tiers"].items():
            indexed = dict(
                PriceIndex.objects.filter(context=tier).values_list("product_id", "price")
            )
            expected = {
                pk: price
                for pk, price in engine_prices(customer, products).items()
                if price is not None
            }
            assert indexed == expected, tier
        dealer = world["dealer"]
        everything = Product.objects.all()
        for descending in (False, True):
            got = price_ordered_ids(
                everything, customer=dealer, descending=descending, offset=0, limit=50
            )
            assert got == expected_order(dealer, products, descending=descending)
            # deep pages from seek points (one every 2 priced rows here): the same slices
            seek_key = uuid.uuid4().hex  # the points of this example only
            with mock.patch.object(index_module, "PRICE_SEEK_STEP", 2):
                expected = expected_order(dealer, products, descending=descending)
                for offset in range(N_PRODUCTS):
                    page = price_ordered_ids(
                        everything,
                        customer=dealer,
                        descending=descending,
                        offset=offset,
                        limit=2,
                        seek_key=seek_key,
                        seek_seconds=60,
                    )
                    assert page == expected[offset : offset + 2], (descending, offset)
        prices = engine_prices(dealer, products)
        low, high = D("5"), D("12.5")
        wanted = {pk for pk, p in prices.items() if p is not None and low <= p <= high}
        # a narrow range is handed over as ids, a wide one as a subquery: the same products
        for inline in (index_module.RANGE_IDS_INLINE, 0):
            with mock.patch.object(index_module, "RANGE_IDS_INLINE", inline):
                got = price_filter(everything, customer=dealer, low=low, high=high)
                assert set(got.values_list("pk", flat=True)) == wanted, inline
        transaction.set_rollback(True)


# --- upkeep ---------------------------------------------------------------------------------------


def test_a_list_price_saved_updates_the_index_in_the_same_transaction(world):
    product = world["products"][0]
    Price.objects.create(price_list=world["lists"]["LIST"], product=product, amount=D("40"))
    rows = dict(PriceIndex.objects.filter(product=product).values_list("context", "price"))
    assert rows == {"A": D("40"), "B": D("40"), "C": D("40")}
    Price.objects.create(price_list=world["lists"]["B"], product=product, amount=D("30"))
    assert PriceIndex.objects.get(product=product, context="B").price == D("30")
    Price.objects.filter(price_list=world["lists"]["LIST"]).get(product=product).delete()
    assert set(PriceIndex.objects.filter(product=product).values_list("context", flat=True)) == {
        "B"
    }


def test_a_renamed_product_keeps_its_index_row_current(world):
    product = world["products"][1]
    Price.objects.create(price_list=world["lists"]["LIST"], product=product, amount=D("40"))
    product.name = "Zeta"
    product.save()
    assert set(PriceIndex.objects.filter(product=product).values_list("name", flat=True)) == {
        "Zeta"
    }


def test_a_campaign_reaches_the_index_when_its_transaction_commits(
    world, django_capture_on_commit_callbacks
):
    product = world["products"][2]
    Price.objects.create(price_list=world["lists"]["LIST"], product=product, amount=D("40"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        Campaign.objects.create(name="Quarter off", discount_type="percentage", discount_value=25)
    assert callbacks  # the sync was queued after the commit, once
    assert PriceIndex.objects.get(product=product, context="C").price == D("30")


def test_beat_sync_follows_campaign_and_price_windows_as_time_passes(world):
    """A campaign that starts, and a price whose window opens, after the last sync are in the
    index after the next beat sync, without any write in between."""
    product = world["products"][3]
    now = timezone.now()
    Price.objects.create(price_list=world["lists"]["LIST"], product=product, amount=D("40"))
    price_index_sync(force=True)
    # written "in the past" with bulk SQL (no signal): as if these rows' windows just opened
    Campaign.objects.bulk_create(
        [
            Campaign(
                name="Starts now",
                discount_type="fixed",
                discount_value=1,
                starts_at=now - timedelta(seconds=1),
            )
        ]
    )
    campaigns_bump()
    assert price_index_sync() == {"mode": "full", "rows": 3}
    assert PriceIndex.objects.get(product=product, context="A").price == D("39")
    tier_b = world["lists"]["B"]
    Price.objects.bulk_create(
        [
            Price(
                price_list=tier_b,
                product=product,
                amount=D("20"),
                valid_from=timezone.now() - timedelta(milliseconds=1),
            )
        ]
    )
    prices_bump()
    result = price_index_sync()
    assert result["mode"] == "windows" and result["rows"] == 1
    assert PriceIndex.objects.get(product=product, context="B").price == D("19")
    assert price_index_sync()["rows"] == 0  # nothing new: nothing written


def test_rebuild_command_prints_progress_and_rebuilds(world, capsys):
    for product in world["products"]:
        Price.objects.create(price_list=world["lists"]["LIST"], product=product, amount=D("9"))
    PriceIndex.objects.all().delete()
    call_command("price_index_rebuild")
    out = capsys.readouterr().out
    assert f"Price index rebuilt: {N_PRODUCTS} products x 3 tiers, {N_PRODUCTS * 3} rows" in out
    assert PriceIndex.objects.count() == N_PRODUCTS * len(CONTEXTS)
    assert PriceIndexState.objects.get().synced_at is not None


def _reltuples(model) -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table]
        )
        return cursor.fetchone()[0]


def test_a_rebuild_after_a_bulk_load_gives_the_planner_statistics_first(world):
    # a bulk load leaves tables never analyzed (autovacuum off or behind): the planner takes
    # them for empty and a full rebuild ran for minutes; it analyzes them first, in its own
    # transaction, where ANALYZE counts the uncommitted new rows
    with connection.cursor() as cursor:
        for model in (Product, Price, PriceIndex):
            cursor.execute(
                "DELETE FROM pg_statistic WHERE starelid = %s::regclass", [model._meta.db_table]
            )
            cursor.execute(
                "UPDATE pg_class SET reltuples = -1 WHERE oid = %s::regclass",
                [model._meta.db_table],
            )
    Price.objects.bulk_create(
        Price(price_list=world["lists"]["LIST"], product=product, amount=D("9"))
        for product in world["products"]
    )
    assert _reltuples(Product) == -1
    price_index_rebuild()
    assert _reltuples(Product) == N_PRODUCTS
    assert _reltuples(Price) == N_PRODUCTS
    # fresh statistics are left alone: a forced full sync analyzes nothing
    with CaptureQueriesContext(connection) as queries:
        price_index_sync(force=True)
    assert not [q for q in queries if q["sql"].startswith("ANALYZE")]


def test_a_large_refresh_analyzes_the_index_table_on_commit(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    """A bulk load fills the index as fast as the price table: once the refresh wrote a
    large batch into a table the planner takes for empty, its statistics are refreshed after
    the commit (the ERP feeds' index refresh deleted by scanning every row of the index, 30,000
    rows per 1,000 products, while the statistics said it held 50)."""
    from apps.core import bulk

    monkeypatch.setattr(bulk, "ANALYZE_MIN_ROWS", 3)  # "large" at this test's size
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM pg_statistic WHERE starelid = 'pricing_priceindex'::regclass")
        cursor.execute("UPDATE pg_class SET reltuples = -1 WHERE relname = 'pricing_priceindex'")
    for i, product in enumerate(world["products"]):
        Price.objects.create(price_list=world["lists"]["LIST"], product=product, amount=i + 1)
    with connection.cursor() as cursor:  # the per-save refreshes were too small to count
        cursor.execute("UPDATE pg_class SET reltuples = -1 WHERE relname = 'pricing_priceindex'")

    with (
        django_capture_on_commit_callbacks(execute=True),
        CaptureQueriesContext(connection) as queries,
    ):
        PriceIndex.objects.all().delete()
        written = price_index_refresh([p.pk for p in world["products"]])

    assert written == len(CONTEXTS) * N_PRODUCTS
    assert _reltuples(PriceIndex) == written
    delete = next(q["sql"] for q in queries if "DELETE FROM pricing_priceindex" in q["sql"])
    assert "::bigint[]" in delete  # the ids typed as the column: hashed, indexable


# --- reading: a page costs a page -----------------------------------------------------------------


def test_a_page_ordered_by_price_reads_the_index_not_every_product(world):
    """The page's ids come from one statement over the index (plus the dealer's exceptions):
    PostgreSQL's plan for it reads the index in price order with a limit."""
    for i, product in enumerate(world["products"]):
        Price.objects.create(price_list=world["lists"]["LIST"], product=product, amount=i + 1)
    with CaptureQueriesContext(connection) as ctx:
        ids = price_ordered_ids(
            Product.objects.visible(), customer=world["dealer"], descending=True, offset=0, limit=3
        )
    assert ids == [p.pk for p in reversed(world["products"][-3:])]
    union = [q["sql"] for q in ctx.captured_queries if "UNION ALL" in q["sql"]]
    assert len(union) == 1 and "pricing_priceindex" in union[0]
    assert "LIMIT 3" in union[0]


def test_a_special_price_window_that_closes_reorders_the_page_at_once(world):
    """The dealer's exceptions were cached for the minute: for up to a minute after a special
    price ended, the page was still sorted (and filtered) by it."""
    import time_machine

    dealer, products = world["dealer"], world["products"]
    for i, product in enumerate(products):
        Price.objects.create(price_list=world["lists"]["B"], product=product, amount=i + 10)
    start = timezone.now().replace(second=5, microsecond=0) + timedelta(minutes=1)
    SpecialPrice.objects.create(
        customer=dealer,
        product=products[-1],
        min_quantity=1,
        amount=D("1"),
        valid_to=start + timedelta(seconds=20),
    )
    SpecialPrice.objects.create(
        customer=dealer,
        product=products[0],
        min_quantity=1,
        amount=D("500"),
        valid_from=start + timedelta(seconds=20),
    )

    def first_and_last():
        ids = price_ordered_ids(
            Product.objects.visible(), customer=dealer, descending=False, offset=0, limit=N_PRODUCTS
        )
        return ids[0], ids[-1]

    with time_machine.travel(start, tick=False):
        assert first_and_last() == (products[-1].pk, products[-2].pk)  # 1.00 first, cached
    with time_machine.travel(start + timedelta(seconds=30), tick=False):  # the same minute
        assert first_and_last() == (products[1].pk, products[0].pk)  # 500.00 last
        expected = expected_order(dealer, products)
        assert (expected[0], expected[-1]) == first_and_last()


def test_a_deep_page_ordered_by_price_starts_from_its_cached_seek_point(world, monkeypatch):
    """Rule "bounded work per request": a deep page in price order reads from the nearest seek
    point on (cached per filters and dealer), not every row before it."""
    monkeypatch.setattr(index_module, "PRICE_SEEK_STEP", 3)
    for i, product in enumerate(world["products"]):
        Price.objects.create(price_list=world["lists"]["LIST"], product=product, amount=i + 1)
    dealer, visible = world["dealer"], Product.objects.visible()
    ids = [p.pk for p in world["products"]]
    with CaptureQueriesContext(connection) as ctx:
        page = price_ordered_ids(
            visible,
            customer=dealer,
            descending=False,
            offset=7,
            limit=1,
            seek_key="deep-test",
            seek_seconds=60,
        )
    assert page == ids[7:8]
    points = cache.get("pricing:seek:deep-test:ASC")
    assert [point[2] for point in points] == [ids[0], ids[3], ids[6]]
    # the page's statement starts at the 7th row (its key) and skips one row, not seven
    (statement,) = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT u.id")]
    assert statement.endswith("OFFSET 1 LIMIT 1")
    with CaptureQueriesContext(connection) as ctx:  # the next deep page: the points are cached
        assert (
            price_ordered_ids(
                visible,
                customer=dealer,
                descending=False,
                offset=6,
                limit=2,
                seek_key="deep-test",
                seek_seconds=60,
            )
            == ids[6:8]
        )
    assert not [q for q in ctx.captured_queries if "row_number()" in q["sql"]]


def test_a_narrow_price_range_reaches_the_page_query_as_one_constant_of_ids(world):
    """A price range of a few thousand products is read from the index first and given to the
    page's query as one array constant (which PostgreSQL hashes), so a page in name order walks
    the name index and stops after its rows instead of sorting every product in range."""
    for i, product in enumerate(world["products"]):
        Price.objects.create(price_list=world["lists"]["LIST"], product=product, amount=i + 1)
    in_range = price_filter(
        Product.objects.visible(), customer=world["dealer"], low=D("2"), high=D("3")
    )
    with CaptureQueriesContext(connection) as ctx:
        ids = list(in_range.order_by("name", "id").values_list("pk", flat=True)[:50])
    assert ids == [p.pk for p in sorted(world["products"][1:3], key=lambda p: (p.name, p.pk))]
    assert len(ctx.captured_queries) == 1
    assert re.search(r"= ANY\('\{\d+,\d+\}'::bigint\[\]\)", ctx.captured_queries[0]["sql"])


@pytest.mark.parametrize("seek_step", [index_module.PRICE_SEEK_STEP, 2])
@pytest.mark.parametrize("descending", [False, True])
def test_pages_ordered_by_price_walk_into_the_unpriced_products_without_gaps(
    world, dealer_client, descending, seek_step, monkeypatch
):
    """Over HTTP, page by page (size 3): every product once, priced ones by price (the dealer's
    special price and tier rows merged), then the unpriced ones by name; also when the deep
    pages start from seek points (one every 2 priced rows)."""
    monkeypatch.setattr(index_module, "PRICE_SEEK_STEP", seek_step)
    products, lists = world["products"], world["lists"]
    for i, product in enumerate(products[:5]):
        Price.objects.create(price_list=lists["LIST"], product=product, amount=D(10 + i))
    client = dealer_client("viewer", customer=world["dealer"])
    SpecialPrice.objects.create(
        customer=world["dealer"], product=products[4], amount=D("1"), min_quantity=1
    )
    SpecialPrice.objects.create(  # a special price on a product without a list price
        customer=world["dealer"], product=products[6], amount=D("12.5"), min_quantity=1
    )
    ordering = "-price" if descending else "price"
    seen, page = [], 1
    while page:
        body = client.get(f"/api/v1/products?page_size=3&page={page}&ordering={ordering}").json()
        seen += [item["sku"] for item in body["results"]]
        page = page + 1 if body["next"] else None
    expected = [
        Product.objects.get(pk=pk).sku
        for pk in expected_order(world["dealer"], products, descending=descending)
    ]
    assert seen == expected
    assert len(seen) == len(set(seen)) == N_PRODUCTS
    assert seen[-2:] == ["IX-7", "IX-5"]  # unpriced, by name: "Item 1", "Item 2"


def test_the_erp_feeds_keep_the_index_current_in_their_transaction(world):
    """The ERP price feed and the ERP product feed write with bulk SQL (no model signals): the
    rows they change are refreshed in their own batch transaction."""
    from apps.catalog.services.products import product_upsert_many
    from apps.pricing.services.feeds import price_upsert_many

    product = world["products"][0]
    outcomes, errors = price_upsert_many(
        records={
            0: {"sku": product.sku, "price_list": "LIST", "min_quantity": 1, "amount": D("70")},
            1: {"sku": product.sku, "price_list": "C", "min_quantity": 1, "amount": D("60")},
        }
    )
    assert not errors and set(outcomes.values()) == {"created"}
    rows = dict(PriceIndex.objects.filter(product=product).values_list("context", "price"))
    assert rows == {"A": D("70"), "B": D("70"), "C": D("60")}

    record = {
        "sku": product.sku,
        "name": "Aardvark drill",
        "category": "Paint",
        "vat_rate": 20,
        "unit": "piece",
    }
    outcomes, errors = product_upsert_many(records={0: record})
    assert not errors and outcomes == {0: "updated"}, errors
    assert set(PriceIndex.objects.filter(product=product).values_list("name", flat=True)) == {
        "Aardvark drill"
    }


def test_a_refresh_passes_its_products_as_one_array_whatever_their_number(world):
    """The refresh of an ERP batch's products (a thousand and more) names them in one array
    parameter per price context, never one parameter per id: its statement is the same size
    for 2 products as for all of them, and composing it costs nothing per product (at 1,000
    products, a list of placeholders cost a third of a price batch's time)."""
    products = world["products"]
    for product in products:
        Price.objects.create(price_list=world["lists"]["LIST"], product=product, amount=D("5"))

    at = timezone.now()

    def refresh_statement(ids):
        with CaptureQueriesContext(connection) as ctx:
            price_index_refresh(ids, at=at)
        [statement] = [q["sql"] for q in ctx.captured_queries if "pricing_priceindex" in q["sql"]]
        return statement

    few, many = products[:2], products
    assert len(many) >= 5
    small = refresh_statement([p.pk for p in few])
    large = refresh_statement([p.pk for p in many])
    # the ids are one array literal per context: the statements differ only in the literals
    shape = re.compile(r"'\{[\d,]*\}'")
    assert shape.sub("ids", small) == shape.sub("ids", large)
    assert large.count(",".join(str(p.pk) for p in sorted(many, key=lambda p: p.pk))) >= len(
        index_module.CONTEXTS
    )
