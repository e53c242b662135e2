"""Demo data of the catalog: a three-level category tree with attribute definitions, about 30
brands, ``--products N`` products and their stock in two warehouses (IST, ANK).

These are steps of ``seed_demo`` (``STEPS``: name, seed, reset). Products have stable SKUs
(``DEMO-000001`` ...) and product *i* is always the same product (its name, attributes,
barcodes and stock come from a random generator seeded with *i*), so a rerun adds only the
missing ones and a larger ``--products`` extends the catalog. Products, stock levels, receipt
movements and serial numbers are written in chunks of 2,000 rows, with PostgreSQL's COPY (and
``bulk_create`` on other databases): never one ``save()`` per product. ``reset`` deletes the
demo products with their stock, movements and images, and the demo categories, brands and
warehouses nothing else uses.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate

from auditlog.context import disable_auditlog
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import CommandError
from django.db import connection, models
from django.db.models import Count, ProtectedError, Q, RestrictedError
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, ImageDraw, ImageFont
from psycopg.types.json import Jsonb
from tqdm import tqdm

from apps.catalog.cache import catalog_cache_bump
from apps.catalog.images import product_image_create
from apps.catalog.models import AttributeDefinition, Brand, Category, Product, ProductImage, Unit
from apps.catalog.search import build_search_document
from apps.catalog.services.categories import category_create
from apps.inventory.models import SerialNumber, StockLevel, StockMovement, Warehouse

SKU_PREFIX = "DEMO-"
SKU_RE = r"^DEMO-[0-9]{6}$"
MAX_PRODUCTS = 999_999
CHUNK = 2000
STOCK_REFERENCE = "demo"
T = AttributeDefinition.Type


def demo_sku(number: int) -> str:
    return f"{SKU_PREFIX}{number:06d}"


# --- the catalog's shape ----------------------------------------------------------------------


@dataclass(frozen=True)
class Attr:
    code: str
    name: str
    type: str
    unit: str = ""
    choices: tuple = ()
    filterable: bool = False
    required: bool = False


@dataclass(frozen=True)
class Leaf:
    path: tuple[str, str, str]
    noun: str
    template: str  # product name after the brand: "{noun} {size} {power_w}W"
    pools: dict  # attribute code -> values to draw from (choices/booleans default to all)
    brands: tuple[int, ...]  # positions in BRANDS
    attrs: tuple[Attr, ...] = ()
    unit: str = Unit.PIECE
    weight: int = 1
    serial_tracked: bool = False
    min_order: int = 1
    multiple: int = 1


# (name, code used in model numbers); fictional brands
BRANDS = [
    ("Anka Elektrik", "AE"),
    ("Boğaziçi Kablo", "BK"),
    ("Yıldız Aydınlatma", "YA"),
    ("Ege Işık", "EI"),
    ("Marmara Tesisat", "MT"),
    ("Toros Vana", "TV"),
    ("Kapadokya Hırdavat", "KH"),
    ("Başkent Enerji", "BE"),
    ("Akdeniz Plastik", "AP"),
    ("Karadeniz Boru", "KB"),
    ("Volta Teknik", "VT"),
    ("Lumina Pro", "LP"),
    ("Nova Led", "NL"),
    ("Delta Switch", "DS"),
    ("Atlas Tools", "AT"),
    ("Titan Power", "TP"),
    ("Orion Lighting", "OL"),
    ("Polar Klima", "PK"),
    ("Sigma Electric", "SE"),
    ("Kuzey Isı", "KI"),
    ("Meltem Fan", "MF"),
    ("Zirve Yapı", "ZY"),
    ("Efes Armatür", "EA"),
    ("Galata Kablo", "GK"),
    ("Sardes Elektrik", "SD"),
    ("Truva Alet", "TA"),
    ("Pamukkale Boru", "PB"),
    ("Likya Led", "LL"),
    ("Hitit Şalt", "HS"),
    ("Nemrut Isıtma", "NI"),
]

IP = ("IP20", "IP44", "IP54", "IP65", "IP67")
COLOR_TEMPERATURE = ("2700K", "3000K", "4000K", "6500K")
COLORS = ("white", "black", "grey", "cream", "anthracite")

TOP_ATTRS: dict[str, tuple[Attr, ...]] = {
    "Electrical": (Attr("color", "Color", T.CHOICE, choices=COLORS, filterable=True),),
    "Lighting": (
        Attr("power_w", "Power", T.NUMBER, "W", filterable=True, required=True),
        Attr("ip_rating", "IP rating", T.CHOICE, choices=IP, filterable=True),
        Attr("color_temperature", "Color temperature", T.CHOICE, choices=COLOR_TEMPERATURE),
        Attr("dimmable", "Dimmable", T.BOOLEAN, filterable=True),
    ),
    "Plumbing": (
        Attr("diameter_mm", "Diameter", T.NUMBER, "mm", filterable=True),
        Attr("material", "Material", T.CHOICE, choices=("PPR", "PVC", "brass", "PE")),
    ),
    "Tools": (
        Attr("power_w", "Power", T.NUMBER, "W", filterable=True),
        Attr("voltage", "Voltage", T.CHOICE, choices=("12V", "18V", "230V"), filterable=True),
    ),
    "Heating & Ventilation": (Attr("power_w", "Power", T.NUMBER, "W", filterable=True),),
}

LEAVES: tuple[Leaf, ...] = (
    Leaf(
        ("Electrical", "Cables", "Power cables"),
        "Power Cable",
        "{cable_type} {noun} {cross_section} {color}",
        {"color": ["grey", "black", "white"]},
        (1, 23, 7, 24),
        (
            Attr(
                "cross_section",
                "Cross-section",
                T.CHOICE,
                choices=("3x1.5 mm²", "3x2.5 mm²", "3x4 mm²", "5x2.5 mm²", "5x6 mm²"),
                filterable=True,
            ),
            Attr("cable_type", "Cable type", T.CHOICE, choices=("NYM", "NYY", "H05VV-F", "TTR")),
        ),
        unit=Unit.METER,
        weight=3,
        min_order=100,
        multiple=50,
    ),
    Leaf(
        ("Electrical", "Cables", "Data cables"),
        "Data Cable",
        "{cable_category} U/UTP {noun} {length_m} m",
        {"length_m": [100, 305, 500], "color": ["grey", "white"]},
        (1, 23, 18),
        (
            Attr("cable_category", "Category", T.CHOICE, choices=("Cat5e", "Cat6", "Cat6A")),
            Attr("length_m", "Length", T.NUMBER, "m", filterable=True),
        ),
        unit=Unit.BOX,
        weight=2,
    ),
    Leaf(
        ("Electrical", "Switches & sockets", "Switches"),
        "Switch",
        "{mechanism} {noun} {color} {ip_rating}",
        {"ip_rating": ["IP20", "IP20", "IP44", "IP54"]},
        (0, 13, 18, 24),
        (
            Attr("ip_rating", "IP rating", T.CHOICE, choices=IP, filterable=True),
            Attr("mechanism", "Mechanism", T.CHOICE, choices=("One-way", "Two-way", "Double")),
        ),
        weight=3,
        multiple=10,
        min_order=10,
    ),
    Leaf(
        ("Electrical", "Switches & sockets", "Sockets"),
        "Schuko Socket",
        "{gangs}-gang {noun} {color}",
        {"gangs": [1, 2, 3]},
        (0, 13, 18, 24),
        (Attr("gangs", "Gangs", T.NUMBER),),
        weight=3,
        multiple=10,
        min_order=10,
    ),
    Leaf(
        ("Electrical", "Circuit protection", "Circuit breakers"),
        "Circuit Breaker",
        "{noun} {poles} C{rated_current_a} {breaking_capacity}",
        {"rated_current_a": [6, 10, 16, 20, 25, 32, 40, 63], "color": ["white"]},
        (7, 28, 18),
        (
            Attr("rated_current_a", "Rated current", T.NUMBER, "A", filterable=True),
            Attr("poles", "Poles", T.CHOICE, choices=("1P", "1P+N", "3P", "3P+N")),
            Attr("breaking_capacity", "Breaking capacity", T.CHOICE, choices=("4.5kA", "6kA")),
        ),
        weight=2,
        multiple=12,
        min_order=12,
    ),
    Leaf(
        ("Electrical", "Circuit protection", "Residual current devices"),
        "RCD",
        "{noun} {poles} {rated_current_a}A {sensitivity_ma}mA",
        {"rated_current_a": [25, 40, 63], "color": ["white"]},
        (7, 28, 18),
        (
            Attr("rated_current_a", "Rated current", T.NUMBER, "A", filterable=True),
            Attr("poles", "Poles", T.CHOICE, choices=("2P", "4P")),
            Attr("sensitivity_ma", "Sensitivity", T.CHOICE, "mA", choices=(30, 300)),
        ),
    ),
    Leaf(
        ("Lighting", "LED", "Panels"),
        "LED Panel",
        "{noun} {size} {power_w}W {color_temperature} {dimmable}",
        {"power_w": [18, 24, 36, 40, 48], "ip_rating": ["IP20", "IP44"]},
        (2, 3, 11, 12, 16, 27),
        (Attr("size", "Size", T.CHOICE, "cm", choices=("30x30", "60x60", "30x120")),),
        weight=4,
    ),
    Leaf(
        ("Lighting", "LED", "Bulbs"),
        "LED Bulb",
        "{noun} {socket} {power_w}W {color_temperature} {dimmable}",
        {"power_w": [5, 7, 9, 12, 15], "ip_rating": ["IP20"]},
        (2, 3, 11, 12, 16, 27),
        (
            Attr(
                "socket", "Socket", T.CHOICE, choices=("E27", "E14", "GU10", "B22"), filterable=True
            ),
        ),
        weight=4,
        multiple=10,
        min_order=10,
    ),
    Leaf(
        ("Lighting", "LED", "Strips"),
        "LED Strip",
        "{noun} {length_m} m {power_w}W/m {color_temperature} {ip_rating}",
        {"power_w": [5, 9, 14, 18], "length_m": [5, 10, 25, 50], "ip_rating": ["IP20", "IP65"]},
        (11, 12, 27, 16),
        (Attr("length_m", "Length", T.NUMBER, "m", filterable=True),),
        weight=2,
    ),
    Leaf(
        ("Lighting", "Outdoor", "Floodlights"),
        "LED Floodlight",
        "{noun} {power_w}W {color_temperature} {ip_rating}",
        {
            "power_w": [10, 20, 30, 50, 100, 150, 200],
            "ip_rating": ["IP65", "IP67"],
            "beam_angle": [60, 90, 120],
        },
        (2, 16, 11, 27),
        (Attr("beam_angle", "Beam angle", T.NUMBER, "°"),),
        weight=2,
    ),
    Leaf(
        ("Lighting", "Outdoor", "Wall lights"),
        "Outdoor Wall Light",
        "{noun} {power_w}W {housing_color} {ip_rating}",
        {"power_w": [6, 10, 12, 15], "ip_rating": ["IP44", "IP54", "IP65"]},
        (2, 3, 16),
        (
            Attr(
                "housing_color", "Housing color", T.CHOICE, choices=("black", "white", "anthracite")
            ),
        ),
    ),
    Leaf(
        ("Plumbing", "Pipes", "PPR pipes"),
        "PPR Pipe",
        "{noun} Ø{diameter_mm} {pressure} {length_m} m",
        {"diameter_mm": [20, 25, 32, 40, 50, 63], "material": ["PPR"], "length_m": [4]},
        (8, 9, 26, 4),
        (
            Attr("pressure", "Pressure class", T.CHOICE, choices=("PN10", "PN16", "PN20", "PN25")),
            Attr("length_m", "Length", T.NUMBER, "m", filterable=True),
        ),
        weight=3,
        multiple=10,
        min_order=10,
    ),
    Leaf(
        ("Plumbing", "Pipes", "PVC drain pipes"),
        "PVC Drain Pipe",
        "{noun} Ø{diameter_mm} {length_m} m",
        {"diameter_mm": [50, 75, 100, 110, 125], "material": ["PVC"], "length_m": [0.5, 1, 2, 3]},
        (8, 9, 26),
        (Attr("length_m", "Length", T.NUMBER, "m", filterable=True),),
        weight=2,
    ),
    Leaf(
        ("Plumbing", "Fittings", "PPR fittings"),
        "PPR",
        "{noun} {fitting_type} Ø{diameter_mm}",
        {"diameter_mm": [20, 25, 32, 40], "material": ["PPR"]},
        (8, 9, 26, 22),
        (
            Attr(
                "fitting_type",
                "Fitting",
                T.CHOICE,
                choices=("Elbow 90°", "Elbow 45°", "Tee", "Coupling", "Reducer", "End cap"),
                filterable=True,
            ),
        ),
        weight=3,
        multiple=25,
        min_order=25,
    ),
    Leaf(
        ("Plumbing", "Valves", "Ball valves"),
        "Ball Valve",
        "{material} {noun} {connection} {handle}",
        {"diameter_mm": [15, 20, 25, 32], "material": ["brass"]},
        (5, 22, 4),
        (
            Attr("connection", "Connection", T.CHOICE, choices=('1/2"', '3/4"', '1"', '1 1/4"')),
            Attr("handle", "Handle", T.CHOICE, choices=("lever", "butterfly")),
        ),
        weight=2,
    ),
    Leaf(
        ("Tools", "Power tools", "Drills"),
        "Cordless Drill",
        "{voltage} {noun} {chuck_mm} mm",
        {"power_w": [350, 450, 550], "voltage": ["12V", "18V"], "chuck_mm": [10, 13]},
        (14, 15, 25),
        (Attr("chuck_mm", "Chuck", T.NUMBER, "mm"),),
        serial_tracked=True,
    ),
    Leaf(
        ("Tools", "Power tools", "Angle grinders"),
        "Angle Grinder",
        "{noun} {disc_mm} mm {power_w}W",
        {"power_w": [750, 900, 1200, 2000, 2400], "voltage": ["230V"]},
        (14, 15, 25),
        (Attr("disc_mm", "Disc", T.CHOICE, "mm", choices=(115, 125, 180, 230), filterable=True),),
        serial_tracked=True,
    ),
    Leaf(
        ("Tools", "Hand tools", "Screwdriver sets"),
        "Screwdriver Set",
        "{pieces}-piece VDE {noun}",
        {"pieces": [6, 8, 12, 32], "power_w": [], "voltage": []},
        (6, 14, 25),
        (Attr("pieces", "Pieces", T.NUMBER),),
    ),
    Leaf(
        ("Tools", "Hand tools", "Pliers"),
        "Pliers",
        "{plier_type} {noun} {length_mm} mm",
        {"length_mm": [160, 180, 200], "power_w": [], "voltage": []},
        (6, 14, 25),
        (
            Attr("plier_type", "Type", T.CHOICE, choices=("Combination", "Long nose", "Diagonal")),
            Attr("length_mm", "Length", T.NUMBER, "mm"),
        ),
    ),
    Leaf(
        ("Heating & Ventilation", "Heating", "Panel radiators"),
        "Panel Radiator",
        "{noun} {panel_type} {height_mm}x{length_mm}",
        {
            "height_mm": [300, 400, 500, 600],
            "length_mm": [600, 800, 1000, 1200, 1600],
            "power_w": [650, 900, 1200, 1500, 1900, 2400],
        },
        (19, 29, 17),
        (
            Attr("panel_type", "Type", T.CHOICE, choices=("PKKP", "PKP", "PK")),
            Attr("height_mm", "Height", T.CHOICE, "mm", choices=(300, 400, 500, 600)),
            Attr("length_mm", "Length", T.NUMBER, "mm", filterable=True),
        ),
        weight=2,
    ),
    Leaf(
        ("Heating & Ventilation", "Heating", "Electric heaters"),
        "Electric Heater",
        "{heater_type} {noun} {power_w}W",
        {"power_w": [1000, 1500, 2000, 2500]},
        (19, 29, 17),
        (Attr("heater_type", "Type", T.CHOICE, choices=("Convector", "Infrared", "Oil-filled")),),
    ),
    Leaf(
        ("Heating & Ventilation", "Ventilation", "Exhaust fans"),
        "Exhaust Fan",
        "{noun} Ø{fan_diameter_mm} {power_w}W",
        {"power_w": [15, 20, 25, 35]},
        (20, 17),
        (Attr("fan_diameter_mm", "Diameter", T.CHOICE, "mm", choices=(100, 120, 150)),),
    ),
)

# mostly 20 %, some 10 / 1 / 0 (e.g. exports or special goods)
VAT_RATES = (20, 10, 1, 0)
# hardware and electrical goods are 20 % in Türkiye; a few reduced (10 %) and exempt (0 %, an
# export line with its reason code on the invoice) show those cases; 1 % (basic food) none
VAT_WEIGHTS = tuple(accumulate((96, 3, 0, 1)))
LEAF_WEIGHTS = tuple(accumulate(leaf.weight for leaf in LEAVES))

WAREHOUSES = [("IST", "İstanbul Merkez Depo", 10), ("ANK", "Ankara Depo", 20)]


def demo_category_paths() -> list[tuple[str, ...]]:
    """Every demo category path, parents before children."""
    paths: list[tuple[str, ...]] = []
    for leaf in LEAVES:
        for depth in range(1, len(leaf.path) + 1):
            if leaf.path[:depth] not in paths:
                paths.append(leaf.path[:depth])
    return paths


# --- helpers ------------------------------------------------------------------------------------


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _progress(total: int, desc: str, options) -> tqdm:
    return tqdm(
        total=total, desc=desc, unit="product", leave=False, disable=options.get("verbosity", 1) < 1
    )


def ean13(body12: str) -> str:
    digits = [int(ch) for ch in body12]
    check = (10 - (sum(digits[0::2]) + 3 * sum(digits[1::2])) % 10) % 10
    return body12 + str(check)


def demo_barcodes(number: int) -> list[str]:
    # 869 is Türkiye's GS1 prefix; the multiplier spreads numbers without repeating them
    codes = [ean13(f"869{(number * 7919) % 10**9:09d}")]
    if number % 5 == 0:  # a box barcode too
        codes.append(ean13(f"868{(number * 7919) % 10**9:09d}"))
    return codes


def _display(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _spec(attr: Attr, value) -> str:
    unit = f" {attr.unit}" if attr.unit else ""
    return f"{attr.name}: {_display(value)}{unit}"


def insert_rows(model, rows: list[dict]) -> None:
    """Insert rows (column values by attribute name; other columns take their defaults) in
    one go: PostgreSQL's COPY there, ``bulk_create`` elsewhere. No signals, no audit entries,
    no ``save()``: for seeding only."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], batch_size=500)
        return
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    given = [f for f in fields if f.attname in rows[0]]
    defaults = {}
    for f in fields:
        if f.attname in rows[0]:
            continue
        auto_now = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        value = now if auto_now else f.get_default()
        defaults[f.column] = f.get_db_prep_save(value, connection)
    json_fields = {f.attname for f in given if isinstance(f, models.JSONField)}
    columns = [f.column for f in given] + list(defaults)
    quote = connection.ops.quote_name
    sql = "COPY {} ({}) FROM STDIN".format(
        quote(model._meta.db_table), ", ".join(quote(column) for column in columns)
    )
    constant = list(defaults.values())
    names = [f.attname for f in given]
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            values = [Jsonb(row[name]) if name in json_fields else row[name] for name in names]
            copy.write_row(values + constant)


