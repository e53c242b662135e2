"""Reads of the catalog: the category tree and the brand list (cached), and the product
queries of the dealer API (visible products, search, one page at a time).

The catalog is the same for every dealer; what differs per company (prices) is attached to a
page of products afterwards by ``attach_prices``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import (
    SearchQuery,
    SearchQueryField,
    SearchVectorField,
    TrigramWordSimilarity,
)
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    F,
    FloatField,
    Func,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat, Mod, RowNumber
from django.db.models.lookups import Contains, Exact, GreaterThanOrEqual, StartsWith

from apps.catalog.cache import catalog_cache_key
from apps.catalog.hooks import (
    available_subquery,
    in_stock_condition,
    price_ordered_ids,
    price_resolve_many,
)
from apps.catalog.models import (
    PATH_STEP,
    AttributeDefinition,
    Brand,
    Category,
    Product,
    ProductImage,
)
from apps.catalog.search import search_fold
from apps.core.cache import cache_get_or_build
from apps.core.exceptions import NotFound
from apps.core.text import digits_int

# Cached answers are keyed by the catalog version, so a change shows at once; the timeout only
# bounds how long an entry of an old version lingers in the cache.
CATALOG_CACHE_SECONDS = 3600

# The substring branch needs one whole trigram to use the trigram index.
TRIGRAM_MIN_LENGTH = 3
SEARCH_MAX_TOKENS = 8
# Typo tolerance: words this long keep their first TYPO_PREFIX characters and may differ
# after them, down to this trigram word similarity (pg_trgm's word_similarity, 0..1).
TYPO_MIN_LENGTH = 4
TYPO_PREFIX = 3
TYPO_MIN_SIMILARITY = 0.4


# --- categories and brands --------------------------------------------------------------------


def category_tree() -> list[dict[str, Any]]:
    """The active tree, nested ``{id, name, slug, children}``, siblings by sort order then name.

    One query (ordered by path, so a parent always comes before its children), cached under
    the catalog version: any category change shows at once. A category under an inactive one
    is hidden with it.
    """
    key = catalog_cache_key("tree")
    tree = cache.get(key)
    if tree is None:
        tree = _build_tree(
            Category.objects.visible()
            .order_by("path")
            .values_list("id", "parent_id", "name", "slug", "sort_order")
        )
        cache.set(key, tree, timeout=CATALOG_CACHE_SECONDS)
    return tree


def _build_tree(rows: Iterable[tuple]) -> list[dict[str, Any]]:
    nodes: dict[int, dict[str, Any]] = {}
    order: dict[int, tuple] = {}
    roots: list[dict[str, Any]] = []
    for pk, parent_id, name, slug, sort_order in rows:
        if parent_id is None:
            siblings = roots
        elif parent_id in nodes:
            siblings = nodes[parent_id]["children"]
        else:
            continue  # the parent is inactive (or hidden itself): so is this branch
        node = {"id": pk, "name": name, "slug": slug, "children": []}
        nodes[pk] = node
        order[pk] = (sort_order, name.casefold(), pk)
        siblings.append(node)

    def sort(level: list[dict[str, Any]]) -> None:
        level.sort(key=lambda node: order[node["id"]])
        for node in level:
            sort(node["children"])

    sort(roots)
    return roots


def brand_list() -> list[dict[str, Any]]:
    """Active brands ``{id, name, slug}`` by name; cached under the catalog version."""
    key = catalog_cache_key("brands")
    rows = cache.get(key)
    if rows is None:
        rows = list(
            Brand.objects.filter(is_active=True).order_by("name", "id").values("id", "name", "slug")
        )
        cache.set(key, rows, timeout=CATALOG_CACHE_SECONDS)
    return rows


def category_filterable_attributes(category: Category) -> list[AttributeDefinition]:
    """The filterable attributes of ``category``'s products: those defined on it and on its
    ancestors (a definition covers the sub-categories), one per code, the nearest category's
    first, in sort order (one query)."""
    paths = [category.path[:end] for end in range(PATH_STEP, len(category.path) + 1, PATH_STEP)]
    found: dict[str, AttributeDefinition] = {}
    for definition in AttributeDefinition.objects.filter(
        category__path__in=paths, is_filterable=True
    ).order_by("-category__path", "sort_order", "code"):
        found.setdefault(definition.code, definition)
    return sorted(found.values(), key=lambda d: (d.sort_order, d.name.casefold()))


def category_get_visible(*, ref: str) -> Category | None:
    """A visible category (active, and so is every one above it) by id or slug (one query),
    else None."""
    return _by_id_or_slug(Category.objects.visible(), ref)


def brand_get(*, ref: str) -> Brand | None:
    """A brand by id or slug (one query), else None. Inactive brands are found too: their
    products may still be on sale and carry the brand."""
    return _by_id_or_slug(Brand.objects.all(), ref)


def _by_id_or_slug(queryset: QuerySet, ref: str):
    ref = ref.strip()
    condition = Q(slug=ref)
    pk = digits_int(ref)  # within a bigint
    if pk is not None:
        condition |= Q(pk=pk)
    found = list(queryset.filter(condition)[:2])
    # an id wins over a slug that happens to be the same digits
    found.sort(key=lambda obj: str(obj.pk) != ref)
    return found[0] if found else None


# --- products ---------------------------------------------------------------------------------


# The columns a list page shows (the text columns the list does not show, description and
# search_document, are the widest: they are left in the table).
PRODUCT_LIST_COLUMNS = (
    "id",
    "sku",
    "name",
    "unit",
    "vat_rate",
    "min_order_quantity",
    "order_multiple",
    "attributes",
    "brand__id",
    "brand__name",
    "category__id",
    "category__name",
    "category__slug",
)
PRODUCT_DETAIL_COLUMNS = (*PRODUCT_LIST_COLUMNS, "description", "barcodes", "serial_tracked")


def product_list(*, detail: bool = False) -> QuerySet[Product]:
    """What dealers may see, built for a page: brand and category joined, images prefetched
    (one query per page), available stock annotated (one correlated subquery, no extra
    query), only the columns the list (or with ``detail`` the detail) shows. Ordered by name;
    ``product_order`` changes that."""
    images = ProductImage.objects.order_by("-is_primary", "sort_order", "id")
    return (
        Product.objects.visible()
        .select_related("brand", "category")
        .only(*(PRODUCT_DETAIL_COLUMNS if detail else PRODUCT_LIST_COLUMNS))
        .prefetch_related(Prefetch("images", queryset=images))
        .annotate(available=available_subquery())
        .order_by("name", "id")
    )


def product_get(*, sku: str) -> Product:
    """A visible product by SKU with everything the detail shows, or NotFound (inactive,
    deleted, in an inactive category, or unknown alike)."""
    # as the bodies' text is read: a SKU in an address written decomposed is the product
    product = product_list(detail=True).filter(sku=unicodedata.normalize("NFC", sku)).first()
    if product is None:
        raise NotFound(code="not_found")
    return product


def product_in_categories(queryset: QuerySet[Product], *, category: Category) -> QuerySet:
    """Products of ``category`` and all its sub-categories: the subtree is a subquery on the
    indexed path prefix, so this adds no round trip."""
    subtree = Category.objects.descendants_of(category).values("pk")
    return queryset.filter(category_id__in=subtree)


def product_in_stock(queryset: QuerySet[Product], *, in_stock: bool) -> QuerySet[Product]:
    """Products with (``in_stock``) or without available units (inventory's condition)."""
    return queryset.filter(in_stock_condition(in_stock))


class SearchVectorSimple(Func):
    """``to_tsvector('simple'::regconfig, search_document)``: exactly the expression of the GIN
    index of migration 0002, so PostgreSQL can use it."""

    function = "to_tsvector"
    template = "%(function)s('simple'::regconfig, %(expressions)s)"
    output_field = SearchVectorField()


class TextSearchMatch(Func):
    """``vector @@ query`` as a boolean expression."""

    template = "(%(expressions)s)"
    arg_joiner = " @@ "
    output_field = BooleanField()


class StrictWordSimilarity(Func):
    """pg_trgm's ``strict_word_similarity(term, document)``: 1 when the term is a whole word
    of the document, less for a prefix or a typo."""

    function = "strict_word_similarity"
    output_field = FloatField()


# A tsquery of one lexeme with a space: the ``simple`` parser never makes one, so it matches
# nothing, and the GIN index answers it with one probe (an empty tsquery would log a notice).
NO_MATCH_TSQUERY = RawSQL("'''no match'''::tsquery", [], output_field=SearchQueryField())


class MatchCount(Subquery):
    """``(SELECT count(*) FROM (subquery))``: evaluated once when uncorrelated."""

    template = "(SELECT count(*) FROM (%(subquery)s) _matches)"
    output_field = IntegerField()


def search_tokens(term: str) -> list[str]:
    return re.findall(r"[^\W_]+", search_fold(term))[:SEARCH_MAX_TOKENS]


def prefix_tsquery(tokens: list[str]) -> SearchQuery:
    """``'kablo':* & '3x2':*``: every word, each as a prefix (typing-friendly). Tokens are
    letters and digits only, so nothing in them is tsquery syntax."""
    raw = " & ".join(f"'{token}':*" for token in tokens)
    return SearchQuery(raw, search_type="raw", config="simple")


def product_search(queryset: QuerySet[Product], *, term: str) -> QuerySet[Product]:
    """Products of ``queryset`` whose search document (SKU, name, brand, barcodes, attribute
    values) matches ``term``, annotated with ``search_rank`` (higher is better). Apply it after
    the other filters: the typo fallback looks for word matches within them.

    PostgreSQL, each branch answered by a GIN index of migration 0002:
    - the lower-cased term anywhere in the document (SKU and barcode fragments; trigram index)
      OR every word of it as a word prefix (full text, ``simple`` configuration);
    - typos, only when no word matches as written: each word of 4+ characters keeps its first
      3 characters as a prefix (the full-text index finds the candidates) and must reach a
      trigram word similarity of ``TYPO_MIN_SIMILARITY`` with a word of the document. The
      number of word matches is one uncorrelated subquery, computed once per query; when it is
      not 0 the typo branch asks the index for a word that cannot exist, which costs nothing.
    Ranked: the SKU (the document starts with it), then the term as a whole word, then as part
    of a word, then by trigram similarity (typos, words apart).
    Other databases: a plain substring match.
    """
    term = " ".join(search_fold(term).split())
    if connection.vendor != "postgresql":
        return queryset.filter(search_document__icontains=term).annotate(search_rank=Value(0.0))
    document = F("search_document")
    vector = SearchVectorSimple(document)
    tokens = search_tokens(term)
    words = Q(TextSearchMatch(vector, prefix_tsquery(tokens))) if tokens else None
    condition = Q()
    if len(term) >= TRIGRAM_MIN_LENGTH or words is None:
        # First: a cheap test that settles most rows before to_tsvector runs. The document is
        # stored lower-cased, so a case-sensitive LIKE on the column itself is what the trigram
        # index answers (Django's icontains would wrap the column in UPPER()).
        condition |= Q(search_document__contains=term)
    if words is not None:
        condition |= words
    typo_tokens = [token for token in tokens if len(token) >= TYPO_MIN_LENGTH]
    if typo_tokens:
        stems = [token[:TYPO_PREFIX] if token in typo_tokens else token for token in tokens]
        # A count, not EXISTS: for EXISTS (LIMIT 1) the planner picks a sequential scan hoping
        # for an early hit, which reads the whole table when there is none (a typo).
        word_matches = MatchCount(queryset.filter(words).order_by().values("pk"))
        candidates = Case(
            When(Exact(word_matches, 0), then=prefix_tsquery(stems)),
            default=NO_MATCH_TSQUERY,
            output_field=SearchQueryField(),
        )
        typos = Q(TextSearchMatch(vector, candidates))
        for token in typo_tokens:
            similarity = TrigramWordSimilarity(Value(token), document)
            typos &= Q(GreaterThanOrEqual(similarity, TYPO_MIN_SIMILARITY))
        condition |= typos
    padded = Concat(Value(" "), document, Value(" "), output_field=TextField())
    rank = Case(
        When(StartsWith(document, term), then=Value(4.0)),
        When(Contains(padded, f" {term} "), then=Value(3.0)),
        When(Contains(document, term), then=Value(2.0)),
        default=StrictWordSimilarity(Value(term), document),
        output_field=FloatField(),
    )
    return queryset.filter(condition).annotate(search_rank=rank)


# Orderings dealers may ask for -> the columns (a unique last column keeps pages stable).
# ``price`` and ``-price`` are the dealer's unit price, ordered by pricing (``ProductPages``).
PRODUCT_ORDERINGS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "-created_at": ("-created_at", "-id"),
}
PRICE_ORDERINGS = {"price": False, "-price": True}  # -> descending
KEYSET_ORDERINGS = (None, *PRODUCT_ORDERINGS)  # what ``ProductPages.after`` walks


