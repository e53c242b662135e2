"""The portal in a real browser: headless Chromium (/usr/bin/chromium, installed by ./dev test)
driven by Playwright against a live server on loopback. Screenshots of each page go to
``artifacts/portal/`` (kept by CI)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import translation

from apps.orders.models import Order
from tests.factories import DealerUserFactory
from tests.orders.conftest import Shop

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "portal"
PASSWORD = "Test-Password-2026"


@pytest.fixture
def chromium(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous (Django's documented switch for this case)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_dealer_buys_through_the_portal_in_a_browser(live_server, chromium, dealer_client):
    shop = Shop(dealer_client)
    shop.product("A-1", price="1234.5", stock=50, name="Bakır kablo 3x2,5")
    user = DealerUserFactory(customer=shop.customer, role="owner", password=PASSWORD)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = chromium.new_page()
    page.set_default_timeout(15_000)

    def shot(name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    page.goto(f"{live_server.url}/portal/")
    assert "/portal/login/" in page.url
    page.get_by_label("E-posta").fill(user.email)
    page.get_by_label("Parola").fill(PASSWORD)
    shot("login")
    page.get_by_role("button", name="Giriş yap").click()
    page.wait_for_url(re.compile(r"/portal/$"))
    shot("dashboard")

    page.get_by_role("link", name="Katalog").click()
    page.get_by_role("searchbox").fill("kablo")  # htmx swaps the results as one types
    page.wait_for_url(re.compile(r"search=kablo"))
    results = page.get_by_test_id("products")
    assert "1.234,50 ₺" in results.inner_text()
    shot("catalog")
    results.get_by_role("button", name="Sepete ekle").click()
    page.get_by_role("link", name="Sepet").click()
    assert page.get_by_test_id("cart-total").inner_text() == "1.481,40 ₺"
    shot("cart")

    page.get_by_role("link", name="Siparişi tamamla").click()
    page.get_by_label("Satın alma sipariş numaranız").fill("PO-BROWSER")
    shot("checkout")
    page.get_by_role("button", name="Siparişi ver").click()
    page.wait_for_url(re.compile(r"/portal/orders/SO-"))
    order = Order.objects.get(po_number="PO-BROWSER")
    assert order.number in page.content()
    with translation.override("tr"):
        assert page.get_by_test_id("order-status").inner_text() == order.get_status_display()
    shot("order")
    page.get_by_role("link", name="Siparişler").click()
    assert order.number in page.get_by_role("table").inner_text()

    # the account statement, as the PDF the API serves too
    page.get_by_role("link", name="Ekstre").click()
    page.get_by_label("Biçim").select_option("pdf")
    shot("statement")
    with page.expect_download() as download:
        page.get_by_role("button", name="İndir").click()
    assert download.value.suggested_filename.endswith(".pdf")
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"
