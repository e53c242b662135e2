"""Products from the ERP: create or update by SKU, one record or a whole batch, set-based.

A record (its fields already checked, e.g. by the integration API's record schema) is
``{sku, name, category, unit, vat_rate}`` plus, optionally, ``brand``, ``attributes``,
``is_active``, ``serial_tracked``, ``description``, ``min_order_quantity``, ``order_multiple``
and ``barcodes``. An optional field that is absent keeps the product's current value (a new
product takes the default). ``category`` is a path, ``"Parent > Child"``, whose missing levels
are created; ``brand`` is a name, matched case-insensitively and created when new; the
attributes are checked against the definitions of the category and its ancestors.

``product_upsert_many`` answers per record: ``created``, ``updated`` (also a soft-deleted
product brought back), ``unchanged`` (equal to what we hold: nothing is written) or the errors
by field. It reads what it needs in a constant number of queries whatever the batch size and
writes every changed product with one ``COPY`` into a temporary table and one statement,
``INSERT ... ON CONFLICT (sku) DO UPDATE``, through the bulk writer (``apps.core.bulk``: a
deadlock is retried, a row the database refuses fails alone). Bulk SQL sends no signals, so the
entries django-auditlog would have written are saved with its ``LogEntry`` model, from what the
statement returns: every field of a created product, the changed fields of an updated one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from apps.catalog.attributes import validate_attributes
from apps.catalog.cache import catalog_cache_bump
from apps.catalog.events import product_updated_emit
from apps.catalog.hooks import products_written, serial_tracking_refusals
from apps.catalog.models import PATH_STEP, AttributeDefinition, Brand, Category, Product
from apps.catalog.names import name_in, name_key
from apps.catalog.search import build_search_document
from apps.catalog.services.categories import category_get_or_create_path, split_category_path
from apps.core.bulk import AuditEntry, analyze_stale, audit_log_many, write_isolating
from apps.core.exceptions import ValidationError
from apps.core.text import check_text

Errors = dict[str, list[str]]

DEFAULTS: dict[str, Any] = {
    "brand": None,
    "description": "",
    "min_order_quantity": 1,
    "order_multiple": 1,
    "barcodes": [],
    "attributes": {},
    "is_active": True,
    "serial_tracked": False,
}

# the columns the feed writes, in this order everywhere (COPY, comparison, audit)
COLUMNS = (
    "sku",
    "name",
    "description",
    "brand_id",
    "category_id",
    "unit",
    "vat_rate",
    "min_order_quantity",
    "order_multiple",
    "barcodes",
    "attributes",
    "is_active",
    "serial_tracked",
    "search_document",
)
JSON_COLUMNS = frozenset({"barcodes", "attributes"})
JSON_POSITIONS = tuple(n for n, c in enumerate(COLUMNS) if c in JSON_COLUMNS)
(
    _DESCRIPTION,
    _BRAND,
    _CATEGORY,
    _MIN_ORDER_QUANTITY,
    _ORDER_MULTIPLE,
    _BARCODES,
    _ATTRIBUTES,
    _IS_ACTIVE,
    _SERIAL_TRACKED,
) = (
    COLUMNS.index(c)
    for c in (
        "description",
        "brand_id",
        "category_id",
        "min_order_quantity",
        "order_multiple",
        "barcodes",
        "attributes",
        "is_active",
        "serial_tracked",
    )
)
# a new product's values for the fields a record leaves out
_DEFAULT_ROW = tuple(DEFAULTS.get(c.removesuffix("_id")) for c in COLUMNS)
# django-auditlog's names for them (foreign keys without ``_id``); search_document is excluded
_AUDITED_POSITIONS = tuple(
    (n, c.removesuffix("_id")) for n, c in enumerate(COLUMNS) if c != "search_document"
)

# attribute numbers beyond this are refused before they are turned into Python numbers
MAX_ATTRIBUTE_EXPONENT = 30


@dataclass(frozen=True)
class _Existing:
    id: int
    is_deleted: bool
    brand_name: str | None
    values: tuple  # in COLUMNS order


@dataclass(frozen=True)
class _Row:
    index: int
    values: tuple  # in COLUMNS order
    existing: _Existing | None


def product_upsert(*, record: Mapping[str, Any]) -> tuple[Product, str]:
    """One product: ``(product, "created" | "updated" | "unchanged")`` or ValidationError."""
    outcomes, errors = product_upsert_many(records={0: record})
    if errors:
        raise ValidationError(errors[0])
    return Product.objects.get(sku=record["sku"]), outcomes[0]


def product_upsert_many(
    *,
    records: Mapping[int, Mapping[str, Any]],
    batch_id: int | None = None,
    remote_addr: str | None = None,
) -> tuple[dict[int, str], dict[int, Errors]]:
    """Create or update products by SKU: ``({index: outcome}, {index: errors})``.

    Each SKU may appear once in ``records`` (the caller refuses repeats). ``batch_id`` and
    ``remote_addr`` go into the audit-log entries.
    """
    with _feed_running():
        return _upsert_many(records=records, batch_id=batch_id, remote_addr=remote_addr)


# Every products batch holds this session advisory lock shared from the lookup of its
# categories and brands to the commit of its products; a batch drops what it created for its
# failed records only when it can hold it alone (no other batch may have found them).
# Django's foreign keys are checked at commit: a row lock cannot protect a category another
# batch is about to fill.
_FEED_LOCK = 0x70726F64  # "prod"


@contextmanager
def _feed_running():
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock_shared(%s)", [_FEED_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_shared(%s)", [_FEED_LOCK])


def _alone() -> bool:
    """Whether no other products batch is running: this one's shared hold traded for the
    lock alone (given back by ``_alone_end``); False leaves this one without a hold."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock_shared(%s)", [_FEED_LOCK])
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_FEED_LOCK])
        alone = cursor.fetchone()[0]
        if not alone:
            cursor.execute("SELECT pg_advisory_lock_shared(%s)", [_FEED_LOCK])
    return alone