def product_order(
    queryset: QuerySet[Product], *, ordering: str | None, searched: bool
) -> QuerySet[Product]:
    """The asked ordering; otherwise best search matches first when searching, else by name."""
    if ordering in PRODUCT_ORDERINGS:
        return queryset.order_by(*PRODUCT_ORDERINGS[ordering])
    if searched:
        return queryset.order_by("-search_rank", "name", "id")
    return queryset.order_by("name", "id")


def product_filterable() -> QuerySet[Product]:
    """What the dealer list filters: the visible products, nothing joined or annotated (a page
    is loaded afterwards, ``ProductPages``)."""
    return Product.objects.visible()


class ProductPages:
    """A filtered product list as the paginator sees it: ``count()``, and a slice that returns
    the products of that page loaded for the list (``product_list``).

    A page costs what it shows: its ids come first, from the filtered query alone (ordered on
    an index: name, creation, search rank, or the dealer's price through pricing's price
    index), then only those rows are loaded with brand, category, images and available stock
    (a deferred join)."""

    def __init__(
        self,
        queryset: QuerySet[Product],
        *,
        ordering,
        searched: bool,
        customer,
        count_key: str | None = None,
    ):
        self.queryset = queryset
        self.ordering = ordering or None
        self.searched = searched
        self.customer = customer
        self.count_key = count_key
        self._count: int | None = None

    def count(self) -> int:
        """The number of matches. With a ``count_key`` (what the filters were) it is cached for
        ``CATALOG_COUNT_CACHE_SECONDS``: counting 100,000 rows is what a page would otherwise
        cost most, and a count a few seconds old only moves the last page's edge."""
        if self._count is None:
            key = f"catalog:count:{self.count_key}" if self.count_key else None
            cached = cache.get(key) if key else None
            if cached is None:
                cached = self.queryset.order_by().count()
                if key and settings.CATALOG_COUNT_CACHE_SECONDS > 0:
                    cache.set(key, cached, timeout=settings.CATALOG_COUNT_CACHE_SECONDS)
            self._count = cached
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[Product]:
        if not isinstance(window, slice):
            raise TypeError("ProductPages is read a page (a slice) at a time")
        offset = window.start or 0
        limit = (self.count() if window.stop is None else window.stop) - offset
        if limit <= 0:
            return []
        return self._load(self._ids(offset, limit))

    def _ids(self, offset: int, limit: int) -> list[int]:
        if self.ordering in PRICE_ORDERINGS:
            return price_ordered_ids(
                self.queryset,
                customer=self.customer,
                descending=PRICE_ORDERINGS[self.ordering],
                offset=offset,
                limit=limit,
                # the seek points of a deep page: per filters and dealer (its own prices),
                # cached as long as the count
                seek_key=f"{self.count_key}:{self.customer.pk}" if self.count_key else None,
                seek_seconds=settings.CATALOG_COUNT_CACHE_SECONDS,
            )
        if self.searched and self.ordering and connection.vendor == "postgresql":
            return self._searched_ids(offset, limit)
        ordered = product_order(self.queryset, ordering=self.ordering, searched=self.searched)
        if not self.searched and offset >= SEEK_STEP:
            ordered, offset = self._seek(ordered, offset)
        return list(ordered.values_list("pk", flat=True)[offset : offset + limit])

    def _seek(self, ordered: QuerySet[Product], offset: int) -> tuple[QuerySet[Product], int]:
        """A deep page starts from the nearest seek point before it: ``(ordered rows from that
        row on, the offset left)``, so it reads at most ``SEEK_STEP`` rows more than it shows,
        however deep, and on an index range the planner picks without statistics too (a plain
        ``OFFSET 95000`` is a full sort when the statistics are gone after a bulk load).

        The seek points are the sort keys of every ``SEEK_STEP``-th row of these filters in
        this order, read in one scan and cached as long as the count (``count_key``): the
        pages of one cached count are cut from one cached list, as consistent as the count.
        Without a count key or a cache, and while another worker reads the points (one at a
        time: ``cache_get_or_build``), the plain offset."""
        columns = PRODUCT_ORDERINGS.get(self.ordering or "name")
        if not self.count_key or columns is None or settings.CATALOG_COUNT_CACHE_SECONDS <= 0:
            return ordered, offset
        points = cache_get_or_build(
            f"catalog:seek:{self.count_key}:{self.ordering or 'name'}",
            lambda: _seek_points(self.queryset, columns),
            timeout=settings.CATALOG_COUNT_CACHE_SECONDS,
        )
        if not points:  # another worker is reading them: this page skips its rows as before
            return ordered, offset
        step = min(offset // SEEK_STEP, len(points) - 1)
        if step <= 0:
            return ordered, offset
        return ordered.filter(_from_row(columns, points[step])), offset - step * SEEK_STEP

    def _searched_ids(self, offset: int, limit: int) -> list[int]:
        """A search in another order than relevance: the matches are found first (by the
        search indexes), with their sort columns, and only they are ordered. Joined back to the
        products instead, PostgreSQL may walk the name index evaluating the search on every
        product. ``OFFSET 0`` keeps the planner from folding the matches back in."""
        columns = PRODUCT_ORDERINGS[self.ordering]
        # every sort column under a name of ours: the outer query reads them by name, never
        # by their position in Django's SELECT list
        aliases = {f"sort_{column.lstrip('-')}": F(column.lstrip("-")) for column in columns}
        sql, params = self.queryset.order_by().values(**aliases).query.sql_with_params()
        order = ", ".join(
            f"m.sort_{column.lstrip('-')} {'DESC' if column.startswith('-') else 'ASC'}"
            for column in columns
        )
        with connection.cursor() as cursor:
            cursor.execute(  # Django's own SQL composed; every value is a parameter
                f"SELECT m.sort_id FROM ({sql} OFFSET 0) AS m "  # noqa: S608
                f"ORDER BY {order} OFFSET %s LIMIT %s",
                [*params, offset, limit],
            )
            return [row[0] for row in cursor.fetchall()]

    def after(self, key: tuple | None, limit: int) -> tuple[list[Product], tuple | None]:
        """A keyset page (the ``cursor`` walk): the first ``limit`` products after the row
        whose sort key is ``key`` (None: from the start), loaded for the list, and the sort key
        of the last one when more follow (else None). Each page is an index range however far
        the walk has gone, and no product is skipped or repeated while the list changes. Only
        for the orders of ``KEYSET_ORDERINGS`` without a search."""
        columns = PRODUCT_ORDERINGS[self.ordering or "name"]
        ordered = product_order(self.queryset, ordering=self.ordering, searched=False)
        if key is not None:
            ordered = ordered.filter(_from_row(columns, key, inclusive=False))
        fields = [column.lstrip("-") for column in columns]
        rows = list(ordered.values_list("pk", *fields)[: limit + 1])
        following = tuple(rows[limit - 1][1:]) if len(rows) > limit else None
        return self._load([row[0] for row in rows[:limit]]), following

    @staticmethod
    def _load(ids: list[int]) -> list[Product]:
        if not ids:
            return []
        loaded = {product.pk: product for product in product_list().filter(pk__in=ids)}
        return [loaded[pk] for pk in ids if pk in loaded]


SEEK_STEP = 1000  # rows between two seek points of a deep page (``ProductPages._seek``)


def _seek_points(queryset: QuerySet[Product], columns: tuple[str, ...]) -> list[tuple]:
    """The sort keys (``columns``' values) of rows 0, ``SEEK_STEP``, 2 x ``SEEK_STEP``... of
    ``queryset`` in the order of ``columns``, in one query."""
    fields = [column.lstrip("-") for column in columns]
    order = [F(c[1:]).desc() if c.startswith("-") else F(c).asc() for c in columns]
    # only the sort columns through the window (a narrow sort), the few rows kept put in order
    # here rather than by sorting every numbered row again
    numbered = (
        queryset.order_by()
        .values(*fields)
        .annotate(
            seek_row=Window(RowNumber(), order_by=order),
            seek_step=Mod(F("seek_row") - 1, Value(SEEK_STEP)),
        )
    )
    rows = sorted(numbered.filter(seek_step=0).values_list("seek_row", *fields))
    return [tuple(row[1:]) for row in rows]


def _from_row(columns: tuple[str, ...], point: tuple, *, inclusive: bool = True) -> Q:
    """The rows at (``inclusive``) or after ``point`` in the order of ``columns`` (two of
    them: a sort key and the id that breaks its ties): ``name >= n AND (name > n OR id >= i)``;
    its first part is an index range."""
    (first, tie), (first_value, tie_value) = columns, point
    after = "lt" if first.startswith("-") else "gt"
    tie_after = "lt" if tie.startswith("-") else "gt"
    first, tie = first.lstrip("-"), tie.lstrip("-")
    return Q(**{f"{first}__{after}e": first_value}) & (
        Q(**{f"{first}__{after}": first_value})
        | Q(**{f"{tie}__{tie_after}{'e' if inclusive else ''}": tie_value})
    )


def attach_prices(products: Iterable[Product], customer, *, with_breaks: bool = False) -> None:
    """Give every product of a page its price for ``customer`` at quantity 1 in one call of the
    price engine (a constant number of queries for the whole page): ``price`` is the engine's
    answer (``ResolvedPrice``) or None when not sellable. With ``with_breaks`` also
    ``price_breaks``: what the dealer pays from each of its quantity breaks on (one more engine
    call)."""
    products = list(products)
    results = price_resolve_many(customer=customer, items=[(p, 1) for p in products])
    for product, result in zip(products, results, strict=True):
        product.price = result if result.sellable else None
        if with_breaks:
            product.price_breaks = _price_breaks(product, customer, result.break_quantities)


def _price_breaks(product: Product, customer, quantities) -> list[dict]:
    breaks, previous = [], None
    resolved = price_resolve_many(customer=customer, items=[(product, q) for q in quantities])
    for result in resolved:
        if not result.sellable or result.unit_net == previous:
            continue
        previous = result.unit_net
        breaks.append(
            {
                "min_quantity": result.quantity,
                "unit_net": result.unit_net,
                "source": result.source,
                "campaign": (
                    {"id": result.campaign.id, "name": result.campaign.name}
                    if result.campaign
                    else None
                ),
            }
        )
    return breaks
