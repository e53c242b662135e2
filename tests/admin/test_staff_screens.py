"""What staff found hard in the back office (issue 20): the product page shows its prices,
campaigns and stock (each to those who may see it, in a constant number of queries), inline
rows carry readable labels, the customer page links to its dealer's special prices instead of
an inline of date widgets, the special-price list filters and is scoped, the token blacklist's
internal models stay off the start page, labels start with a capital, and staff switch the
admin between English and Turkish."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from apps.accounts.models import CreditLimitChange
from apps.accounts.services.customers import customer_assign_sales_rep
from apps.campaigns.models import Campaign
from apps.orders.models import OrderLine
from apps.pricing.models import Price, PriceList, SpecialPrice
from apps.pricing.services import price_set, special_price_set
from tests.catalog.factories import (
    CategoryFactory,
    ProductFactory,
    StockLevelFactory,
    WarehouseFactory,
)
from tests.factories import CustomerFactory
from tests.finance.helpers import make_order

pytestmark = [pytest.mark.django_db]

PRODUCTS = "/admin/catalog/product/"
CUSTOMERS = "/admin/accounts/customer/"
SPECIALS = "/admin/pricing/specialprice/"


def lists() -> dict[str, PriceList]:
    return {p.code: p for p in PriceList.objects.all()}


def page_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


# --- the product page: prices, campaigns, stock ----------------------------------------------


@pytest.fixture
def panel():
    """A panel in two warehouses with LIST breaks at 1 and 10, a B price, a live campaign on
    its category and one dealer's special price."""
    product = ProductFactory(sku="PNL-60", name="Panel 60x60", category=CategoryFactory())
    price_set(price_list=lists()["LIST"], product=product, min_quantity=1, amount="64.1830")
    price_set(price_list=lists()["LIST"], product=product, min_quantity=10, amount="1250")
    price_set(price_list=lists()["B"], product=product, min_quantity=1, amount="58.5")
    StockLevelFactory(
        product=product, warehouse=WarehouseFactory(code="IST", name="Main warehouse"), on_hand=57
    )
    StockLevelFactory(
        product=product,
        warehouse=WarehouseFactory(code="ANK", name="Ankara depot"),
        on_hand=1500,
        reserved=20,
    )
    campaign = Campaign.objects.create(
        name="Spring lighting", discount_type="percentage", discount_value=Decimal("10")
    )
    special_price_set(
        customer=CustomerFactory(code="DLR1"), product=product, min_quantity=1, amount="55"
    )
    return product, campaign


def test_the_product_page_shows_prices_campaigns_and_stock_to_a_sales_manager(staff_client, panel):
    product, _campaign = panel
    content = page_of(staff_client("Sales Manager"), f"{PRODUCTS}{product.pk}/change/")
    assert 'data-panel="prices"' in content
    assert "64.183 ₺" in content and "1,250.00 ₺" in content and "58.50 ₺" in content
    assert 'data-panel="campaigns"' in content and "Spring lighting" in content
    assert 'data-panel="stock"' in content
    assert "Main warehouse" in content and "1,500" in content and "1,480" in content
    assert f"{SPECIALS}?product__id__exact={product.pk}" in content
    # a sales manager sees the special prices of their own dealers only: none assigned yet
    assert "Special prices of dealers (0)" in content


def test_a_content_manager_sees_stock_but_no_prices_or_campaigns(staff_client, panel):
    product, _campaign = panel
    content = page_of(staff_client("Content Manager"), f"{PRODUCTS}{product.pk}/change/")
    assert 'data-panel="stock"' in content and "Main warehouse" in content
    assert 'data-panel="prices"' not in content and "64.183" not in content
    assert 'data-panel="special-prices"' not in content and SPECIALS not in content
    assert "credit limit" not in content.lower()


def test_customer_service_sees_stock_and_no_prices(staff_client, panel):
    product, _campaign = panel
    content = page_of(staff_client("Customer Service"), f"{PRODUCTS}{product.pk}/change/")
    assert 'data-panel="stock"' in content
    assert 'data-panel="prices"' not in content and "1,250.00" not in content


def test_the_product_page_takes_as_many_queries_for_one_price_as_for_many(staff_client):
    client = staff_client(superuser=True)
    product = ProductFactory(category=CategoryFactory())
    price_set(price_list=lists()["LIST"], product=product, min_quantity=1, amount="10")
    StockLevelFactory(product=product, warehouse=WarehouseFactory(code="W00"))
    url = f"{PRODUCTS}{product.pk}/change/"

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    count()  # warm: the header's work queues and the campaign rules are cached
    one = count()
    for quantity in range(2, 12):
        price_set(price_list=lists()["A"], product=product, min_quantity=quantity, amount="9")
        StockLevelFactory(product=product, warehouse=WarehouseFactory(code=f"W{quantity:02d}"))
    for n in range(5):
        special_price_set(customer=CustomerFactory(), product=product, min_quantity=1, amount=n)
    assert count() == one


# --- readable labels ----------------------------------------------------------------------------


