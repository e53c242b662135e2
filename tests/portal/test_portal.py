"""The dealer portal's pages over HTTP (Django's test client): signing in with the API's
lockout rules, the purchase path on the same services as the API, company isolation, Turkish
by default."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.utils import translation

from apps.core.clock import business_today
from apps.orders.models import Order
from tests.orders.conftest import Shop

pytestmark = [pytest.mark.django_db]

PASSWORD = "Test-Password-2026"


@pytest.fixture
def shop(dealer_client):
    shop = Shop(dealer_client)
    shop.product("A-1", price="1234.5", stock=50, name="Bakır kablo 3x2,5")
    shop.product("B-2", price="10", stock=0, name="Priz")
    return shop


def browser(shop, role="owner") -> tuple[Client, object]:
    from tests.factories import DealerUserFactory

    user = DealerUserFactory(customer=shop.customer, role=role, password=PASSWORD)
    client = Client()
    response = client.post("/portal/login/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client, user


def test_the_catalog_and_the_product_page_show_the_products_pictures(shop, settings, tmp_path):
    """The demo made 60 pictures and the API listed them; the portal showed none."""
    from apps.catalog.models import Product, ProductImage  # here: the pictures this test adds
    from tests.catalog.test_images import upload

    settings.MEDIA_ROOT = str(tmp_path)
    product = Product.objects.get(sku="A-1")
    first = ProductImage.objects.create(
        product=product, image=upload("front.png"), is_primary=True, alt_text="Front"
    )
    second = ProductImage.objects.create(product=product, image=upload("side.png"), sort_order=1)
    client, _user = browser(shop)

    catalog = client.get("/portal/catalog/").content.decode()
    assert catalog.count('data-testid="product-image"') == 1  # B-2 has none
    assert f'src="{first.image.url}"' in catalog  # the primary one, until its thumbnail is made
    page = client.get("/portal/products/A-1/").content.decode()
    assert f'src="{first.image.url}" alt="Front"' in page
    assert f'src="{second.image.url}" alt="Bakır kablo 3x2,5"' in page
    assert "product-images" not in client.get("/portal/products/B-2/").content.decode()


def test_a_sku_with_a_slash_opens_everywhere_it_is_listed(shop):
    """Keys take "/" (KBL/001): the catalog and the cart answered 500 (their links to the
    product could not be made) and the product page and the API's product 404."""
    shop.product("KBL/001", price="20", stock=5, name="Kablo bölmeli")
    client, _user = browser(shop)
    assert "/portal/products/KBL/001/" in client.get("/portal/catalog/").content.decode()
    page = client.get("/portal/products/KBL/001/")
    assert page.status_code == 200 and "Kablo bölmeli" in page.content.decode()
    assert client.get("/portal/products/KBL%2F001/").status_code == 200
    assert client.get("/portal/products/KBL/001/why/").status_code == 200
    assert client.post("/portal/cart/", {"sku": "KBL/001", "quantity": "1"}).status_code == 302
    assert client.get("/portal/cart/").status_code == 200
    api = shop.client()
    assert api.get("/api/v1/products/KBL%2F001").json()["sku"] == "KBL/001"
    assert api.get("/api/v1/products/KBL/001").status_code == 200
    explained = api.get("/api/v1/products/KBL/001/price-explanation")
    assert explained.status_code == 200, explained.content[:300]
    assert api.get("/api/v1/products/A-1/price-explanation").status_code == 200
    # an address with the SKU written decomposed is the product, as a body's text is
    shop.product("ÇAY/1", price="5", stock=1, name="Çay")
    assert api.get("/api/v1/products/C%CC%A7AY%2F1").json()["sku"] == "ÇAY/1"
    assert client.get("/portal/products/C%CC%A7AY/1/").status_code == 200


def test_pages_need_a_signed_in_dealer(client):
    response = client.get("/portal/catalog/")
    assert response.status_code == 302 and response["Location"].startswith("/portal/login/")