def _alone_end() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [_FEED_LOCK])
        cursor.execute("SELECT pg_advisory_lock_shared(%s)", [_FEED_LOCK])


def _upsert_many(
    *, records: Mapping[int, Mapping[str, Any]], batch_id: int | None, remote_addr: str | None
) -> tuple[dict[int, str], dict[int, Errors]]:
    errors: dict[int, Errors] = {}
    categories, categories_created = _resolve_categories(records, errors)
    brands, brands_created = _resolve_brands(records, errors)
    existing = _existing_products([r["sku"] for i, r in records.items() if i not in errors])
    definitions = _definitions_by_category(set(categories.values()))

    outcomes: dict[int, str] = {}
    rows: list[_Row] = []
    for index, record in records.items():
        if index in errors:
            continue
        row, row_errors = _build_row(
            index, record, existing.get(record["sku"]), categories, brands, definitions
        )
        if row_errors:
            errors[index] = row_errors
        elif row is None:
            outcomes[index] = "unchanged"
        else:
            rows.append(row)

    if rows:
        written, failed = write_isolating(
            rows,
            lambda part: _write(part, batch_id=batch_id, remote_addr=remote_addr),
            index_of=_index_of,
        )
        outcomes.update(written)
        errors.update(failed)
        analyze_stale((Product,), written=sum(o != "unchanged" for o in written.values()))
    if categories_created or brands_created:
        if connection.vendor != "postgresql":
            _unused_drop(categories_created, brands_created)
        elif _alone():
            try:
                _unused_drop(categories_created, brands_created)
            finally:
                _alone_end()
        catalog_cache_bump()
    return outcomes, errors


def _unused_drop(category_ids: list[int], brand_ids: list[int]) -> None:
    """The categories and brands this batch created for records that then failed (an unknown
    attribute, a refused serial-tracking change...) go again: a refused record changes
    nothing, and dealers saw the empty category. Leaves first, level by level; only while no
    other products batch runs (``_alone``), which might have found them; otherwise they stay
    (a later batch may use them)."""
    for model, ids in ((Brand, brand_ids), (Category, category_ids)):
        left = set(ids)
        while left:
            unused = model.objects.filter(pk__in=left).exclude(
                Exists(Product.all_objects.filter(**{model._meta.model_name: OuterRef("pk")}))
            )
            if model is Category:
                unused = unused.exclude(Exists(Category.objects.filter(parent=OuterRef("pk"))))
            dropped = [row for row in unused if _drop_if_unused(model, row)]
            if not dropped:
                break
            left -= {row.pk for row in dropped}


