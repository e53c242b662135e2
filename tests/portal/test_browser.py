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


class Walk:
    """One browser page signed in as a dealer user, with a screenshot helper."""

    def __init__(self, chromium, live_server, user):
        self.url = live_server.url
        self.page = chromium.new_context().new_page()
        self.page.set_default_timeout(15_000)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.goto(f"{self.url}/portal/")
        assert "/portal/login/" in self.page.url
        self.page.get_by_label("E-posta").fill(user.email)
        self.page.get_by_label("Parola").fill(PASSWORD)
        self.shot("login")
        self.page.get_by_role("button", name="Giriş yap").click()
        self.page.wait_for_url(re.compile(r"/portal/$"))

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def tab_to(self, selector: str, *, limit: int = 60) -> None:
        """Press Tab until ``selector`` has the focus: reachable with the keyboard alone."""
        for _ in range(limit):
            if self.page.evaluate(
                "s => document.activeElement && document.activeElement.matches(s)", selector
            ):
                return
            self.page.keyboard.press("Tab")
        raise AssertionError(f"{selector} is not reachable with Tab")


@pytest.fixture
def shop(dealer_client):
    shop = Shop(dealer_client)
    shop.product("A-1", price="1234.5", stock=50, name="Bakır kablo 3x2,5")
    shop.product("B-2", price="10", stock=500, name="Priz")
    return shop