def test_a_company_suspended_after_sign_in_is_signed_out_and_orders_nothing(shop):
    """As the API refuses the company's tokens at once: the next portal page is the sign-in
    page saying why, and the browser is signed out (the checkout places nothing)."""
    client, _user = browser(shop)
    assert client.get("/portal/cart/").status_code == 200
    shop.customer.status = "suspended"
    shop.customer.save(update_fields=["status"])
    refused = client.post("/portal/checkout/", {"payment_method": "on_account"})
    assert refused.status_code == 401
    assert "This company is suspended." in refused.content.decode() or "askıya" in (
        refused.content.decode()
    )
    assert not Order.objects.exists()
    shop.customer.status = "active"
    shop.customer.save(update_fields=["status"])
    after = client.get("/portal/cart/")  # signed out: a new sign-in is needed
    assert after.status_code == 302 and after["Location"].startswith("/portal/login/")


def test_signing_in_to_a_company_waiting_for_approval_says_so(shop):
    """The right password of a company that may not sign in: the form says why, with the
    API's status (403: the person is known, the company not allowed)."""
    from tests.factories import DealerUserFactory

    user = DealerUserFactory(customer=shop.customer, role="owner", password=PASSWORD)
    shop.customer.status = "pending"
    shop.customer.save(update_fields=["status"])
    client = Client()
    refused = client.post("/portal/login/", {"email": user.email, "password": PASSWORD})
    assert refused.status_code == 403
    assert "onay" in refused.content.decode().lower()
    assert client.get("/portal/cart/").status_code == 302  # not signed in


def test_a_person_switched_off_after_sign_in_is_told_so_not_shown_a_bare_sign_in_form(shop):
    """The next page was the sign-in form with no word; only signing in again said why."""
    client, user = browser(shop)
    assert client.get("/portal/cart/").status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    refused = client.get("/portal/cart/")
    assert refused.status_code == 401
    assert "Bu hesap aktif değil." in refused.content.decode()
    again = client.get("/portal/cart/")  # signed out: the plain way to the sign-in form
    assert again.status_code == 302 and again["Location"].startswith("/portal/login/")


def test_signing_in_returns_to_the_page_asked_for_with_every_filter(shop):
    """``next`` carries the whole address, every parameter of the filtered list included."""
    from tests.factories import DealerUserFactory

    user = DealerUserFactory(customer=shop.customer, role="owner", password=PASSWORD)
    client = Client()
    wanted = "/portal/orders/?status=confirmed&created_from=2026-01-01"
    login = client.get(wanted)["Location"]
    page = client.get(login).content.decode()
    assert "created_from" in page
    from urllib.parse import parse_qs, urlsplit

    next_url = parse_qs(urlsplit(login).query)["next"][0]
    assert next_url == wanted
    signed_in = client.post(login, {"email": user.email, "password": PASSWORD, "next": next_url})
    assert signed_in.status_code == 302 and signed_in["Location"] == wanted


def test_staff_signing_in_to_the_portal_are_pointed_to_the_back_office(db):
    from tests.factories import StaffUserFactory

    staff = StaffUserFactory(password=PASSWORD)
    response = Client().post("/portal/login/", {"email": staff.email, "password": PASSWORD})

    page = response.content.decode()
    assert response.status_code == 403
    assert "personel yönetim panelini kullanır" in page and 'href="/admin/"' in page