def _drop_if_unused(model, row) -> bool:
    """Delete ``row``; one the database still finds in use (a product's category, protected)
    stays. No other products batch runs meanwhile (``_alone``): the query that chose it has
    already asked what uses it."""
    try:
        with transaction.atomic():
            row.delete()
            return True
    except (IntegrityError, ProtectedError, RestrictedError):
        return False


# --- reading what the batch refers to ---------------------------------------------------------


def _resolve_categories(
    records: Mapping[int, Mapping[str, Any]], errors: dict[int, Errors]
) -> tuple[dict[str, Category], list[int]]:
    """``{path text: leaf category}`` for every valid path, creating missing levels (and the
    ids of those created). One query finds every existing level; only paths with a missing
    level cost more."""
    parsed: dict[str, list[str]] = {}
    bad: dict[str, Errors] = {}
    for record in records.values():
        text = record["category"]
        if text in parsed or text in bad:
            continue
        try:
            parsed[text] = split_category_path(text)
        except ValidationError as exc:
            bad[text] = exc.errors

    # names compare regardless of case (``apps.catalog.names``: Işık = IŞIK, İnce = ince)
    names = {name for levels in parsed.values() for name in levels}
    nodes: dict[tuple[int | None, str], Category] = {}
    found = (
        Category.objects.filter(name_in(names))
        .only("id", "parent_id", "name", "path", "depth")
        .order_by("path")
    )
    for node in found:
        nodes.setdefault((node.parent_id, name_key(node.name)), node)

    resolved: dict[str, Category] = {}
    created: list[int] = []
    for text, levels in parsed.items():
        parent: Category | None = None
        for name in levels:
            parent = nodes.get((parent.pk if parent else None, name_key(name)))
            if parent is None:
                break
        if parent is None:
            try:
                parent = category_get_or_create_path(text, created=created)
            except ValidationError as exc:
                bad[text] = exc.errors
                continue
            except (Category.DoesNotExist, DatabaseError):  # lost a race for a new level
                bad[text] = {"category": [_("The category could not be created; send it again.")]}
                continue
        resolved[text] = parent

    for index, record in records.items():
        if record["category"] in bad:
            errors[index] = dict(bad[record["category"]])
    return resolved, created


def _resolve_brands(
    records: Mapping[int, Mapping[str, Any]], errors: dict[int, Errors]
) -> tuple[dict[str, Brand], list[int]]:
    """``{name_key(name): brand}`` for every brand the records name (matched regardless of
    case: Işık = IŞIK = ışık, İnce = ince), creating new ones, named as first spelled (and
    their ids)."""
    spelling: dict[str, str] = {}
    for index, record in records.items():
        name = record.get("brand")
        if name and index not in errors:
            spelling.setdefault(name_key(name), name)
    if not spelling:
        return {}, []

    def load(names: list[str]) -> dict[str, Brand]:
        found = Brand.objects.filter(name_in(names))
        return {name_key(brand.name): brand for brand in found.only("id", "name")}

    brands = load(list(spelling.values()))
    missing = [name for key, name in spelling.items() if key not in brands]
    if not missing:
        return brands, []

    # one by one (new brands are few), so django-auditlog records each
    taken = set(Brand.objects.values_list("slug", flat=True))
    created: list[int] = []
    for name in missing:
        slug = _unique_slug(name, taken)
        taken.add(slug)
        try:
            with transaction.atomic():
                created.append(Brand.objects.create(name=name, slug=slug).pk)
        except IntegrityError:  # made by a concurrent batch meanwhile: looked up below
            pass
    brands.update(load(missing))
    for index, record in records.items():
        name = record.get("brand")
        if name and name_key(name) not in brands and index not in errors:
            errors[index] = {"brand": [_("The brand could not be created; send it again.")]}
    return brands, created


def _unique_slug(name: str, taken: set[str]) -> str:
    base = (slugify(name.replace("ı", "i").replace("İ", "I")) or "brand")[:170]
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _existing_products(skus: Sequence[str]) -> dict[str, _Existing]:
    """Every product with one of these SKUs, soft-deleted ones too (an upsert revives them).
    One query with the SKUs as one array parameter (an ``IN`` of thousands of parameters
    costs more to build and plan than to run)."""
    if not skus:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_EXISTING, [list(skus)])
        found = cursor.fetchall()
    existing = {}
    for pk, deleted, brand, *values in found:
        for position in JSON_POSITIONS:  # Django reads jsonb as text
            if isinstance(values[position], str):
                values[position] = json.loads(values[position])
        existing[values[0]] = _Existing(
            id=pk, is_deleted=deleted, brand_name=brand, values=tuple(values)
        )
    return existing