# --- seeding ------------------------------------------------------------------------------------


@dataclass
class _LeafRows:
    leaf: Leaf
    category: Category
    attrs: dict[str, Attr]  # the leaf's own and its top category's


def _seed_brands() -> dict[int, Brand]:
    existing = {
        brand.name: brand for brand in Brand.objects.filter(name__in=[n for n, _ in BRANDS])
    }
    missing = [
        Brand(name=name, slug=slugify(name.replace("ı", "i").replace("İ", "I")))
        for name, _code in BRANDS
        if name not in existing
    ]
    taken = set(
        Brand.objects.filter(slug__in=[b.slug for b in missing]).values_list("slug", flat=True)
    )
    for brand in missing:
        if brand.slug in taken:
            brand.slug = f"{brand.slug}-demo"
    Brand.objects.bulk_create(missing)
    Brand.objects.filter(name__in=[n for n, _ in BRANDS], is_active=False).update(is_active=True)
    by_name = {brand.name: brand for brand in Brand.objects.filter(name__in=[n for n, _ in BRANDS])}
    return {position: by_name[name] for position, (name, _code) in enumerate(BRANDS)}


def _seed_definitions(category: Category, attrs: Sequence[Attr]) -> None:
    existing = {d.code: d for d in AttributeDefinition.objects.filter(category=category)}
    for order, attr in enumerate(attrs):
        values = {
            "name": attr.name,
            "type": attr.type,
            "unit": attr.unit,
            "choices": list(attr.choices),
            "is_required": attr.required,
            "is_filterable": attr.filterable,
            "sort_order": (order + 1) * 10,
        }
        definition = existing.get(attr.code)
        if definition is None:
            AttributeDefinition.objects.create(category=category, code=attr.code, **values)
        elif any(getattr(definition, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(definition, name, value)
            definition.save()


def _seed_categories() -> list[_LeafRows]:
    by_path: dict[tuple[str, ...], Category] = {}
    for position, path in enumerate(demo_category_paths()):
        parent = by_path.get(path[:-1]) if len(path) > 1 else None
        category = Category.objects.filter(parent=parent, name__iexact=path[-1]).first()
        if category is None:
            category = category_create(name=path[-1], parent=parent, sort_order=position * 10)
        elif not category.is_active:
            category.is_active = True
            category.save(update_fields=["is_active", "updated_at"])
        by_path[path] = category
    for top, attrs in TOP_ATTRS.items():
        _seed_definitions(by_path[(top,)], attrs)
    rows = []
    for leaf in LEAVES:
        _seed_definitions(by_path[leaf.path], leaf.attrs)
        attrs = {a.code: a for a in TOP_ATTRS.get(leaf.path[0], ())}
        attrs.update({a.code: a for a in leaf.attrs})
        rows.append(_LeafRows(leaf=leaf, category=by_path[leaf.path], attrs=attrs))
    return rows


def demo_product(number: int, leaves: list[_LeafRows], brands: dict[int, Brand]) -> dict:
    """The column values (by attribute name) of product ``number`` of the demo catalog: always
    the same for the same number."""
    rng = random.Random(number)  # noqa: S311 - demo data, not security
    rows = rng.choices(leaves, cum_weights=LEAF_WEIGHTS)[0]
    leaf = rows.leaf
    brand_position = rng.choice(leaf.brands)
    brand = brands[brand_position]
    attributes: dict = {}
    tokens: dict[str, str] = {"noun": leaf.noun}
    for code, attr in rows.attrs.items():
        pool = leaf.pools.get(code)
        if pool is None:
            pool = list(attr.choices) if attr.type == T.CHOICE else None
            if attr.type == T.BOOLEAN:
                pool = [True, False]
        if not pool:  # an attribute this kind of product does not carry
            tokens[code] = ""
            continue
        value = rng.choice(pool)
        attributes[code] = value
        tokens[code] = (attr.name if value else "") if attr.type == T.BOOLEAN else _display(value)
    for code, pool in leaf.pools.items():  # name-only tokens
        if code not in rows.attrs:
            tokens[code] = _display(rng.choice(pool))
    model = f"{BRANDS[brand_position][1]}-{rng.randint(100, 9999)}"
    name = " ".join(f"{brand.name} {leaf.template.format(**tokens)} {model}".split())
    sku = demo_sku(number)
    barcodes = demo_barcodes(number)
    vat_rate = rng.choices(VAT_RATES, cum_weights=VAT_WEIGHTS)[0]
    specs = ", ".join(
        _spec(rows.attrs[code], value)
        for code, value in attributes.items()
        if not isinstance(value, bool)
    )
    return {
        "sku": sku,
        "name": name[:255],
        "description": f"{leaf.noun} by {brand.name}. {specs}.",
        "brand_id": brand.pk,
        "category_id": rows.category.pk,
        "unit": str(leaf.unit),
        "vat_rate": vat_rate,
        "min_order_quantity": leaf.min_order,
        "order_multiple": leaf.multiple,
        "barcodes": barcodes,
        "attributes": attributes,
        "is_active": rng.random() > 0.03,  # a few inactive ones
        "serial_tracked": leaf.serial_tracked,
        "search_document": build_search_document(
            sku=sku, name=name, brand_name=brand.name, barcodes=barcodes, attributes=attributes
        ),
    }


def _demo_products():
    return Product.all_objects.filter(sku__regex=SKU_RE)


def seeded(options) -> bool:
    """Cheaply: the requested demo products are there, live, with stock levels."""
    count = options.get("products", 200)
    if not count:
        return True
    last = demo_sku(count)
    live = _demo_products().filter(is_deleted=False, sku__lte=last).count()
    return live == count and StockLevel.objects.filter(product__sku=last).exists()


def seed_catalog(options) -> list[str]:
    """``--products N`` demo products (DEMO-000001 ...), in a tree of demo categories."""
    count = options.get("products", 200)
    if count > MAX_PRODUCTS:
        raise CommandError(f"--products: at most {MAX_PRODUCTS} demo products, got {count}")
    brands = _seed_brands()
    leaves = _seed_categories()
    existing = set(_demo_products().values_list("sku", flat=True))
    last_sku = demo_sku(count)
    restored = (
        _demo_products()
        .filter(is_deleted=True, sku__lte=last_sku)
        .update(is_deleted=False, deleted_at=None, updated_at=timezone.now())
    )
    missing = [n for n in range(1, count + 1) if demo_sku(n) not in existing]
    with _progress(len(missing), "demo products", options) as progress:
        for numbers in _chunks(missing, CHUNK):
            insert_rows(Product, [demo_product(n, leaves, brands) for n in numbers])
            progress.update(len(numbers))
    catalog_cache_bump()
    pictured = _seed_images()
    more = len([sku for sku in existing if sku > last_sku])
    notes = [f"{len(missing)} new", f"{pictured} pictures drawn"]
    if restored:
        notes.append(f"{restored} restored")
    if more:
        notes.append(f"{more} more from an earlier run kept; --reset removes them")
    categories = Category.objects.count()
    definitions = AttributeDefinition.objects.count()
    span = f"{demo_sku(1)}..{last_sku}" if count else "none"
    return [
        f"demo catalog: {count} products ({span}; {', '.join(notes)}), "
        f"{categories} categories, {len(brands)} brands, "
        f"{definitions} attribute definitions"
    ]


PICTURED = 60  # the catalog's first pages (by name) get a picture each
PICTURE_COLOURS = ((23, 76, 153), (47, 133, 90), (180, 83, 9), (109, 40, 217), (190, 18, 60))


def _seed_images() -> int:
    """A drawn picture (its brand's colour, the product's initials and SKU) for each of the
    first ``PICTURED`` demo products by name that has none, through the same service as an
    upload (thumbnails included), so the catalog, product pages and the admin's image inline
    show pictures without shipping image files. A second run finds them pictured (it drew
    the next 60)."""
    first = _demo_products().filter(is_deleted=False).order_by("name", "id")[:PICTURED]
    products = (
        _demo_products()
        .filter(pk__in=list(first.values_list("pk", flat=True)), images__isnull=True)
        .select_related("brand")
        .order_by("name", "id")
    )
    made = 0
    for product in products:
        product_image_create(
            product=product, file=_picture(product), alt_text=product.name, is_primary=True
        )
        made += 1
    return made


def _picture(product: Product) -> ContentFile:

    colour = PICTURE_COLOURS[(product.brand_id or 0) % len(PICTURE_COLOURS)]
    picture = Image.new("RGB", (600, 600), (241, 245, 249))
    draw = ImageDraw.Draw(picture)
    draw.rounded_rectangle((90, 90, 510, 510), radius=48, fill=colour)
    initials = "".join(word[0] for word in product.name.split()[:2]).upper() or "?"
    draw.text((300, 280), initials, fill="white", anchor="mm", font=ImageFont.load_default(140))
    draw.text((300, 440), product.sku, fill="white", anchor="mm", font=ImageFont.load_default(36))
    data = io.BytesIO()
    picture.save(data, "PNG")
    return ContentFile(data.getvalue(), name=f"{product.sku}.png")


def _seed_warehouses() -> list[Warehouse]:
    warehouses = []
    for code, name, sort_order in WAREHOUSES:
        warehouse, _created = Warehouse.objects.update_or_create(
            code=code, defaults={"name": name, "is_active": True, "sort_order": sort_order}
        )
        warehouses.append(warehouse)
    return warehouses


def demo_on_hand(number: int, warehouse_position: int, *, serial_tracked: bool = False) -> int:
    """Stock of product ``number`` in the n-th demo warehouse: ~10 % out of stock, ~15 % low
    (below 10), the rest 10-500 (Ankara holds less than Istanbul; serial-tracked tools at most
    20, each with its serial number)."""
    rng = random.Random(number * 31 + warehouse_position)  # noqa: S311 - demo data
    roll = rng.random()
    if roll < 0.10:
        return 0
    if roll < 0.25:
        return rng.randint(1, 9)
    top = 500 if warehouse_position == 0 else 150
    return rng.randint(10, 20 if serial_tracked else top)


def demo_serial(number: int, warehouse: Warehouse, unit: int) -> str:
    return f"SN{number:06d}{warehouse.code}{unit:03d}"


def seed_stock(options) -> list[str]:
    """Stock levels of every demo product in IST and ANK, with a receipt movement each (and
    serial numbers in stock for serial-tracked products), for products that have none yet."""
    warehouses = _seed_warehouses()
    created = 0
    for position, warehouse in enumerate(warehouses):
        missing = list(
            _demo_products()
            .exclude(stock_levels__warehouse=warehouse)
            .order_by("sku")
            .values_list("pk", "sku", "serial_tracked")
        )
        now = timezone.now()
        with _progress(len(missing), f"demo stock {warehouse.code}", options) as progress:
            for chunk in _chunks(missing, CHUNK):
                levels, movements, serials = [], [], []
                for product_id, sku, serial_tracked in chunk:
                    number = int(sku[len(SKU_PREFIX) :])
                    on_hand = demo_on_hand(number, position, serial_tracked=serial_tracked)
                    levels.append(
                        {"product_id": product_id, "warehouse_id": warehouse.pk, "on_hand": on_hand}
                    )
                    if not on_hand:
                        continue
                    movements.append(
                        {
                            "product_id": product_id,
                            "warehouse_id": warehouse.pk,
                            "kind": str(StockMovement.Kind.RECEIPT),
                            "quantity": on_hand,
                            "on_hand_before": 0,
                            "on_hand_after": on_hand,
                            "reserved_before": 0,
                            "reserved_after": 0,
                            "reference": STOCK_REFERENCE,
                            "reason": "demo data",
                            "created_at": now,
                        }
                    )
                    if serial_tracked:
                        serials.extend(
                            {
                                "product_id": product_id,
                                "warehouse_id": warehouse.pk,
                                "serial": demo_serial(number, warehouse, unit),
                                "status": str(SerialNumber.Status.IN_STOCK),
                                "reference": STOCK_REFERENCE,
                            }
                            for unit in range(1, on_hand + 1)
                        )
                if serials:  # one recorded by an earlier run stays as it is
                    known = set(
                        SerialNumber.objects.filter(
                            product_id__in={row["product_id"] for row in serials}
                        ).values_list("product_id", "serial")
                    )
                    serials = [r for r in serials if (r["product_id"], r["serial"]) not in known]
                insert_rows(StockLevel, levels)
                insert_rows(StockMovement, movements)
                insert_rows(SerialNumber, serials)
                created += len(levels)
                progress.update(len(chunk))
    levels = StockLevel.objects.filter(product__sku__regex=SKU_RE)
    summary = levels.aggregate(
        total=Count("pk"),
        empty=Count("pk", filter=Q(on_hand=0)),
        low=Count("pk", filter=Q(on_hand__gt=0, on_hand__lt=10)),
    )
    codes = ", ".join(f"{w.code} ({w.name})" for w in warehouses)
    return [
        f"demo stock: warehouses {codes}; {summary['total']} stock levels "
        f"({created} new, {summary['empty']} out of stock, {summary['low']} low)"
    ]


# --- reset --------------------------------------------------------------------------------------


def _delete(queryset, what: str) -> None:
    """Delete through Django's collector (cascades, PROTECT): a clear message when something
    outside the demo still refers to the rows."""
    try:
        queryset.delete()
    except (ProtectedError, RestrictedError) as exc:
        blockers = sorted(
            {str(obj._meta.verbose_name_plural) for obj in (exc.protected_objects or ())}
        )
        raise CommandError(
            f"cannot delete the demo {what}: {', '.join(blockers)} still refer to them "
            "(reset those demo data first)"
        ) from exc


def _referencing_querysets(queryset) -> Iterator:
    """For every table with a foreign key to the queryset's model: its rows pointing at them."""
    model = queryset.model
    keys = queryset.values("pk")
    for relation in model._meta.related_objects:
        if relation.many_to_many:
            through = relation.through
            for fk in through._meta.fields:
                if fk.related_model is model:
                    yield through._base_manager.filter(**{f"{fk.name}__in": keys})
        else:
            yield relation.related_model._base_manager.filter(
                **{f"{relation.field.name}__in": keys}
            )
    for m2m in model._meta.many_to_many:
        through = m2m.remote_field.through
        for fk in through._meta.fields:
            if fk.related_model is model:
                yield through._base_manager.filter(**{f"{fk.name}__in": keys})


def _delete_many(queryset, what: str) -> None:
    """Delete many rows at once when nothing refers to them (one DELETE: no per-row signals or
    audit entries); otherwise through the collector, which cascades or says what protects
    them."""
    if any(refs.exists() for refs in _referencing_querysets(queryset)):
        _delete(queryset, what)
    else:
        queryset._raw_delete(queryset.db)


def reset_stock(options) -> None:
    """Stock of the demo products: movements first (they are the ledger), serial numbers,
    then the levels."""
    products = _demo_products().values("pk")
    with disable_auditlog():
        _delete_many(StockMovement.objects.filter(product__in=products), "stock movements")
        _delete_many(SerialNumber.objects.filter(product__in=products), "serial numbers")
        _delete_many(StockLevel.objects.filter(product__in=products), "stock levels")


def reset_catalog(options) -> None:
    """Demo products with their stock and images (in that order); then the demo brands,
    categories and warehouses that nothing else uses (a real product in "Lighting" keeps that
    category). Soft-deleted demo products go too: a reset starts from nothing."""
    reset_stock(options)
    products = _demo_products()
    images = ProductImage.objects.filter(product__in=products.values("pk"))
    files = [name for pair in images.values_list("image", "thumbnail") for name in pair if name]
    images.delete()
    with disable_auditlog():  # one log entry per demo product would make a reset crawl
        _delete_many(products, "products")
    for name in files:
        default_storage.delete(name)
    brands = Brand.objects.filter(name__in=[name for name, _code in BRANDS])
    _delete(brands.filter(products__isnull=True), "brands")
    paths = demo_category_paths()
    for path in sorted(paths, key=len, reverse=True):  # leaves first
        category = _category_at(path)
        if category is None:
            continue
        used = (
            Product.all_objects.filter(category=category).exists()
            or Category.objects.filter(parent=category).exists()
        )
        if not used:
            category.delete()
    catalog_cache_bump()
    for code, _name, _order in WAREHOUSES:
        warehouse = Warehouse.objects.filter(code=code).first()
        if warehouse is not None and not (
            StockLevel.objects.filter(warehouse=warehouse).exists()
            or StockMovement.objects.filter(warehouse=warehouse).exists()
            or SerialNumber.objects.filter(warehouse=warehouse).exists()
        ):
            _delete(Warehouse.objects.filter(pk=warehouse.pk), "warehouses")


def _category_at(path: tuple[str, ...]) -> Category | None:
    parent = None
    for name in path:
        parent = Category.objects.filter(parent=parent, name__iexact=name).first()
        if parent is None:
            return None
    return parent


# (name, seed, reset) in dependency order; reset runs in reverse order (stock before products)
STEPS = [
    ("demo catalog", seed_catalog, reset_catalog),
    ("demo stock", seed_stock, reset_stock),
]
