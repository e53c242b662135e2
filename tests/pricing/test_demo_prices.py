"""seed_demo prices the demo catalog so every price source shows, idempotently."""

from io import StringIO

import pytest
from django.core.management import call_command

from apps.accounts.models import Customer
from apps.campaigns.models import Banner
from apps.catalog.models import Product
from apps.pricing.engine import price_resolve_many
from apps.pricing.models import Price, SpecialPrice

pytestmark = [pytest.mark.django_db]


def seed(*args):
    out = StringIO()
    call_command("seed_demo", "--products", "30", "--dealers", "4", *args, stdout=out, verbosity=0)
    return out.getvalue()


def test_demo_prices_show_every_source_and_rerun_adds_nothing():
    output = seed()
    assert "demo prices:" in output
    products = list(Product.objects.filter(sku__startswith="DEMO-").order_by("sku"))
    # LIST and tiers A, B, C: each a price from 1 unit and a carton break
    assert Price.objects.count() == 8 * len(products)
    dealer = Customer.objects.get(code="DEMO001")
    sources = {
        r.source for r in price_resolve_many(customer=dealer, items=[(p, 1) for p in products])
    }
    assert {"special", f"tier:{dealer.tier}"} <= sources
    banners = list(Banner.objects.live().for_customer(dealer).values_list("link_url", flat=True))
    assert len(banners) == 2 and all(link.startswith("/portal/catalog/") for link in banners)
    counts = (Price.objects.count(), SpecialPrice.objects.count(), Banner.objects.count())
    seed()
    assert (Price.objects.count(), SpecialPrice.objects.count(), Banner.objects.count()) == counts
    seed("--reset")
    assert Price.objects.count() == 8 * Product.objects.filter(sku__startswith="DEMO-").count()