def _definitions_by_category(
    categories: set[Category],
) -> dict[int, list[AttributeDefinition]]:
    """``definitions_for`` of each category (its own and its ancestors' definitions), for
    all of them in one query."""
    prefixes = {
        category.path[:end]
        for category in categories
        for end in range(PATH_STEP, len(category.path) + 1, PATH_STEP)
    }
    if not prefixes:
        return {}
    found = list(
        AttributeDefinition.objects.filter(category__path__in=prefixes)
        .annotate(category_path=F("category__path"))
        .order_by("sort_order", "code")
    )
    return {
        category.pk: [d for d in found if category.path.startswith(d.category_path)]
        for category in categories
    }


# --- one record -------------------------------------------------------------------------------


def _build_row(
    index: int,
    record: Mapping[str, Any],
    existing: _Existing | None,
    categories: Mapping[str, Category],
    brands: Mapping[str, Brand],
    definitions: Mapping[int, list[AttributeDefinition]],
) -> tuple[_Row | None, Errors]:
    """The product row the record asks for; ``None`` when it equals the stored one. Fields
    the record leaves out keep the stored value (a new product: the default)."""
    base = existing.values if existing is not None else _DEFAULT_ROW
    get = record.get
    category_id = categories[record["category"]].id

    if "brand" in record or existing is None:
        brand = brands[name_key(record["brand"])] if get("brand") else None
        brand_id, brand_name = (brand.id, brand.name) if brand else (None, None)
    else:
        brand_id, brand_name = base[_BRAND], existing.brand_name

    attributes = get("attributes", base[_ATTRIBUTES])
    if "attributes" in record or existing is None or base[_CATEGORY] != category_id:
        attributes, attribute_errors = _clean_attributes(
            definitions.get(category_id, []), attributes
        )
        if attribute_errors:
            return None, attribute_errors

    barcodes = get("barcodes", base[_BARCODES])
    if len(barcodes) > 1:
        barcodes = list(dict.fromkeys(barcodes))  # a repeated code once, the order kept
    sku, name = record["sku"], record["name"]
    values = (
        sku,
        name,
        get("description", base[_DESCRIPTION]),
        brand_id,
        category_id,
        record["unit"],
        record["vat_rate"],
        get("min_order_quantity", base[_MIN_ORDER_QUANTITY]),
        get("order_multiple", base[_ORDER_MULTIPLE]),
        barcodes,
        attributes,
        get("is_active", base[_IS_ACTIVE]),
        get("serial_tracked", base[_SERIAL_TRACKED]),
        build_search_document(
            sku=sku, name=name, brand_name=brand_name, barcodes=barcodes, attributes=attributes
        ),
    )
    if existing is not None and not existing.is_deleted and values == base:
        return None, {}
    return _Row(index=index, values=values, existing=existing), {}


def _tracking_changes(row: _Row) -> bool:
    """Does the row change the serial tracking of a stored product (as it was read)?"""
    return row.existing is not None and (
        row.existing.values[_SERIAL_TRACKED] != row.values[_SERIAL_TRACKED]
    )


def _serial_tracking_refused(rows: Sequence[_Row]) -> dict[int, Errors]:
    """The errors of the rows changing the serial tracking of a product that something hangs
    on (its stock, sales that can come back: ``serial_tracking_refusals``, which locks those
    products for the rest of the write's transaction)."""
    changing = {row.existing.id: row for row in rows if _tracking_changes(row)}
    if not changing:
        return {}
    wanted = {pk: row.values[_SERIAL_TRACKED] for pk, row in changing.items()}
    return {
        changing[pk].index: {"serial_tracked": [why]}
        for pk, why in serial_tracking_refusals(wanted).items()
    }