def _owner(shop, **kwargs):
    return DealerUserFactory(customer=shop.customer, role="owner", password=PASSWORD, **kwargs)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_dealer_buys_through_the_portal_in_a_browser(live_server, chromium, shop):
    walk = Walk(chromium, live_server, _owner(shop))
    page = walk.page
    walk.shot("dashboard")

    page.get_by_role("link", name="Katalog").click()
    page.get_by_role("searchbox").fill("kablo")  # htmx swaps the results as one types
    page.wait_for_url(re.compile(r"search=kablo"))
    results = page.get_by_test_id("products")
    assert "1.234,50\u00a0₺" in results.inner_text()
    # a filter or a category after a search keeps the search (the filter form and the
    # category links were those of the page before it: the whole catalog came back)
    page.get_by_label("Sırala").select_option("price")
    page.get_by_role("button", name="Uygula").click()
    page.wait_for_url(re.compile(r"ordering=price"))
    assert "search=kablo" in page.url and page.get_by_role("searchbox").input_value() == "kablo"
    assert "Priz" not in page.get_by_test_id("products").inner_text()
    page.get_by_role("searchbox").fill("priz")
    page.wait_for_url(re.compile(r"search=priz"))
    category = page.get_by_role("navigation", name="Kategoriler").get_by_role("link").first
    assert "search=priz" in category.get_attribute("href")
    results = page.get_by_test_id("products")
    page.get_by_role("searchbox").fill("kablo")
    page.wait_for_url(re.compile(r"search=kablo"))
    walk.shot("catalog")
    results.get_by_role("button", name="Sepete ekle").click()

    # quick order with the keyboard alone: Tab to the first SKU box, type (the catalog
    # suggests), Tab to its quantity, Enter for the preview, Tab to "add", Enter
    page.get_by_role("link", name="Hızlı sipariş").click()
    page.wait_for_url(re.compile(r"/portal/quick-order/$"))
    walk.tab_to("#sku-0")
    page.keyboard.type("Priz")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#sku-options option')].some(o => o.value === 'B-2')"
    )
    page.keyboard.press("Control+A")
    page.keyboard.type("B-2")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "quantity-0"
    page.keyboard.type("4")
    walk.shot("quick-order")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=preview]")
    assert "Priz" in page.get_by_test_id("preview").inner_text()
    walk.shot("quick-order-preview")
    walk.tab_to("button[value=add]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/portal/cart/$"))
    assert page.get_by_test_id("cart-total").inner_text() == "1.529,40\u00a0₺"  # + 4 x 10 + VAT
    walk.shot("cart")

    page.get_by_role("link", name="Siparişi tamamla").click()
    page.get_by_label("Satın alma sipariş numaranız").fill("PO-BROWSER")
    walk.shot("checkout")
    page.get_by_role("button", name="Siparişi ver").click()
    page.wait_for_url(re.compile(r"/portal/orders/SO-"))
    order = Order.objects.get(po_number="PO-BROWSER")
    assert order.number in page.content() and order.lines.count() == 2
    with translation.override("tr"):
        assert page.get_by_test_id("order-status").inner_text() == order.get_status_display()
    walk.shot("order")
    page.get_by_role("link", name="Siparişler").click()
    page.wait_for_url(re.compile(r"/portal/orders/$"))
    assert order.number in page.get_by_role("table").inner_text()
    walk.shot("orders")

    # the account statement, as the PDF the API serves too
    page.get_by_role("link", name="Ekstre").click()
    page.get_by_label("Biçim").select_option("pdf")
    walk.shot("statement")
    with page.expect_download() as download:
        page.get_by_role("button", name="İndir").click()
    assert download.value.suggested_filename.endswith(".pdf")
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_owner_approves_a_buyers_order_in_a_browser(live_server, chromium, shop):
    from decimal import Decimal

    from tests.orders.conftest import place

    buyer = shop.client("purchasing")
    buyer.user.order_limit = Decimal("100.00")
    buyer.user.save(update_fields=["order_limit"])
    response = place(buyer, items=[("A-1", 1)], po_number="PO-LIMIT")
    assert response.json()["status"] == "awaiting_approval", response.json()
    order = Order.objects.get(po_number="PO-LIMIT")

    walk = Walk(chromium, live_server, _owner(shop))
    page = walk.page
    page.get_by_role("link", name="Onaylar").click()
    page.wait_for_url(re.compile(r"/portal/approvals/$"))  # content() mid-navigation is ""
    assert order.number in page.content()
    walk.shot("approvals")
    page.get_by_role("button", name="Onayla").click()
    page.wait_for_url(re.compile(r"/portal/approvals/$"))
    assert "onaylandı" in page.get_by_role("status").inner_text()
    order.refresh_from_db()
    assert order.status == "confirmed"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_card_order_is_paid_through_the_gateway_in_a_browser(
    live_server, chromium, shop, paynet_simulator, settings
):
    paynet_simulator.reset()
    settings.PAYNET_BASE_URL = paynet_simulator.url
    settings.PAYNET_SECRET_KEY = paynet_simulator.secret_key
    settings.PAYMENT_RETURN_BASE_URL = live_server.url
    settings.DEALER_PORTAL_URL = f"{live_server.url}/"
    walk = Walk(chromium, live_server, _owner(shop))
    page = walk.page
    page.goto(f"{walk.url}/portal/products/A-1/")
    walk.shot("product")
    page.get_by_role("button", name="Sepete ekle").click()
    page.goto(f"{walk.url}/portal/checkout/")
    page.get_by_label("kart", exact=True).check()
    page.get_by_label("Satın alma sipariş numaranız").fill("PO-CARD")
    page.get_by_role("button", name="Siparişi ver").click()
    page.wait_for_url(re.compile(r"/portal/orders/SO-"))
    order = Order.objects.get(po_number="PO-CARD")
    assert order.status == "awaiting_payment"

    page.get_by_role("button", name=re.compile("kartla öde")).click()  # to the bank's page
    page.wait_for_url(re.compile(re.escape(paynet_simulator.url)))
    page.get_by_label("Card number").fill("4111 1111 1111 1111")
    page.get_by_label("Expiry month").fill("12")
    page.get_by_label("Expiry year").fill("2030")
    page.get_by_label("CVC").fill("123")
    walk.shot("bank-card")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password").fill("a")  # the simulator's 3-D Secure password
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(re.compile(r"/api/v1/payments/callback/paynet"))  # back, verified
    assert "Ödeme alındı" in page.content()
    walk.shot("payment-result")
    page.get_by_role("link", name="Bayi portalına dön").click()
    page.wait_for_url(re.compile(rf"/portal/orders/{order.number}/$"))
    order.refresh_from_db()
    assert order.status == "confirmed"
    with translation.override("tr"):
        assert page.get_by_test_id("order-status").inner_text() == order.get_status_display()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_portal_page_renders_in_a_browser_without_script_errors(live_server, chromium, shop):
    """A tour of the pages the walks above do not reach, as an owner with something on each
    (a sent quote, a shared list, a balance confirmation): each answers 200, the browser logs
    no script error (htmx and Alpine load from our static files), and a screenshot is kept."""
    import datetime
    from decimal import Decimal

    from django.utils import timezone

    from apps.finance.services.confirmations import confirmation_send
    from apps.orders.services.lists import list_create
    from apps.quotes.services import quote_answer, quote_request

    owner = _owner(shop)
    quote = quote_request(user=owner, lines=[{"sku": "A-1", "quantity": 5}], note="Proje")
    quote_answer(
        quote=quote,
        by=None,
        prices={quote.lines.get().pk: Decimal("1100")},
        valid_until=timezone.localdate() + datetime.timedelta(days=7),
    )
    reqlist = list_create(
        user=owner, name="Aylık", shared=True, items=[{"sku": "B-2", "quantity": 10}]
    )
    confirmation = confirmation_send(customer=shop.customer, as_of=timezone.localdate())
    walk = Walk(chromium, live_server, owner)
    errors: list[str] = []
    walk.page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    walk.page.on("pageerror", lambda exc: errors.append(str(exc)))
    pages = {
        "quotes": "/portal/quotes/",
        "quote": f"/portal/quotes/{quote.number}/",
        "lists": "/portal/lists/",
        "list": f"/portal/lists/{reqlist.pk}/",
        "returns": "/portal/returns/",
        "invoices": "/portal/invoices/",
        "confirmations": "/portal/confirmations/",
        "confirmation": f"/portal/confirmations/{confirmation.pk}/",
        "company-users": "/portal/company/users/",
        "addresses": "/portal/company/addresses/",
        "profile": "/portal/profile/",
        "why": "/portal/products/A-1/why/?quantity=3",
    }
    for name, url in pages.items():
        response = walk.page.goto(f"{walk.url}{url}")
        assert response.status == 200, (url, response.status)
        walk.shot(name)
    assert "1.100,00\u00a0₺" in walk.page.goto(f"{walk.url}/portal/quotes/{quote.number}/").text()
    assert errors == []
    # on a phone no page scrolls sideways: a wide table scrolls inside its own box (the
    # return form's hidden labels escaped it: 474 px wide on a 375 px phone)
    from apps.orders.services import order_place, order_set_status

    delivered = order_place(
        user=owner, payment_method="on_account", items=[{"sku": "B-2", "quantity": 2}]
    )
    for status in ("processing", "shipped", "delivered"):
        order_set_status(order=delivered, status=status, actor="erp")
    returnable = {"return": f"/portal/orders/{delivered.number}/return/"}
    walk.page.set_viewport_size({"width": 375, "height": 812})
    for name, url in {
        **pages,
        **returnable,
        "cart": "/portal/cart/",
        "orders": "/portal/orders/",
    }.items():
        walk.page.goto(f"{walk.url}{url}")
        width = walk.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, (url, width)
        if name in ("quote", "list"):
            walk.shot(f"phone-{name}")