def test_rows_are_labelled_in_words_with_money_in_two_decimals_and_the_currency(panel):
    product, _campaign = panel
    levels = product.stock_levels.select_related("warehouse").order_by("warehouse__code")
    assert [str(level) for level in levels] == [
        "Ankara depot: 1,500 on hand, 20 reserved",
        "Main warehouse: 57 on hand, 0 reserved",
    ]
    price = Price.objects.select_related("price_list", "product").get(
        min_quantity=10, product=product
    )
    assert str(price) == "LIST · PNL-60, from 10 units: 1,250.00 ₺"
    first = Price.objects.select_related("price_list", "product").get(price_list__code="B")
    assert str(first) == "B · PNL-60, from 1 unit: 58.50 ₺"
    special = SpecialPrice.objects.select_related("customer", "product").get()
    assert str(special) == "DLR1 · PNL-60, from 1 unit: 55.00 ₺"
    change = CreditLimitChange(
        customer=CustomerFactory(), old_limit=Decimal("1000"), new_limit=Decimal("25000.5")
    )
    assert str(change) == "Credit limit 1,000.00 ₺ → 25,000.50 ₺"
    with translation.override("tr"):
        assert str(price) == "LIST · PNL-60, from 10 units: 1.250,00 ₺" or "1.250,00 ₺" in str(
            price
        )


def test_a_label_never_costs_a_query_on_an_unloaded_relation(panel):
    product, _campaign = panel
    price = Price.objects.filter(product=product, min_quantity=10).get()
    with CaptureQueriesContext(connection) as queries:
        label = str(price)
    assert len(queries) == 0 and label.endswith("1,250.00 ₺")


def test_the_order_page_lines_and_history_read_as_words(staff_client):
    order = make_order(CustomerFactory(), status="confirmed", gross="120.00")
    product = ProductFactory(sku="KBL-001")
    OrderLine.objects.create(
        order=order,
        product=product,
        sku=product.sku,
        name=product.name,
        quantity=2,
        unit_net=Decimal("50.0000"),
        discount=Decimal("0"),
        price_source="list",
        vat_rate=20,
        line_net=Decimal("100.00"),
        line_vat=Decimal("20.00"),
        line_gross=Decimal("120.00"),
    )
    content = page_of(staff_client(superuser=True), f"/admin/orders/order/{order.pk}/change/")
    assert "KBL-001: 2 × 50.00 ₺" in content
    assert "KBL-001 x2" not in content


# --- the customer page and the special-price list ---------------------------------------------