def _clean_attributes(
    definitions: list[AttributeDefinition], attributes: Any
) -> tuple[dict[str, Any], Errors]:
    errors: Errors = {}
    if isinstance(attributes, dict):
        # a text like "1E+999999" would become a number with a million digits
        kinds = {d.code: d.type for d in definitions}
        for code, raw in attributes.items():
            if kinds.get(code) == AttributeDefinition.Type.NUMBER and isinstance(raw, str):
                try:
                    too_big = abs(Decimal(raw).adjusted()) > MAX_ATTRIBUTE_EXPONENT
                except (InvalidOperation, ValueError):
                    continue  # validate_attributes says what is wrong
                if too_big:
                    errors[f"attributes.{code}"] = [_("Must be a number.")]
    if errors:
        return {}, errors
    cleaned, errors = validate_attributes(definitions, attributes)
    for code, clean in cleaned.items():
        if isinstance(clean, str):
            try:
                check_text(clean)
            except ValueError as exc:
                errors[f"attributes.{code}"] = [str(exc)]
    return cleaned, errors


# --- writing ----------------------------------------------------------------------------------

_TABLE = Product._meta.db_table
_EXISTING = (
    f"SELECT p.id, p.is_deleted, b.name, {', '.join('p.' + c for c in COLUMNS)} "  # noqa: S608
    f"FROM {_TABLE} p LEFT JOIN {Brand._meta.db_table} b ON b.id = p.brand_id "
    "WHERE p.sku = ANY(%s)"
)
_COLUMN_LIST = ", ".join(COLUMNS)
_UPDATE_SET = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[1:])
_CREATE_TEMP = (
    f"CREATE TEMP TABLE feed_product_in ON COMMIT DROP AS "  # noqa: S608 (constants only)
    f"SELECT {_COLUMN_LIST} FROM {_TABLE} WITH NO DATA"
)
# One statement: the upsert, answering the id of every row it wrote and whether it was new.
_UPSERT = (
    f"INSERT INTO {_TABLE} ({_COLUMN_LIST}, is_deleted, deleted_at, created_at, updated_at, "  # noqa: S608
    f"created_by_id, updated_by_id) "
    f"SELECT {_COLUMN_LIST}, false, NULL, %s, %s, NULL, NULL FROM feed_product_in ORDER BY sku "
    f"ON CONFLICT (sku) DO UPDATE SET {_UPDATE_SET}, is_deleted = false, deleted_at = NULL, "
    f"updated_at = EXCLUDED.updated_at, updated_by_id = NULL "
    # a row equal to what is stored now is left alone: a concurrent batch (the connector's
    # retry) may have written the same product since it was read
    f"WHERE ({', '.join(f'{_TABLE}.{c}' for c in COLUMNS[1:])}, {_TABLE}.is_deleted) "
    f"IS DISTINCT FROM ({', '.join(f'EXCLUDED.{c}' for c in COLUMNS[1:])}, false) "
    # a serial tracking change only where the guard allowed it (the skus given): a product
    # whose tracking a staff edit changed after this batch read it is left alone (and locked)
    f"AND ({_TABLE}.serial_tracked = EXCLUDED.serial_tracked OR EXCLUDED.sku = ANY(%s)) "
    f"RETURNING id, sku, (xmax = 0) AS inserted"
)
# The batch's products whose stored tracking is not the batch's: those the upsert left alone.
_TRACKING_MOVED = (
    f"SELECT p.id, p.sku, f.serial_tracked FROM {_TABLE} p "  # noqa: S608
    "JOIN feed_product_in f ON f.sku = p.sku WHERE p.serial_tracked <> f.serial_tracked"
)