def test_signing_in_follows_the_lockout_rules(shop):
    from tests.factories import DealerUserFactory

    user = DealerUserFactory(customer=shop.customer, role="owner", password=PASSWORD)
    client = Client()
    for _ in range(5):
        response = client.post("/portal/login/", {"email": user.email, "password": "wrong"})
        assert response.status_code == 401
    response = client.post("/portal/login/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 401 and "15" in response.content.decode()


def test_the_portal_speaks_turkish_unless_english_is_chosen(shop):
    client, _user = browser(shop)
    response = client.get("/portal/catalog/")
    page = response.content.decode()
    assert "Sepete ekle" in page and 'lang="tr"' in page
    assert response["Content-Language"] == "tr"  # the header says what the page is in
    assert "1.234,50\u00a0₺" in page  # Turkish money format
    assert ">Stokta</span>" in page and ">Stokta yok</span>" in page  # 50, B-2: none
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/portal/catalog/"})
    # the choice is kept across browser restarts (a year), not only for the session
    assert switched.cookies["django_language"]["max-age"] == 365 * 24 * 60 * 60
    response = client.get("/portal/catalog/")
    page = response.content.decode()
    assert "Add to cart" in page and "1,234.50\u00a0₺" in page
    assert response["Content-Language"] == "en"


def test_the_purchase_path_search_cart_checkout_order(shop, django_assert_max_num_queries):
    client, _user = browser(shop)
    with django_assert_max_num_queries(20):
        page = client.get("/portal/catalog/?search=kablo")
    assert "A-1" in page.content.decode() and "B-2" not in page.content.decode()
    partial = client.get("/portal/catalog/?search=kablo", HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and "A-1" in partial.content.decode()

    response = client.post(
        "/portal/cart/", {"sku": "A-1", "quantity": "2", "back": "/portal/cart/"}
    )
    assert response.status_code == 302
    cart = client.get("/portal/cart/").content.decode()
    assert "2.962,80\u00a0₺" in cart  # 2 x 1234.50 + 20 % VAT
    response = client.post(
        "/portal/checkout/",
        {
            "payment_method": "on_account",
            "shipping_address_id": shop.shipping.pk,
            "billing_address_id": shop.billing.pk,
            "po_number": "PO-9",
        },
    )
    assert response.status_code == 302
    order = Order.objects.get(po_number="PO-9")
    assert response["Location"] == f"/portal/orders/{order.number}/"
    detail = client.get(response["Location"]).content.decode()
    with translation.override("tr"):
        assert order.number in detail and order.get_status_display() in detail
    assert order.number in client.get("/portal/orders/").content.decode()


def test_a_system_note_of_an_order_made_through_the_api_reads_in_turkish(shop):
    # the API placed it (English): the note was stored as "Placed."; the portal reads Turkish
    from tests.orders.conftest import place

    number = place(shop.owner, [("A-1", 1)]).json()["number"]
    assert Order.objects.get(number=number).status_history.first().note == "Placed."
    client, _user = browser(shop)
    page = client.get(f"/portal/orders/{number}/").content.decode()
    with translation.override("tr"):
        placed = translation.gettext("Placed.")
    assert placed != "Placed." and f"· {placed}" in page


def test_checkout_shows_the_services_refusals(shop):
    client, _user = browser(shop)
    client.post("/portal/cart/", {"sku": "A-1", "quantity": "2"})
    response = client.post(
        "/portal/checkout/",
        {"payment_method": "barter", "shipping_address_id": shop.shipping.pk},
    )
    assert response.status_code == 400
    assert Order.objects.count() == 0


def test_checkout_short_of_stock_names_each_short_line_and_what_is_there(shop):
    client, _user = browser(shop)
    client.post("/portal/cart/", {"sku": "A-1", "quantity": "60"})  # 50 on hand
    client.post("/portal/cart/", {"sku": "B-2", "quantity": "1"})  # none
    response = client.post(
        "/portal/checkout/",
        {
            "payment_method": "on_account",
            "shipping_address_id": shop.shipping.pk,
            "billing_address_id": shop.billing.pk,
        },
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "2 satır için yeterli stok yok." in page
    assert "A-1: 60 istendi, 50 mevcut." in page and "B-2: 1 istendi, 0 mevcut." in page
    assert Order.objects.count() == 0


def test_another_companys_order_is_not_found(shop, dealer_client):
    client, _user = browser(shop)
    other = Shop(dealer_client)
    from tests.finance.helpers import make_order

    foreign = make_order(other.customer)
    assert client.get(f"/portal/orders/{foreign.number}/").status_code == 404
    assert client.post(f"/portal/orders/{foreign.number}/", {"reason": "x"}).status_code == 404


def test_a_viewer_cannot_place_orders(shop):
    client, _user = browser(shop, role="viewer")
    client.post("/portal/cart/", {"sku": "A-1", "quantity": "1"})
    assert Order.objects.count() == 0


def test_the_landing_page_leads_dealers_to_the_portal(client):
    assert re.search(r'href="/portal/"', client.get("/").content.decode())


def _checkout(client, shop, method="on_account", po="PO-1"):
    client.post("/portal/cart/", {"sku": "A-1", "quantity": "1"})
    return client.post(
        "/portal/checkout/",
        {
            "payment_method": method,
            "shipping_address_id": shop.shipping.pk,
            "billing_address_id": shop.billing.pk,
            "po_number": po,
        },
    )


def test_a_refused_checkout_keeps_the_choices_made_and_names_the_field_at_fault(shop):
    """The page came back with the first payment method ticked and the default addresses:
    pressing "Place order" again ordered on account to the default address."""
    from tests.factories import AddressFactory  # here: a second address to choose

    client, _user = browser(shop)
    client.post("/portal/cart/", {"sku": "A-1", "quantity": "1"})
    other = AddressFactory(customer=shop.customer, type="shipping", title="Depo 2")
    response = client.post(
        "/portal/checkout/",
        {
            "payment_method": "bank_transfer",
            "shipping_address_id": other.pk,
            "billing_address_id": shop.billing.pk,
            "po_number": "P" * 70,
            "note": "keep me",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert f'<option value="{other.pk}" selected>' in page
    assert f'<option value="{shop.shipping.pk}" selected>' not in page
    assert 'value="bank_transfer" checked' in page and 'value="on_account" checked' not in page
    assert "Satın alma sipariş numaranız: En fazla 64 karakter." in page
    assert "keep me" in page


def test_an_owner_decides_orders_over_a_buyers_limit_in_the_approvals_inbox(shop):
    from decimal import Decimal

    buyer, buyer_user = browser(shop, role="purchasing")
    buyer_user.order_limit = Decimal("100.00")
    buyer_user.save(update_fields=["order_limit"])
    assert _checkout(buyer, shop, po="PO-A").status_code == 302
    assert _checkout(buyer, shop, po="PO-B").status_code == 302
    first, second = Order.objects.order_by("id")
    assert first.status == "awaiting_approval"
    assert buyer.get("/portal/approvals/").status_code == 403  # not the buyer's to decide

    owner, _user = browser(shop)
    inbox = owner.get("/portal/approvals/").content.decode()
    assert first.number in inbox and second.number in inbox
    owner.post("/portal/approvals/", {"number": first.number, "decision": "approve"})
    owner.post("/portal/approvals/", {"number": second.number, "decision": "reject"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "confirmed"
    assert second.status == "awaiting_approval"  # a rejection needs a reason
    owner.post(
        "/portal/approvals/", {"number": second.number, "decision": "reject", "reason": "No"}
    )
    second.refresh_from_db()
    assert second.status == "rejected"


def test_a_card_order_is_paid_from_its_page_through_the_gateway(shop, paynet_simulator, settings):
    from urllib.parse import urlsplit

    paynet_simulator.reset()
    settings.PAYNET_BASE_URL = paynet_simulator.url
    settings.PAYNET_SECRET_KEY = paynet_simulator.secret_key
    settings.PAYMENT_RETURN_BASE_URL = "http://testserver"
    client, _user = browser(shop)
    response = _checkout(client, shop, method="card", po="PO-CARD")
    order = Order.objects.get(po_number="PO-CARD")
    assert order.status == "awaiting_payment"
    page = client.get(response["Location"]).content.decode()
    assert f"/portal/orders/{order.number}/pay/" in page
    to_bank = client.post(f"/portal/orders/{order.number}/pay/")
    assert to_bank.status_code == 302 and to_bank["Location"].startswith(paynet_simulator.url)
    session_id = to_bank["Location"].rstrip("/").rsplit("/", 1)[-1]
    answer = paynet_simulator.authenticate(session_id)
    result = client.post(urlsplit(answer["return_url"]).path, answer["fields"])
    assert result.status_code == 200
    order.refresh_from_db()
    assert order.status == "confirmed"


@pytest.fixture
def invoiced(shop, integration_client):
    from tests.finance import helpers as h

    shop.customer.code = "BAYI-1"
    shop.customer.save(update_fields=["code"])
    record = h.invoice(issue_date="2026-01-02", due_date="2026-02-01")
    record["xml"] = h.b64(b"<Invoice/>")
    answer = h.post(integration_client(), h.INVOICES, [record])
    assert answer["created"] == 1, answer["errors"]
    return record["number"]


def test_an_invoice_file_the_storage_cannot_give_is_a_503_with_retry_after(
    shop, invoiced, settings
):
    """As every 503 (the API's for the same file has it): a client knows when to ask again."""
    from tests.core.test_health import dead_s3_storage  # here: the storage, down

    client, _user = browser(shop, role="finance")
    dead_s3_storage(settings)
    response = client.get(f"/portal/invoices/{invoiced}/xml/")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert "Bu belge şu anda oluşturulamıyor" in response.content.decode()


def test_a_statement_pdf_longer_than_it_may_be_is_the_form_saying_why(shop, invoiced, settings):
    settings.STATEMENT_PDF_MAX_ENTRIES = 0
    client, _user = browser(shop, role="finance")
    refused = client.get("/portal/statement/?date_from=2026-01-01&format=pdf")
    assert refused.status_code == 400 and refused.content[:4] != b"%PDF"
    assert "CSV olarak indirin" in refused.content.decode()
    assert client.get("/portal/statement/?date_from=2026-01-01&format=csv").status_code == 200


def test_invoices_and_statement_download_for_the_finance_roles(shop, invoiced):
    client, _user = browser(shop, role="finance")
    page = client.get("/portal/invoices/").content.decode()
    assert (invoiced in page and "Vadesi geçmiş" in page) or "vadesi geçmiş" in page.lower()
    pdf = client.get(f"/portal/invoices/{invoiced}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content if pdf.streaming else [pdf.content])[:4] == b"%PDF"
    xml = client.get(f"/portal/invoices/{invoiced}/xml/")
    assert xml.status_code == 200 and xml.content == b"<Invoice/>"
    csv = client.get("/portal/statement/?date_from=2026-01-01&format=csv")
    assert csv.status_code == 200 and invoiced.encode() in csv.content
    assert b";" in csv.content  # the Turkish Excel layout
    statement = client.get("/portal/statement/?date_from=2026-01-01&format=pdf")
    assert statement.status_code == 200 and statement.content[:4] == b"%PDF"
    for day in ("2026-1-1", "２026-01-01"):  # YYYY-MM-DD in ASCII digits, as the API
        odd = client.get(f"/portal/statement/?date_from={day}&format=csv")
        assert odd.status_code == 400 and b";" not in odd.content[:20], day
    bad = client.get("/portal/statement/?date_from=2026-12-31&date_to=2026-01-01&format=pdf")
    assert bad.status_code == 400 and b"%PDF" not in bad.content[:4]  # the form, saying why
    # in the portal's words, not the API's parameter names
    assert "Başlangıç tarihinden önce olamaz." in bad.content.decode()
    assert "date_from tarihinden" not in bad.content.decode()
    prices = client.get("/portal/catalog/?price_min=10&price_max=5").content.decode()
    assert "En düşük fiyattan küçük olmamalıdır." in prices and "price_min değer" not in prices
    # the API's 10-year limit, also when one end is left to its default
    for query in ("date_from=0001-01-01&date_to=9999-12-31", "date_from=2000-01-01"):
        long = client.get(f"/portal/statement/?{query}&format=csv")
        assert long.status_code == 400 and "en fazla 10 yıl" in long.content.decode()
    # the form's dates are ISO, as a date field takes them, in Turkish too (not 01/01/2026)
    form = client.get("/portal/statement/").content.decode()
    assert re.search(r'name="date_from" value="\d{4}-\d\d-\d\d"', form), form
    assert re.search(r'name="date_to" value="\d{4}-\d\d-\d\d"', form)


def test_the_overdue_invoices_page_says_what_else_is_overdue(shop, invoiced):
    """The start page's overdue figure holds every debt past due, an adjustment too: the
    overdue invoices it links to say what the invoices alone leave out, rather than add up
    to less without a word."""
    import datetime

    from apps.finance.services.ledger import ledger_post

    ledger_post(
        customer=shop.customer,
        kind="adjustment",
        amount="200.00",
        reason="Kargo farkı",
        entry_date=datetime.date(2026, 3, 1),
    )
    client, _user = browser(shop, role="finance")

    page = client.get("/portal/invoices/?status=overdue").content.decode()
    assert invoiced in page
    assert "Bu faturalardan başka vadesi geçmiş: 200,00\u00a0₺" in page
    assert "other-overdue" not in client.get("/portal/invoices/").content.decode()


def test_the_statement_form_ends_at_an_invoice_dated_tomorrow(shop, integration_client):
    from tests.finance import helpers as h

    shop.customer.code = "BAYI-1"
    shop.customer.save(update_fields=["code"])
    tomorrow = business_today() + datetime.timedelta(days=1)
    number = f"ABC{tomorrow.year}000000007"
    record = h.invoice(
        number=number,
        issue_date=tomorrow.isoformat(),
        due_date=(tomorrow + datetime.timedelta(days=30)).isoformat(),
    )
    assert h.post(integration_client(), h.INVOICES, [record])["created"] == 1
    client, _user = browser(shop, role="finance")
    form = client.get("/portal/statement/").content.decode()
    assert f'name="date_to" value="{tomorrow.isoformat()}"' in form
    csv = client.get("/portal/statement/?format=csv")
    assert csv.status_code == 200 and number.encode() in csv.content


def test_the_account_pages_are_not_for_purchasing_nor_another_company(
    shop, invoiced, dealer_client
):
    buyer, _user = browser(shop, role="purchasing")
    for url in ("/portal/invoices/", f"/portal/invoices/{invoiced}/pdf/", "/portal/statement/"):
        refused = buyer.get(url)
        # the portal's own page in its language, with its navigation, not Django's bare 403
        assert refused.status_code == 403, url
        page = refused.content.decode()
        assert '<html lang="tr"' in page and "Rolünüz için değil" in page, url
        assert buyer.head(url).status_code == 403, url  # HEAD needs what GET needs
    stranger_shop = Shop(dealer_client)
    stranger, _user = browser(stranger_shop, role="owner")
    assert stranger.get(f"/portal/invoices/{invoiced}/pdf/").status_code == 404
    assert invoiced not in stranger.get("/portal/invoices/").content.decode()


def test_why_this_price_explains_the_dealers_own_price(shop):
    client, _user = browser(shop)
    assert "Bu fiyat neden?" in client.get("/portal/products/A-1/").content.decode()
    fragment = client.get("/portal/products/A-1/why/?quantity=2", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
    assert 'data-testid="why"' in fragment.content.decode()
    page = client.get("/portal/products/A-1/why/?quantity=2")  # without JavaScript: a page
    assert "<html" in page.content.decode() and 'data-testid="why"' in page.content.decode()
    refused = client.get("/portal/products/A-1/why/?quantity=0")  # a page too, with the reason
    assert refused.status_code == 400 and "<html" in refused.content.decode()
    assert "1.234,50 ₺" in page.content.decode()  # amounts as the dealer writes them
    assert client.get("/portal/products/NOPE/why/").status_code == 404
    client.post("/portal/cart/", {"sku": "A-1", "quantity": "3"})  # the cart explains each line
    assert "/portal/products/A-1/why/?quantity=3" in client.get("/portal/cart/").content.decode()


def test_a_catalog_page_of_24_priced_products_takes_under_8_queries(
    shop, django_assert_max_num_queries
):
    """The session user with its company and permissions in one query (the API's loader),
    then the count, the page's ids, its products, their images and the dealer's special
    prices: the same selectors as GET products."""
    for i in range(30):
        shop.product(f"P-{i:02d}", price="10", stock=5)
    client, _user = browser(shop)
    client.get("/portal/catalog/")
    with django_assert_max_num_queries(7):
        page = client.get("/portal/catalog/")
    assert page.content.decode().count("Sepete ekle") == 24


def test_a_portal_request_leaves_the_threads_language_as_it_was(shop):
    """The portal speaks Turkish for its own request only: the language must not leak into
    what the same thread runs next (it once turned a later test's English message Turkish)."""
    from django.utils import translation

    client, _user = browser(shop)
    with translation.override("en"):
        assert "Sepete ekle" in client.get("/portal/catalog/").content.decode()
        assert translation.get_language() == "en"


def test_a_refused_choice_is_named_in_the_dealers_words_with_the_code_beside(shop):
    client, _user = browser(shop)
    page = _checkout(client, shop, method="xyz")
    assert page.status_code == 400
    text = page.content.decode()
    assert "cari hesaba (on_account)" in text and "kart (card)" in text
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("how", "status", "says"),
    [
        ("unknown page", 404, "Sayfa bulunamadı"),
        ("another company's order", 404, "Sayfa bulunamadı"),
        ("a viewer at the cart", 403, "Rolünüz"),
        ("GET on a form's address", 405, "Bu adres"),
        ("a form without its token", 403, "Formun süresi doldu"),
    ],
)
def test_errors_are_portal_pages_in_the_portals_language(shop, how, status, says):
    client, _user = browser(shop, role="viewer" if "viewer" in how else "owner")
    if how == "unknown page":
        response = client.get("/portal/no-such-page/")
    elif how == "another company's order":
        response = client.get("/portal/orders/SO-2026-999999/")
    elif how == "a viewer at the cart":
        response = client.get("/portal/cart/")
    elif how == "GET on a form's address":
        response = client.get("/portal/logout/")
    else:
        strict = Client(enforce_csrf_checks=True)
        strict.cookies = client.cookies
        response = strict.post("/portal/cart/", {"sku": "A-1", "quantity": "1"})
    assert response.status_code == status
    page = response.content.decode()
    assert '<html lang="tr">' in page and says in page
    assert response["Content-Language"] == "tr"
    assert 'href="/portal/"' in page  # the portal's navigation, not a bare page


def test_an_address_without_its_final_slash_still_goes_to_the_page(shop):
    client, _user = browser(shop)
    response = client.get("/portal/orders?status=confirmed")
    assert (
        response.status_code == 301 and response["Location"] == "/portal/orders/?status=confirmed"
    )


def test_a_refused_checkout_names_each_line_by_its_sku(shop):
    from apps.catalog.models import Product

    client, _user = browser(shop)
    client.post("/portal/cart/", {"sku": "A-1", "quantity": "1"})
    Product.objects.filter(sku="A-1").update(order_multiple=10, min_order_quantity=10)
    page = _checkout(client, shop)
    assert page.status_code == 400
    text = page.content.decode()
    assert "A-1: " in text
    assert not Order.objects.exists()


def test_a_signed_in_page_is_never_kept_by_a_browser_or_proxy(shop):
    client, _user = browser(shop)
    for url in ("/portal/", "/portal/orders/", "/portal/cart/"):
        cache_control = client.get(url)["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control, url


def test_the_product_page_tells_the_minimum_and_the_multiple_before_the_cart_does(shop):
    """A product sold from 25 in 25s said so only as a problem in the cart."""
    from apps.catalog.models import Product  # here: the rules this test sets

    Product.objects.filter(sku="A-1").update(min_order_quantity=25, order_multiple=25)
    client, _user = browser(shop)
    page = client.get("/portal/products/A-1/").content.decode()
    rules = page[page.index('data-testid="order-rules"') :][:300]
    assert "Minimum sipariş miktarı 25." in rules and "25 adedin katları" in rules
    plain = client.get("/portal/products/B-2/").content.decode()
    assert 'data-testid="order-rules"' not in plain
