"""Demo prices: LIST with a quantity break, tier A/B/C prices, special prices for the first
demo dealer and two campaigns, so the demo shows every price source. Idempotent."""

from __future__ import annotations

import io
import math
from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db.models import Value
from django.db.models.functions import Greatest
from django.utils import timezone

from apps.accounts.models import Customer
from apps.campaigns.models import Banner, Campaign, Collection, CollectionItem
from apps.campaigns.rules import campaigns_bump
from apps.catalog.models import Brand, Product
from apps.demo.catalog import SKU_PREFIX, _chunks, _delete_many, insert_rows
from apps.pricing.engine import prices_bump
from apps.pricing.index import price_index_rebuild
from apps.pricing.models import Price, PriceChange, PriceList, SpecialPrice

TIER_FACTORS = {"A": Decimal("0.80"), "B": Decimal("0.85"), "C": Decimal("0.90")}
BREAK = Decimal("0.95")  # the carton price: 5 % off
PRICE_CHANGES = 12  # products with a price history
CAMPAIGN_NAMES = ("Demo: bir markada %10 indirim", "Demo: 20 adetten itibaren 5 TL indirim")
# the names of earlier demo runs, removed by --reset too
CAMPAIGN_NAMES_BEFORE = ("Demo: 10% on one brand", "Demo: 5 TRY off from 20 units")
BANNER_TITLES = ("Demo: ayın markası, %10 indirim", "Demo: katalogdaki yenilikler")
BANNER_TITLES_BEFORE = ("Demo: this month's brand, 10% off", "Demo: new in the catalog")


# a believable net list price range (TRY) per demo category: a PPR elbow is not a drill
PRICE_RANGES: dict[str, tuple[int, int]] = {
    "Power cables": (12, 160),  # a metre
    "Data cables": (1200, 9500),  # a box of 100-500 m
    "Switches": (45, 260),
    "Sockets": (55, 300),
    "Circuit breakers": (110, 850),
    "Residual current devices": (650, 3200),
    "Panels": (320, 1400),
    "Bulbs": (28, 160),
    "Strips": (140, 950),
    "Floodlights": (380, 3800),
    "Wall lights": (260, 1600),
    "PPR pipes": (90, 950),
    "PVC drain pipes": (60, 420),
    "PPR fittings": (6, 95),
    "Ball valves": (120, 1400),
    "Drills": (1800, 9500),
    "Angle grinders": (1400, 7800),
    "Screwdriver sets": (350, 2400),
    "Pliers": (180, 950),
    "Panel radiators": (2400, 9800),
    "Electric heaters": (900, 5500),
    "Exhaust fans": (450, 3200),
}
# the size a price grows with, and the span of it that the ranges above cover
SIZES: tuple[tuple[str, float, float], ...] = (
    ("power_w", 3, 2500),
    ("rated_current_a", 6, 63),
    ("diameter_mm", 16, 110),
    ("length_m", 1, 500),
    ("length_mm", 100, 2000),
    ("pieces", 3, 40),
)


def demo_list_prices(product_ids) -> dict[int, Decimal]:
    """Stable, believable list prices of demo products, in one query: within their
    category's range, larger for a larger size (power, current, diameter, length), with a
    little spread of their own."""
    rows = Product.all_objects.filter(pk__in=list(product_ids)).values_list(
        "pk", "category__name", "attributes"
    )
    return {pk: _demo_price(pk, name, attributes) for pk, name, attributes in rows}


def demo_list_price(product_id: int) -> Decimal:
    return demo_list_prices([product_id])[product_id]