def _write(
    rows: Sequence[_Row], *, batch_id: int | None, remote_addr: str | None
) -> tuple[dict[int, str], dict]:
    """Upsert ``rows`` and their audit entries in one transaction: ``({index: outcome},
    {index: errors})``, the errors those of serial tracking changes refused."""
    now = timezone.now()
    by_sku: dict[str, _Row] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        refused = _serial_tracking_refused(rows)
        rows = [row for row in rows if row.index not in refused]
        if not rows:
            return {}, refused
        cursor.execute(_CREATE_TEMP)
        copy_sql = f"COPY feed_product_in ({_COLUMN_LIST}) FROM STDIN"
        texts: dict[str, list] = {}  # the rows as copied: JSON columns as JSON text
        with cursor.copy(copy_sql) as copy:
            for row in rows:
                values = list(row.values)
                for position in JSON_POSITIONS:
                    values[position] = json.dumps(values[position])
                copy.write_row(values)
                by_sku[values[0]] = row
                texts[values[0]] = values
        checked = [row.values[0] for row in rows if _tracking_changes(row)]
        cursor.execute(_UPSERT, [now, now, checked])
        returned = cursor.fetchall()
        late = _tracking_moved(cursor)
        refused.update({by_sku[sku].index: errors for sku, errors in late.refused.items()})
        if late.allowed:
            source = "FROM feed_product_in WHERE sku = ANY(%s)"
            cursor.execute(
                _UPSERT.replace("FROM feed_product_in", source),
                [now, now, late.allowed, late.allowed],
            )
            returned += cursor.fetchall()
        cursor.execute("DROP TABLE feed_product_in")
        # what derives from the products (the price index: names, categories, brands)
        products_written(pk for pk, _sku, _inserted in returned)
        audit_log_many(
            model=Product,
            entries=[
                AuditEntry(
                    pk=pk,
                    repr=f"{sku} {by_sku[sku].values[1]}",  # the model's __str__
                    created=inserted,
                    changes=_changes(
                        by_sku[sku], texts[sku], created=inserted, tracking=late.stored.get(sku)
                    ),
                )
                for pk, sku, inserted in returned
            ],
            timestamp=now,
            remote_addr=remote_addr,
            batch_id=batch_id,
        )
        # one product.updated for the batch, in its transaction
        product_updated_emit(
            products=[
                {
                    "sku": sku,
                    "name": by_sku[sku].values[1],
                    "is_active": by_sku[sku].values[_IS_ACTIVE],
                    "change": "created" if inserted else "updated",
                }
                for _pk, sku, inserted in returned
            ],
            source="erp",
            reference=f"batch:{batch_id}" if batch_id is not None else "",
        )
    # equal to what is stored by now, but those refused on a late look at their tracking
    outcomes = {row.index: "unchanged" for row in rows if row.index not in refused}
    outcomes.update(
        {by_sku[sku].index: "created" if inserted else "updated" for _pk, sku, inserted in returned}
    )
    return outcomes, refused


@dataclass(frozen=True)
class _Late:
    """The batch's products whose serial tracking a staff edit changed after the batch read
    them, judged now that the upsert holds their rows: refused (by sku, the guard's errors) or
    allowed (to write), and the tracking stored (by sku, for the audit entry)."""

    refused: dict[str, Errors]
    allowed: list[str]
    stored: dict[str, bool]


def _tracking_moved(cursor) -> _Late:
    cursor.execute(_TRACKING_MOVED)
    moved = cursor.fetchall()
    if not moved:
        return _Late(refused={}, allowed=[], stored={})
    refusals = serial_tracking_refusals({pk: wanted for pk, _sku, wanted in moved})
    return _Late(
        refused={
            sku: {"serial_tracked": [refusals[pk]]} for pk, sku, _w in moved if pk in refusals
        },
        allowed=[sku for pk, sku, _w in moved if pk not in refusals],
        stored={sku: not wanted for _pk, sku, wanted in moved},
    )


def _changes(
    row: _Row, texts: list, *, created: bool, tracking: bool | None = None
) -> dict[str, list[str]]:
    """What the write changed, as django-auditlog records it: ``{field: [old, new]}`` as text
    (``texts``: the row as copied, JSON columns already as JSON text); a created product:
    every field, from ``"None"``. ``tracking``: the serial tracking stored when the write came,
    where a staff edit changed it after the batch read the product."""
    if created or row.existing is None:
        return {name: ["None", str(texts[position])] for position, name in _AUDITED_POSITIONS}
    old = row.existing.values
    if tracking is not None:
        old = (*old[:_SERIAL_TRACKED], tracking, *old[_SERIAL_TRACKED + 1 :])
    changes = {}
    for position, name in _AUDITED_POSITIONS:
        if old[position] != row.values[position]:
            before = old[position]
            if position in JSON_POSITIONS:
                before = json.dumps(before)
            changes[name] = [str(before), str(texts[position])]
    if row.existing.is_deleted:
        changes["is_deleted"] = ["True", "False"]
    return changes


def _index_of(row: _Row) -> int:
    return row.index