def test_the_customer_page_links_to_its_special_prices_instead_of_an_inline(staff_client):
    dealer = CustomerFactory(code="DLR7")
    for quantity in (1, 5, 10):
        special_price_set(
            customer=dealer,
            product=ProductFactory(),
            min_quantity=quantity,
            amount="9.5",
        )
    client = staff_client(superuser=True)
    response = client.get(f"{CUSTOMERS}{dealer.pk}/change/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "special_prices-TOTAL_FORMS" not in content  # no inline of date widgets
    assert not [
        i for i in response.context["inline_admin_formsets"] if i.opts.model is SpecialPrice
    ]
    link = f"{SPECIALS}?customer__id__exact={dealer.pk}"
    assert f'href="{link}"' in content and "Special prices (3)" in content
    listed = client.get(link)
    assert listed.status_code == 200
    assert {row.customer_id for row in listed.context["cl"].result_list} == {dealer.pk}


def test_the_special_price_list_filters_by_dealer_product_and_validity(staff_client):
    client = staff_client(superuser=True)
    first, second = CustomerFactory(code="DLR1"), CustomerFactory(code="DLR2")
    cable, lamp = ProductFactory(sku="CBL-1"), ProductFactory(sku="LMP-1")
    later = timezone.now() + datetime.timedelta(days=30)
    special_price_set(customer=first, product=cable, min_quantity=1, amount="5")
    special_price_set(customer=first, product=lamp, min_quantity=1, amount="6", valid_from=later)
    special_price_set(customer=second, product=cable, min_quantity=1, amount="7")

    def found(**params) -> set[tuple[str, str]]:
        response = client.get(SPECIALS, params)
        assert response.status_code == 200
        return {(r.customer.code, r.product.sku) for r in response.context["cl"].result_list}

    assert found(customer__id__exact=first.pk) == {("DLR1", "CBL-1"), ("DLR1", "LMP-1")}
    assert found(product__id__exact=cable.pk) == {("DLR1", "CBL-1"), ("DLR2", "CBL-1")}
    assert found(validity="scheduled") == {("DLR1", "LMP-1")}
    assert found(q="lmp-1") == {("DLR1", "LMP-1")}
    content = client.get(SPECIALS).content.decode()
    assert "By dealer" in content or "By customer" in content


def test_a_sales_manager_sees_only_their_dealers_special_prices_and_links(staff_client):
    client = staff_client("Sales Manager")
    mine, other = CustomerFactory(code="MINE1"), CustomerFactory(code="OTHER1")
    customer_assign_sales_rep(customer=mine, rep=client.user, by=None)
    product = ProductFactory()
    special_price_set(customer=mine, product=product, min_quantity=1, amount="5")
    special_price_set(customer=other, product=product, min_quantity=1, amount="6")

    listed = client.get(SPECIALS, {"customer__id__exact": other.pk})
    assert listed.status_code == 200 and list(listed.context["cl"].result_list) == []
    everything = client.get(SPECIALS).context["cl"].result_list
    assert {row.customer.code for row in everything} == {"MINE1"}
    product_page = page_of(client, f"{PRODUCTS}{product.pk}/change/")
    assert "Special prices of dealers (1)" in product_page
    assert client.get(f"{CUSTOMERS}{other.pk}/change/").status_code in (302, 404)


# --- the start page -----------------------------------------------------------------------------


def test_the_token_blacklist_models_are_not_on_the_start_page_of_a_super_admin(staff_client):
    client = staff_client(superuser=True)
    content = page_of(client, "/admin/")
    assert "outstandingtoken" not in content and "blacklistedtoken" not in content
    assert "token_blacklist" not in content
    assert client.get("/admin/token_blacklist/").status_code == 404  # no app page either
    # still reachable by URL for a super admin; other staff are refused
    assert client.get("/admin/token_blacklist/outstandingtoken/").status_code == 200
    assert staff_client("Sales Manager").get(
        "/admin/token_blacklist/outstandingtoken/"
    ).status_code in (302, 403)


def test_the_start_page_puts_the_figures_above_the_app_list(staff_client):
    content = page_of(staff_client(superuser=True), "/admin/")
    assert "admin/backoffice.css" in content
    figures, apps = content.index('id="backoffice-figures"'), content.index('id="content-main"')
    assert figures < apps


# --- labels and language ------------------------------------------------------------------------


def test_form_labels_start_with_a_capital(staff_client):
    client = staff_client(superuser=True)
    product = ProductFactory()
    content = page_of(client, f"{PRODUCTS}{product.pk}/change/")
    assert ">Category:</label>" in content and ">Barcodes:</label>" in content
    assert ">category:<" not in content and ">barcodes:<" not in content
    content = page_of(client, "/admin/catalog/category/add/")
    assert ">Parent:</label>" in content


def test_the_language_switch_turns_the_admin_turkish_and_the_choice_sticks(staff_client):
    client = staff_client(superuser=True)
    english = page_of(client, "/admin/")
    assert 'action="/i18n/setlang/"' in english and 'value="tr"' in english
    response = client.post("/i18n/setlang/", {"language": "tr", "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.cookies["django_language"].value == "tr"
    turkish = page_of(client, "/admin/")
    assert '<html lang="tr"' in turkish
    assert "Site yönetimi" in turkish  # Django's own "Site administration", in Turkish
    client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    assert "Log out" in page_of(client, "/admin/")


def test_turkish_labels_starting_with_i_are_capitalised_with_a_dotted_capital():
    """Python's ``"i".upper()`` is ``I``; Turkish writes ``İ``: Django's ``capfirst`` gave
    "Iptal edildi" and "Içerik türü". In English nothing changes."""
    from django.template import Context, Template

    from apps.core.models import status_label
    from apps.orders.models import OrderStatus  # here: what only this test reads
    from apps.returns.models import ReturnPhoto

    with translation.override("tr"):
        assert status_label(OrderStatus, "cancelled") == "İptal edildi"
        assert Template("{{ word|capfirst }}").render(Context({"word": "iade"})) == "İade"
        label = ReturnPhoto._meta.get_field("content_type").formfield().label
        assert label == "İçerik türü"
        assert status_label(OrderStatus, "shipped") == "Sevk edildi"
    with translation.override("en"):
        assert status_label(OrderStatus, "cancelled") == "Cancelled"
        assert Template("{{ word|capfirst }}").render(Context({"word": "iade"})) == "Iade"


def test_finance_lists_show_money_as_people_read_it(staff_client, integration_client):
    """The invoice, payment, confirmation and card payment lists showed raw decimals
    ("15529.54"), the order list "15,529.54 ₺"; a fixed campaign discount read "5.0000 TRY"."""
    from apps.finance.models import Invoice  # here: what only this test reads
    from tests.finance import helpers as h

    CustomerFactory(code="BAYI-1")
    big = h.line(quantity="1", unit_net="12941.28")  # 12,941.28 + 20 % = 15,529.54
    answer = h.post(integration_client(), h.INVOICES, [h.invoice(lines=[big])])
    assert answer["created"] == 1, answer["errors"]
    assert Invoice.objects.get().gross_total == Decimal("15529.54")
    client = staff_client(superuser=True)
    page = page_of(client, "/admin/finance/invoice/")
    assert "15,529.54 ₺" in page and ">15529.54<" not in page
    campaign = Campaign.objects.create(
        name="Fixed five", discount_type="fixed", discount_value=Decimal("5")
    )
    assert "5.00 ₺" in page_of(client, f"/admin/campaigns/campaign/?q={campaign.name}")