def _demo_price(product_id: int, category: str | None, attributes) -> Decimal:
    spread = Decimal((product_id * 7919) % 1000) / 1000
    if category not in PRICE_RANGES:  # a product the demo did not make: 12.50-2,512.49
        return (Decimal(1250) + Decimal((product_id * 7919) % 250000)) / 100
    low, high = PRICE_RANGES[category]
    position = spread
    for code, smallest, largest in SIZES:
        value = (attributes or {}).get(code) if isinstance(attributes, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            span = math.log(largest) - math.log(smallest)
            size = (math.log(value) - math.log(smallest)) / span
            position = Decimal(str(round(min(1.0, max(0.0, size)), 4))) * Decimal("0.75")
            position += spread * Decimal("0.25")
            break
    return (Decimal(low) + (Decimal(high) - Decimal(low)) * position).quantize(Decimal("0.01"))


def seed_prices(options) -> list[str]:
    lists = {p.code: p for p in PriceList.objects.all()}
    priced = set(
        Price.objects.filter(
            price_list=lists["LIST"], product__sku__startswith=SKU_PREFIX
        ).values_list("product_id", flat=True)
    )
    ids = list(
        Product.objects.filter(sku__startswith=SKU_PREFIX)
        .exclude(pk__in=priced)
        .values_list("pk", flat=True)
    )
    now = timezone.now()
    rules = {
        pk: (minimum, multiple)
        for pk, minimum, multiple in Product.objects.filter(pk__in=ids).values_list(
            "pk", Greatest("min_order_quantity", Value(1)), Greatest("order_multiple", Value(1))
        )
    }
    for chunk in _chunks(ids, 2000):
        rows = []
        bases = demo_list_prices(chunk)
        for product_id in chunk:
            base = bases[product_id]
            # 5 % off from a carton: 4 times the product's minimum order (at least 10 units),
            # rounded up to a quantity the product can be ordered in (its multiple)
            minimum, multiple = rules.get(product_id, (1, 1))
            carton = -(-max(10, minimum * 4) // multiple) * multiple
            for code, factor in (("LIST", Decimal(1)), *TIER_FACTORS.items()):
                rows.append(_row(lists[code], product_id, 1, base * factor, now))
                rows.append(_row(lists[code], product_id, carton, base * factor * BREAK, now))
        insert_rows(Price, rows)
    changes = _seed_price_changes(lists["LIST"], ids[:PRICE_CHANGES], now)
    dealer = Customer.objects.filter(code="DEMO001").first()
    specials = 0
    if dealer is not None:
        first = list(Product.objects.filter(sku__startswith=SKU_PREFIX).order_by("sku")[:20])
        bases = demo_list_prices(product.pk for product in first)
        for product in first:
            _special, created = SpecialPrice.objects.get_or_create(
                customer=dealer,
                product=product,
                min_quantity=1,
                defaults={
                    "amount": (bases[product.pk] * Decimal("0.70")).quantize(Decimal("0.0001"))
                },
            )
            specials += created
    brand = Brand.objects.order_by("name").first()
    campaign, _ = Campaign.objects.get_or_create(
        name=CAMPAIGN_NAMES[0],
        defaults={
            "discount_type": "percentage",
            "discount_value": Decimal("10"),
            "scope": Campaign.Scope.BRANDS,
            "priority": 1,
        },
    )
    if brand is not None:
        campaign.brands.add(brand)
    Campaign.objects.get_or_create(
        name=CAMPAIGN_NAMES[1],
        defaults={
            "discount_type": "fixed",
            "discount_value": Decimal("5"),
            "min_quantity": 20,
            "audience": "tiers",
            "tiers": ["B", "C"],
        },
    )
    campaigns_bump()
    prices_bump()
    price_index_rebuild()  # the prices above were written with bulk SQL
    banners = _seed_banners(brand)
    collections = _seed_collections()
    return [
        f"demo prices: {len(ids)} products newly priced (LIST and tiers A/B/C, each with a "
        f"carton break), {changes} price changes, {specials} special prices for DEMO001, "
        f"{len(CAMPAIGN_NAMES)} campaigns, {banners} dashboard banners, "
        f"{collections} collections"
    ]


def _seed_price_changes(price_list, product_ids: list[int], now) -> int:
    """The price history of a few products: last month's ERP batch raised their list price
    by 6 % to today's (Pricing › Price changes, a product's "why this price")."""
    when = now - timedelta(days=9)
    rows = []
    bases = demo_list_prices(product_ids)
    for product_id in product_ids:
        new = bases[product_id].quantize(Decimal("0.0001"))
        old = (new / Decimal("1.06")).quantize(Decimal("0.0001"))
        for min_quantity, amount_old, amount_new in ((1, None, old), (1, old, new)):
            rows.append(
                PriceChange(
                    product_id=product_id,
                    price_list=price_list,
                    min_quantity=min_quantity,
                    old_amount=amount_old,
                    new_amount=amount_new,
                    source=PriceChange.Source.ERP,
                    reference="batch:demo" if amount_old is None else "batch:demo-2",
                    changed_at=when - timedelta(days=30) if amount_old is None else when,
                )
            )
    PriceChange.objects.bulk_create(rows)
    return len(rows)


COLLECTIONS = (
    # (slug, name, description, audience tiers or None for everyone)
    (
        "demo-sezon",
        "Demo: sezonun çok satanları",
        "Bayilerimizin bu ay en çok sipariş ettikleri.",
        None,
    ),
    ("demo-santiye", "Demo: şantiye başlangıç seti", "Yeni bir şantiye için ilk sipariş.", ["A"]),
)


def _seed_collections() -> int:
    """Two curated collections of demo products (one for everyone, one for tier A), so the
    collections endpoint and the back office's list show some."""
    products = list(_demo_products_visible()[:12])
    made = 0
    for position, (slug, name, description, tiers) in enumerate(COLLECTIONS):
        if Collection.objects.filter(slug=slug).exists() or not products:
            continue
        collection = Collection.objects.create(
            slug=slug,
            name=name,
            description=description,
            sort_order=position,
            audience="tiers" if tiers else "everyone",
            tiers=tiers or [],
        )
        chosen = products[position * 6 : position * 6 + 6]
        CollectionItem.objects.bulk_create(
            CollectionItem(collection=collection, product=product, sort_order=order)
            for order, product in enumerate(chosen)
        )
        made += 1
    return made


def _demo_products_visible():
    return Product.objects.visible().filter(sku__startswith=SKU_PREFIX).order_by("sku")


def _seed_banners(brand) -> int:
    """Two banners on the portal's dashboard: the campaign's brand and the newest products,
    each a plain coloured picture drawn here (no file to ship)."""
    links = (
        f"/portal/catalog/?brand={brand.slug}" if brand is not None else "/portal/catalog/",
        "/portal/catalog/?ordering=-created_at",
    )
    colours = ((23, 76, 153), (47, 133, 90))
    lines = (
        (brand.name if brand is not None else "Ayın markası", "Tüm ürünlerde %10 indirim"),
        ("Katalogdaki yenilikler", "Bu ay eklenen ürünlere göz atın"),
    )
    made = 0
    for title, link, colour, words in zip(BANNER_TITLES, links, colours, lines, strict=True):
        if Banner.objects.filter(title=title).exists():
            continue
        picture = _picture(colour, *words)
        Banner.objects.create(title=title, image=picture, link_url=link, placement="home")
        made += 1
    return made


def _picture(colour: tuple[int, int, int], headline: str, line: str) -> ContentFile:
    """A banner as a designer's placeholder would be: the colour, a few soft circles, the
    headline and its line in white (DejaVu, which the PDFs need anyway, has the Turkish
    letters; Pillow's own font otherwise)."""
    from PIL import Image, ImageDraw, ImageFont

    def font(size: int, bold: bool):
        name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            return ImageFont.load_default(size)

    picture = Image.new("RGB", (1200, 300), colour)
    draw = ImageDraw.Draw(picture)
    light = tuple(min(255, c + 40) for c in colour)
    for x, y, r in ((1050, 60, 160), (930, 260, 110), (1160, 250, 70)):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=light)
    draw.text((70, 110), headline, fill="white", anchor="lm", font=font(64, True))
    draw.text((72, 200), line, fill="white", anchor="lm", font=font(34, False))
    data = io.BytesIO()
    picture.save(data, "PNG")
    return ContentFile(data.getvalue(), name="demo-banner.png")


def _row(price_list, product_id, min_quantity, amount, now) -> dict:
    return {
        "price_list_id": price_list.pk,
        "product_id": product_id,
        "min_quantity": min_quantity,
        "amount": amount.quantize(Decimal("0.0001")),
        "created_at": now,
        "updated_at": now,
    }


def reset_prices(options) -> None:
    Campaign.objects.filter(name__in=CAMPAIGN_NAMES + CAMPAIGN_NAMES_BEFORE).delete()
    Banner.objects.filter(title__in=BANNER_TITLES + BANNER_TITLES_BEFORE).delete()
    Collection.objects.filter(slug__in=[slug for slug, *_rest in COLLECTIONS]).delete()
    SpecialPrice.objects.filter(product__sku__startswith=SKU_PREFIX).delete()
    # one DELETE: through the collector, each price row's post_delete refreshed the price
    # index for its product (about 45 s for the default 200 products); the rebuild below
    # covers them all
    _delete_many(Price.objects.filter(product__sku__startswith=SKU_PREFIX), "prices")
    PriceChange.objects.filter(reference__in=("batch:demo", "batch:demo-2")).delete()
    campaigns_bump()
    prices_bump()
    price_index_rebuild()


STEPS = [("demo prices", seed_prices, reset_prices)]
