"""The back office's start page and two of its work queues in a real browser (headless
Chromium, /usr/bin/chromium): the figures and charts draw without a script error (Chart.js
from our static files), and each queue's link opens its filtered list; the product page's
panels and the customer page's link to its special prices fit a laptop's width; the language
switch turns the admin Turkish. Screenshots go to ``artifacts/backoffice/``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.campaigns.models import Campaign
from apps.pricing.models import PriceList
from apps.pricing.services import price_set, special_price_set
from apps.quotes.models import Quote
from tests.catalog.factories import (
    AttributeDefinitionFactory,
    CategoryFactory,
    ProductFactory,
    StockLevelFactory,
    WarehouseFactory,
)
from tests.conftest import staff_login, totp_now
from tests.factories import CustomerFactory, StaffUserFactory
from tests.finance.helpers import make_order
from tests.portal.test_browser import chromium  # noqa: F401 - the fixture

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "backoffice"
PASSWORD = "Staff-Password-2026"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_dashboard_and_two_queues_in_a_browser(live_server, chromium):  # noqa: F811
    long_name = "Marmara Elektrik Aydınlatma Malzemeleri Sanayi ve Ticaret Anonim Şirketi"
    dealer = CustomerFactory(code="BAYI01", name=long_name)
    waiting = make_order(dealer, status="awaiting_credit_approval", gross="2500.00")
    make_order(dealer, status="confirmed", gross="1200.00")
    Quote.objects.create(number="QT-2026-000777", customer=dealer)
    staff = StaffUserFactory(is_superuser=True, password=PASSWORD)
    authenticator = TOTPDevice.objects.create(user=staff, name="authenticator", confirmed=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = chromium.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", staff.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/two-factor/verify/"))  # the code from the app next
    page.fill("#id_code", totp_now(authenticator))
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))
    assert page.evaluate("typeof window.Chart") == "function"
    assert page.locator("#chart-orders").is_visible() and page.locator("#chart-aging").is_visible()
    assert "BAYI01" in page.locator("[data-top=dealers]").inner_text()
    # a long name wraps inside its box (the dashboard's CSS kept it on one line, over the
    # figures beside it)
    cell = page.locator("[data-top=dealers] td").first
    assert cell.evaluate("td => td.scrollWidth <= td.clientWidth + 1")
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    page.click("[data-queue=credit]")
    page.wait_for_url(re.compile(r"status__exact=awaiting_credit_approval"))
    assert waiting.number in page.content()
    page.screenshot(path=str(ARTIFACTS / "queue-credit.png"), full_page=True)
    page.click("[data-queue=quotes]")
    page.wait_for_url(re.compile(r"status__in=requested"))
    assert "QT-2026-000777" in page.content()
    page.screenshot(path=str(ARTIFACTS / "queue-quotes.png"), full_page=True)
    assert errors == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_product_and_customer_pages_in_a_browser(live_server, chromium):  # noqa: F811
    """The product page's panels (prices with breaks, campaigns, stock per warehouse) and the
    customer page's link to its special prices, at a laptop's width: nothing cut off (the page
    is no wider than the window; wide tables scroll inside their module)."""

    category = CategoryFactory(name="LED panels")
    AttributeDefinitionFactory(category=category, code="power_w", name="Power", type="number")
    AttributeDefinitionFactory(
        category=category, code="ip_rating", name="IP rating", type="choice", choices=["IP20"]
    )
    AttributeDefinitionFactory(category=category, code="dimmable", name="Dimmable", type="boolean")
    product = ProductFactory(
        sku="PNL-6060-40",
        name="LED panel 60x60 40W",
        category=category,
        attributes={"power_w": 40, "ip_rating": "IP20", "dimmable": True},
    )
    lists = {p.code: p for p in PriceList.objects.all()}
    for code, quantity, amount in (("LIST", 1, "64.1830"), ("LIST", 10, "61.50"), ("A", 1, "58")):
        price_set(price_list=lists[code], product=product, min_quantity=quantity, amount=amount)
    for code, name, on_hand, reserved in (
        ("IST", "Main warehouse", 57, 0),
        ("ANK", "Ankara", 1500, 20),
    ):
        StockLevelFactory(
            product=product,
            warehouse=WarehouseFactory(code=code, name=name),
            on_hand=on_hand,
            reserved=reserved,
        )
    Campaign.objects.create(name="Spring lighting", discount_type="percentage", discount_value=10)
    dealer = CustomerFactory(code="BAYI02", name="Yıldız Elektrik")
    for n in range(12):
        special_price_set(
            customer=dealer, product=ProductFactory(), min_quantity=1 + n, amount=f"{10 + n}.25"
        )
    staff = StaffUserFactory(is_superuser=True)
    session = staff_login(Client(), staff).cookies[settings.SESSION_COOKIE_NAME].value
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    host = live_server.url.split("//", 1)[1].split(":")[0]
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "domain": host, "path": "/"}]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def fits() -> bool:
        return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    page.goto(f"{live_server.url}/admin/catalog/product/{product.pk}/change/")
    assert page.locator("#id_attr__power_w").input_value() == "40"
    assert page.locator("[data-panel=prices]").is_visible()
    assert "64.183 ₺" in page.locator("[data-panel=prices]").inner_text()
    assert "Spring lighting" in page.locator("[data-panel=campaigns]").inner_text()
    assert "1,480" in page.locator("[data-panel=stock]").inner_text()
    assert fits()
    page.screenshot(path=str(ARTIFACTS / "product.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/accounts/customer/{dealer.pk}/change/")
    link = page.locator("ul.related-lists a")
    assert link.inner_text() == "Special prices (12)"
    assert fits()
    page.screenshot(path=str(ARTIFACTS / "customer.png"), full_page=True)
    link.click()
    page.wait_for_url(re.compile(r"customer__id__exact="))
    assert page.locator("#result_list tbody tr").count() == 12
    page.screenshot(path=str(ARTIFACTS / "special-prices.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/")
    page.screenshot(path=str(ARTIFACTS / "start-page.png"), full_page=True)
    page.click("form.language-switch button[value=tr]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "tr"
    page.screenshot(path=str(ARTIFACTS / "start-page-tr.png"), full_page=True)
    assert errors == []
