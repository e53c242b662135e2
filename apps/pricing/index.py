"""The price index: sorting and filtering the catalog by the dealer's price without pricing
100,000 products per request.

**What it holds.** ``PriceIndex`` has one row per (price context, product): the unit price at
quantity 1 that the price engine gives a dealer of that tier (``A``, ``B``, ``C``) who has no
special price and no campaign aimed at chosen dealers. Campaigns for everyone and for the tier
are in it. It is filled by the engine's own rule written in SQL (``annotate_context_price``,
the same expression that ``tests/pricing`` proves equal to the engine), never by a second
price rule. The price a dealer is shown and charged always comes from the engine.

**At query time** (``price_filter``, ``price_ordered_ids``) a dealer's price differs from its
tier's only on its *exceptions*: products with one of its special prices (quantity 1, valid
now) and products reached by a live campaign aimed at it. Those few are priced exactly over
the dealer's own rows (``annotate_base_price``); every other product reads its tier's row. A
page ordered by price is a ``UNION ALL`` of two index scans ordered by price (the tier's rows
minus the exceptions, and the exceptions), so it reads about a page of rows, not the catalog.
Products without a price come last (by name), as before.

**Kept current** (``price_index_refresh``) in the writer's own transaction by every change of a
list price (model signals, the ERP price feed) and of a product (its name, category, brand:
model signals and the ERP product feed); by ``price_index_sync`` for what changes everything at
once or with the clock: campaigns, price lists, categories and brands (queued after their
commit, and checked by celery beat every ``PRICE_INDEX_SYNC_SECONDS`` against a signature of
what the index was built from), and price rows whose validity window opened or closed since the
last sync. ``manage.py price_index_rebuild`` rebuilds it all with a progress bar.

Other databases than PostgreSQL (the SQLite demo) price every product in the query instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import BooleanField, Count, Exists, F, Func, Max, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from apps.accounts.models import Tier
from apps.campaigns.rules import CAMPAIGNS_VERSION_KEY, CampaignRule, active_campaign_rules
from apps.catalog.cache import VERSION_KEY as CATALOG_VERSION_KEY
from apps.catalog.cache import catalog_cache_version
from apps.catalog.models import Brand, Category, Product
from apps.core.bulk import analyze_stale, analyze_stale_now
from apps.core.cache import cache_get_or_build
from apps.pricing.engine import PRICES_VERSION_KEY
from apps.pricing.models import Price, PriceIndex, PriceIndexState, SpecialPrice
from apps.pricing.selectors import (
    PRICE_SORT_FIELD,
    active_price_lists,
    annotate_base_price,
    annotate_context_price,
)

CONTEXTS: tuple[str, ...] = tuple(Tier.values)
REBUILD_CHUNK = 5000
# what a full refresh reads and writes: their statistics must not be stale (a bulk load)
_SOURCES = (Product, Category, Brand, Price, PriceIndex)
EXCEPTIONS_TTL = 120  # seconds; the key changes every minute anyway
RANGE_IDS_INLINE = 10_000  # a price range with at most this many products is passed as ids


def _indexed() -> bool:
    return connection.vendor == "postgresql"


# --- upkeep -------------------------------------------------------------------------------------


def price_index_refresh(product_ids: Iterable[int] | None = None, *, at=None) -> int:
    """Recompute the rows of ``product_ids`` (None: every product) in every context, in the
    caller's transaction: rows whose price or name changed are updated, new ones inserted, rows
    of products that lost their price (or were deleted) removed. Returns the rows written."""
    if not _indexed():
        return 0
    ids = None if product_ids is None else sorted({int(pk) for pk in product_ids})
    if ids is not None and not ids:
        return 0
    at = at or timezone.now()
    selects, params = [], []
    for tier in CONTEXTS:
        products = Product.objects.all()
        if ids is not None:
            products = products.filter(_AnyOf("pk", ids))  # one parameter, not one per id
        computed = (
            annotate_context_price(products, tier=tier, at=at)
            .filter(**{f"{PRICE_SORT_FIELD}__isnull": False})
            .order_by()
            .values_list("pk", "name", PRICE_SORT_FIELD)
        )
        select_sql, select_params = computed.query.sql_with_params()
        selects.append(f"SELECT %s::varchar, c.* FROM ({select_sql}) AS c")  # noqa: S608
        params += [tier, *select_params]
    # typed as the column: an array of small ids would be int2[] or int4[], which PostgreSQL
    # can neither hash nor (with stale statistics) use in the index condition
    only = "AND i.product_id = ANY(%s::bigint[])" if ids is not None else ""
    # one statement for every tier: what each product's rows should be, then the upsert of
    # what differs and the removal of what should no longer be there (in key order: two
    # writers of overlapping products lock in the same order)
    with connection.cursor() as cursor:
        cursor.execute(  # Django's own SQL composed; every value is a parameter
            f"""
            WITH computed(context, product_id, name, price) AS MATERIALIZED (
                {" UNION ALL ".join(selects)}
            ),
            upserted AS (
                INSERT INTO pricing_priceindex (context, product_id, name, price)
                SELECT context, product_id, name, price FROM computed
                ORDER BY product_id, context
                ON CONFLICT (context, product_id) DO UPDATE
                    SET price = EXCLUDED.price, name = EXCLUDED.name
                    WHERE (pricing_priceindex.price, pricing_priceindex.name)
                        IS DISTINCT FROM (EXCLUDED.price, EXCLUDED.name)
                RETURNING 1
            ),
            removed AS (
                DELETE FROM pricing_priceindex i
                WHERE i.context = ANY(%s) {only}
                  AND NOT EXISTS (
                    SELECT 1 FROM computed c
                    WHERE c.product_id = i.product_id AND c.context = i.context
                  )
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM upserted) + (SELECT count(*) FROM removed)
            """,  # noqa: S608
            [*params, list(CONTEXTS), *([ids] if ids is not None else [])],
        )
        written = cursor.fetchone()[0]
    # a bulk load of prices or products fills the index as fast as the tables it derives from:
    # its statistics too are refreshed once stale (on commit)
    analyze_stale((PriceIndex,), written=written)
    return written


def price_index_rebuild(*, progress: Callable[[int, int], None] | None = None) -> int:
    """Every product in every context, ``REBUILD_CHUNK`` products per transaction (a long
    rebuild holds no lock for long); then the sync state is recorded. Returns rows written."""
    if not _indexed():
        return 0
    at = timezone.now()
    signature = price_index_signature(at)
    analyze_stale_now(_SOURCES)
    ids = list(Product.objects.order_by("pk").values_list("pk", flat=True))
    total, written = len(ids), 0
    with transaction.atomic():
        # rows of products that no longer exist (hard deleted ones cascade; soft deleted stay)
        written += PriceIndex.objects.exclude(product__in=Product.objects.all()).delete()[0]
    for start in range(0, total, REBUILD_CHUNK):
        with transaction.atomic():
            written += price_index_refresh(ids[start : start + REBUILD_CHUNK], at=at)
        if progress:
            progress(min(start + REBUILD_CHUNK, total), total)
    if progress and not total:
        progress(0, 0)
    PriceIndexState.objects.update_or_create(
        pk=1, defaults={"signature": signature, "synced_at": at}
    )
    return written


def price_index_signature(at: datetime) -> str:
    """What the whole index depends on besides single prices and products: the campaigns live
    now that reach a whole tier (with their terms and scopes), the active price lists, and the
    catalog version (category paths and brands). A different signature means a full refresh."""
    rules = sorted(
        _rule_key(rule)
        for rule in active_campaign_rules()
        if rule.audience != "dealers" and rule.min_quantity <= 1 and rule.live_at(at)
    )
    lists = sorted(active_price_lists().items())
    text = repr((rules, lists, catalog_cache_version()))
    return hashlib.sha256(text.encode()).hexdigest()


def _rule_key(rule: CampaignRule) -> tuple:
    return (
        rule.id,
        rule.discount_type,
        str(rule.discount_value),
        rule.applies_to_special_prices,
        rule.audience,
        tuple(sorted(rule.tiers)),
        rule.scope,
        tuple(sorted(rule.category_paths)),
        tuple(sorted(rule.brand_ids)),
        tuple(sorted(rule.product_ids)),
    )


def price_index_sync(*, force: bool = False) -> dict:
    """Bring the index up to date with the clock and with what changes everything at once:
    when the signature differs from the last sync's (a campaign started, ended or changed; a
    price list, category or brand changed) or with ``force``, every product; otherwise only the
    products with a price row whose validity window opened or closed since the last sync.
    Runs under a lock on the state row, so two syncs never overlap."""
    if not _indexed():
        return {"mode": "skipped", "rows": 0}
    with transaction.atomic():
        state, _ = PriceIndexState.objects.select_for_update().get_or_create(pk=1)
        now = timezone.now()
        signature = price_index_signature(now)
        if force or state.synced_at is None or state.signature != signature:
            analyze_stale_now(_SOURCES)
            mode, rows = "full", price_index_refresh(None, at=now)
        else:
            mode, rows = "windows", price_index_refresh(_window_crossings(state.synced_at, now))
        state.signature, state.synced_at = signature, now
        state.save(update_fields=["signature", "synced_at"])
    return {"mode": mode, "rows": rows}


def _window_crossings(since: datetime, now: datetime) -> set[int]:
    """Products with a list price whose window opened or closed in ``(since, now]``."""
    crossed = Q(valid_from__gt=since, valid_from__lte=now)
    crossed |= Q(valid_to__gt=since, valid_to__lte=now)
    return set(Price.objects.filter(crossed).values_list("product_id", flat=True))


# --- reading ------------------------------------------------------------------------------------


def _exception_rules(customer, at) -> list[CampaignRule]:
    """Live campaigns aimed at this dealer in person (the index leaves them out)."""
    return [
        rule
        for rule in active_campaign_rules()
        if rule.audience == "dealers"
        and rule.min_quantity <= 1
        and rule.live_at(at)
        and rule.reaches(customer)
    ]


def _exceptions(customer, at) -> Q:
    """The products whose price for ``customer`` may differ from its tier's row: a special
    price of quantity 1 valid now, or a campaign aimed at it (a condition on products)."""
    pk, prefix = "pk", ""
    specials = SpecialPrice.objects.valid_at(at).filter(
        customer_id=customer.pk, min_quantity=1, product_id=OuterRef(pk)
    )
    condition = Q(Exists(specials))
    for rule in _exception_rules(customer, at):
        if rule.scope == "everything":
            condition |= Q(**{f"{pk}__isnull": False})
        elif rule.scope == "categories":
            for path in rule.category_paths:
                condition |= Q(**{f"{prefix}category__path__startswith": path})
        elif rule.scope == "brands":
            condition |= Q(**{f"{prefix}brand_id__in": sorted(rule.brand_ids)})
        else:
            condition |= Q(**{f"{pk}__in": sorted(rule.product_ids)})
    return condition


def dealer_exception_prices(customer, at) -> list[tuple[int, Decimal, str]]:
    """``(product id, price, name)`` of every product of the catalog whose price for
    ``customer`` differs from its tier's row (its exceptions, with a price), priced exactly.

    Cached per dealer under everything they depend on: the engine's price and campaign
    versions, the catalog version, the dealer's special prices (how many, the last change, and
    how many of their windows have opened and closed by ``at``: one that opens or closes is a
    new key at once) and the minute (campaign windows open and close as time passes). A
    dealer has a few hundred."""
    specials = SpecialPrice.objects.filter(customer_id=customer.pk).aggregate(
        rows=Count("pk"),
        changed=Max("updated_at"),
        opened=Count("pk", filter=Q(valid_from__lte=at)),
        closed=Count("pk", filter=Q(valid_to__lte=at)),
    )
    versions = cache.get_many([PRICES_VERSION_KEY, CAMPAIGNS_VERSION_KEY, CATALOG_VERSION_KEY])
    key = (
        "pricing:exceptions:"
        + hashlib.sha256(
            repr(
                (
                    customer.pk,
                    customer.tier,
                    sorted(versions.items()),
                    specials["rows"],
                    specials["changed"],
                    specials["opened"],
                    specials["closed"],
                    int(at.timestamp() // 60),
                )
            ).encode()
        ).hexdigest()
    )
    found = cache.get(key)
    if found is None:
        exceptions = Product.objects.filter(_exceptions(customer, at))
        found = list(
            annotate_base_price(exceptions, customer=customer, at=at)
            .filter(**{f"{PRICE_SORT_FIELD}__isnull": False})
            .values_list("pk", PRICE_SORT_FIELD, "name")
        )
        cache.set(key, found, timeout=EXCEPTIONS_TTL)
    return found


def _rows(queryset: QuerySet, customer, exception_ids: list[int]) -> QuerySet:
    """The tier's index rows of ``queryset``'s products that are not the dealer's exceptions.
    (An exception without a price for the dealer has no index row either: excluding the priced
    ones is enough.)"""
    return PriceIndex.objects.filter(
        context=customer.tier, product_id__in=queryset.order_by().values("pk")
    ).exclude(_AnyOf("product_id", exception_ids))


def price_filter(queryset: QuerySet, *, customer, low=None, high=None) -> QuerySet:
    """Products of ``queryset`` whose price for ``customer`` at quantity 1 is within ``[low,
    high]`` (either may be None); products without a price are left out."""
    at = timezone.now()
    if not _indexed():
        queryset = annotate_base_price(queryset, customer=customer, at=at)
        bounds = {f"{PRICE_SORT_FIELD}__isnull": False}
        if low is not None:
            bounds[f"{PRICE_SORT_FIELD}__gte"] = low
        if high is not None:
            bounds[f"{PRICE_SORT_FIELD}__lte"] = high
        return queryset.filter(**bounds)
    index_bounds = {}
    if low is not None:
        index_bounds["price__gte"] = low
    if high is not None:
        index_bounds["price__lte"] = high
    exceptions = dealer_exception_prices(customer, at)
    in_index = (
        PriceIndex.objects.filter(context=customer.tier, **index_bounds)
        .exclude(_AnyOf("product_id", [pk for pk, _price, _name in exceptions]))
        .values_list("product_id")
    )
    exact = [
        pk
        for pk, price, _name in exceptions
        if (low is None or price >= low) and (high is None or price <= high)
    ]
    # A range of a few thousand products is read first and handed to the page's query as a
    # list of ids (hashed by PostgreSQL): a page in name order then walks the name index and
    # stops after its rows instead of sorting every match, whatever the statistics say.
    ids = list(in_index[: RANGE_IDS_INLINE + 1].values_list("product_id", flat=True))
    if len(ids) <= RANGE_IDS_INLINE:
        return queryset.filter(_AnyOf("pk", [*ids, *exact]))
    # a wide range: one IN over a UNION ALL of the two (disjoint) sets, which the planner
    # hashes, joining the products by key (an OR of two IN clauses scans every product)
    index_sql, index_params = in_index.query.sql_with_params()
    union = f"({index_sql}) UNION ALL (SELECT unnest(%s::bigint[]))"  # Django's SQL; parameters
    in_range = RawSQL(union, (*index_params, exact))  # noqa: S611
    return queryset.filter(pk__in=in_range)


class _AnyOf(Func):
    """``<expression> = ANY('{1,2,...}'::bigint[])``: thousands of ids as one constant (an
    ``IN`` of one parameter per id costs more to compose than the query costs to run), which
    PostgreSQL hashes."""

    template = "%(expressions)s = ANY(%(array)s::bigint[])"
    output_field = BooleanField()

    def __init__(self, expression: str, ids: Iterable[int]):
        super().__init__(F(expression))
        self.literal = self.array(int(pk) for pk in ids)

    @staticmethod
    def array(values: Iterable[int | Decimal]) -> str:
        """Numbers as one PostgreSQL array literal (``{1,2.50}``), composed at once."""
        return "{" + ",".join(str(value) for value in values) + "}"

    def as_sql(self, compiler, connection, **extra):
        sql, params = super().as_sql(compiler, connection, array="%s", **extra)
        return sql, (*params, self.literal)


def price_ordered_ids(
    queryset: QuerySet,
    *,
    customer,
    descending: bool,
    offset: int,
    limit: int,
    seek_key: str | None = None,
    seek_seconds: int = 0,
) -> list[int]:
    """The ids of ``queryset``'s products ``[offset, offset + limit)`` ordered by the price for
    ``customer`` at quantity 1 (ties by name, then id; products without a price last, by name).

    With a ``seek_key`` (what the filters and the dealer are) a deep page starts from the
    nearest seek point before it: the sort keys of every ``PRICE_SEEK_STEP``-th priced row,
    read in one scan and cached for ``seek_seconds``, so a page reads at most
    ``PRICE_SEEK_STEP`` rows more than it shows, however deep (``price_seek_points``)."""
    at = timezone.now()
    if not _indexed():
        queryset = annotate_base_price(queryset, customer=customer, at=at)
        key = F(PRICE_SORT_FIELD)
        key = key.desc(nulls_last=True) if descending else key.asc(nulls_last=True)
        ordered = queryset.order_by(key, "name", "pk").values_list("pk", flat=True)
        return list(ordered[offset : offset + limit])
    direction = "DESC" if descending else "ASC"
    exceptions = dealer_exception_prices(customer, at)
    priced_exceptions = [pk for pk, _price, _name in exceptions]
    seek_from, skip = None, offset
    if seek_key and seek_seconds > 0 and offset >= PRICE_SEEK_STEP:
        points = cache_get_or_build(
            f"pricing:seek:{seek_key}:{direction}",
            lambda: _price_seek_points(queryset, customer, exceptions, descending),
            timeout=seek_seconds,
        )  # None while another worker reads them: this page skips its rows as before
        step = min(offset // PRICE_SEEK_STEP, len(points) - 1) if points else 0
        if step > 0:
            seek_from, skip = points[step], offset - step * PRICE_SEEK_STEP
    sql, params = _priced_rows_sql(
        queryset, customer, exceptions, descending, start=seek_from, depth=skip + limit
    )
    with connection.cursor() as cursor:
        cursor.execute(  # Django's own SQL composed; every value is a parameter
            f"SELECT u.id FROM ({sql}) AS u(id, price, name) "  # noqa: S608
            f"ORDER BY u.price {direction}, u.name, u.id OFFSET %s LIMIT %s",
            [*params, skip, limit],
        )
        ids = [row[0] for row in cursor.fetchall()]
    if len(ids) == limit:
        return ids
    # past the priced products: the unpriced ones, by name
    rows = _rows(queryset, customer, priced_exceptions)
    priced = rows.count() + queryset.filter(pk__in=priced_exceptions).count()
    unpriced = (
        queryset.exclude(pk__in=rows.values("product_id"))
        .exclude(pk__in=priced_exceptions)
        .order_by("name", "pk")
        .values_list("pk", flat=True)
    )
    start = max(offset - priced, 0)
    return ids + list(unpriced[start : start + limit - len(ids)])


PRICE_SEEK_STEP = 1000  # priced rows between two seek points of a deep page


def _priced_rows_sql(
    queryset: QuerySet,
    customer,
    exceptions: list[tuple[int, Decimal, str]],
    descending: bool,
    *,
    start: tuple | None = None,
    depth: int | None = None,
) -> tuple[str, list]:
    """``SELECT id, price, name`` of ``queryset``'s priced products for ``customer``: a
    ``UNION ALL`` of two reads in price order (the tier's index rows minus the dealer's
    exceptions, and the exceptions priced exactly), each from the row whose sort key is
    ``start`` on (None: from the first) and at most ``depth`` rows long (None: all)."""
    direction = "DESC" if descending else "ASC"
    rows = _rows(queryset, customer, [pk for pk, _price, _name in exceptions])
    if start is not None:
        rows = rows.filter(_from_price(start, descending, price="price", id="product_id"))
    if depth is None:
        rows = rows.order_by()
    else:
        rows = rows.order_by("-price" if descending else "price", "name", "product_id")
    rows = rows.values_list("product_id", "price", "name")
    if depth is not None:
        rows = rows[:depth]
    rows_sql, rows_params = rows.query.sql_with_params()
    within_sql, within_params = queryset.order_by().values("pk").query.sql_with_params()
    bound_sql, bound_params = "", []
    if start is not None:
        price, name, pk = start
        beyond = "<" if descending else ">"
        bound_sql = (
            f" AND e.price {beyond}= %s AND (e.price {beyond} %s OR e.name > %s "
            "OR (e.name = %s AND e.id >= %s))"
        )
        bound_params = [price, price, name, name, pk]
    exact_sql = (  # Django's SQL composed; every value is a parameter
        "SELECT e.id, e.price, e.name FROM unnest(%s::bigint[], %s::numeric[], %s::text[]) "  # noqa: S608
        f"AS e(id, price, name) WHERE e.id IN ({within_sql}){bound_sql} "
        f"ORDER BY e.price {direction}, e.name, e.id LIMIT %s"
    )
    exact_params = [
        _AnyOf.array(pk for pk, _price, _name in exceptions),
        _AnyOf.array(price for _pk, price, _name in exceptions),
        [name for _pk, _price, name in exceptions],
        *within_params,
        *bound_params,
        depth,  # None: LIMIT NULL, no limit
    ]
    return f"({rows_sql}) UNION ALL ({exact_sql})", [*rows_params, *exact_params]


def _from_price(start: tuple, descending: bool, *, price: str, id: str) -> Q:
    """The rows at or after the sort key ``start`` (price, name, id) in price order (ties by
    name, then id): ``price >= p AND (price > p OR name > n OR (name = n AND id >= i))``,
    whose first part is a range of the price index."""
    value, name, pk = start
    beyond = "lt" if descending else "gt"
    return Q(**{f"{price}__{beyond}e": value}) & (
        Q(**{f"{price}__{beyond}": value})
        | Q(name__gt=name)
        | Q(**{"name": name, f"{id}__gte": pk})
    )


def _price_seek_points(
    queryset: QuerySet, customer, exceptions: list[tuple[int, Decimal, str]], descending: bool
) -> list[tuple]:
    """The sort keys (price, name, id) of priced rows 0, ``PRICE_SEEK_STEP``, 2 x
    ``PRICE_SEEK_STEP``... in the dealer's price order, in one query."""
    direction = "DESC" if descending else "ASC"
    sql, params = _priced_rows_sql(queryset, customer, exceptions, descending)
    with connection.cursor() as cursor:
        cursor.execute(  # Django's own SQL composed; every value is a parameter
            "SELECT n.price, n.name, n.id FROM (SELECT u.id, u.price, u.name, "  # noqa: S608
            f"row_number() OVER (ORDER BY u.price {direction}, u.name, u.id) AS row "
            f"FROM ({sql}) AS u(id, price, name)) n "
            "WHERE mod(n.row - 1, %s) = 0 ORDER BY n.row",
            [*params, PRICE_SEEK_STEP],
        )
        return [tuple(row) for row in cursor.fetchall()]
