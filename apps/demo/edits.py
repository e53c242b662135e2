"""Demo data of the back office's everyday edits, made through the services the admin calls
and under the staff member's name, so the change history of a product, a dealer, a price and
an address has entries to show (the set-based seed writes none), and the admin's "Recent
actions" of each staff member lists theirs:

- the Content Manager adds a line to the descriptions of three products;
- the Finance Manager raises DEMO002's credit limit after a yearly review;
- the Sales Manager raises one LIST price by 5 %;
- DEMO001's owner adds a second shipping address.

Idempotent: a second run finds each edit made and changes nothing (the dealers' step keeps a
credit limit staff set last)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from apps.accounts.models import Address, CreditLimitChange, Customer, User
from apps.accounts.services.addresses import address_create
from apps.accounts.services.customers import customer_set_credit_limit
from apps.catalog.models import Product
from apps.catalog.services.admin_products import product_save
from apps.core.audit import acting_for
from apps.demo.accounts import (
    DEMO_CONTENT_MANAGER_EMAIL,
    DEMO_FINANCE_MANAGER_EMAIL,
    DEMO_SALES_MANAGER_EMAIL,
    admin_logged,
    demo_staff,
)
from apps.demo.catalog import SKU_PREFIX
from apps.pricing.engine import LIST_CODE
from apps.pricing.models import Price, PriceChange
from apps.pricing.services import price_update

DESCRIPTION_NOTE = "Teknik föy 2027 serisine göre güncellendi."
EDITED_PRODUCTS = 3
CREDIT_REVIEW = "Yıllık değerlendirme: ödemeler zamanında"
CREDIT_RAISE = Decimal("25000.00")
PRICE_RAISE = Decimal("1.05")
PRICE_REFERENCE = "demo: zam"
ADDRESS_TITLE = "Gebze depo"


def _products(by: User) -> int:
    edited = 0
    products = Product.objects.filter(sku__startswith=SKU_PREFIX, is_active=True).select_related(
        "category"
    )
    for product in products.order_by("sku")[:EDITED_PRODUCTS]:
        if DESCRIPTION_NOTE in product.description:
            continue
        product.description = f"{product.description}\n\n{DESCRIPTION_NOTE}".strip()
        product_save(product=product, by=by)
        admin_logged(by, product, "description")
        edited += 1
    return edited


def _credit_limit(by: User) -> bool:
    customer = Customer.objects.filter(code="DEMO002").first()
    if (
        customer is None
        or CreditLimitChange.objects.filter(customer=customer, reason=CREDIT_REVIEW).exists()
    ):
        return False
    customer_set_credit_limit(
        customer=customer,
        new_limit=customer.credit_limit + CREDIT_RAISE,
        by=by,
        reason=CREDIT_REVIEW,
    )
    admin_logged(by, customer, "credit limit")
    return True


def _price(by: User) -> bool:
    if PriceChange.objects.filter(reference=PRICE_REFERENCE).exists():
        return False
    price = (
        Price.objects.filter(
            price_list__code=LIST_CODE, product__sku__startswith=SKU_PREFIX, min_quantity=1
        )
        .select_related("price_list", "product")
        .order_by("product__sku")
        .first()
    )
    if price is None:
        return False
    price_update(
        price=price,
        product=price.product,
        min_quantity=price.min_quantity,
        amount=(price.amount * PRICE_RAISE).quantize(Decimal("0.01")),
        valid_from=price.valid_from,
        valid_to=price.valid_to,
        by=by,
        reference=PRICE_REFERENCE,
    )
    admin_logged(by, price, "amount")
    return True


def _address() -> bool:
    customer = Customer.objects.filter(code="DEMO001").first()
    owner = customer and customer.users.filter(email=f"owner@{customer.code.lower()}.example.com")
    owner = owner and owner.first()
    if owner is None or Address.objects.filter(customer=customer, title=ADDRESS_TITLE).exists():
        return False
    with acting_for(owner):
        address_create(
            customer=customer,
            data={
                "type": Address.Type.SHIPPING,
                "title": ADDRESS_TITLE,
                "line1": "Güzeller OSB, Aslı Sokak No: 12",
                "district": "Gebze",
                "city": "Kocaeli",
                "postal_code": "41400",
                "phone": "+90 262 555 01 12",
            },
            by=owner,
        )
    return True


@transaction.atomic
def seed_edits(options) -> list[str]:
    content, finance, sales = (
        demo_staff(email)
        for email in (
            DEMO_CONTENT_MANAGER_EMAIL,
            DEMO_FINANCE_MANAGER_EMAIL,
            DEMO_SALES_MANAGER_EMAIL,
        )
    )
    made = []
    if content is not None:
        with acting_for(content):
            if count := _products(content):
                made.append(f"{count} product descriptions")
    if finance is not None:
        with acting_for(finance):
            if _credit_limit(finance):
                made.append("DEMO002's credit limit")
    if sales is not None:
        with acting_for(sales):
            if _price(sales):
                made.append("a LIST price")
    if _address():
        made.append("DEMO001's second shipping address")
    return [f"back-office edits with their history: {', '.join(made)}"] if made else []


def reset_edits(options) -> None:
    """The edited objects go with their own steps' reset; their audit entries stay."""


STEPS = [("edits", seed_edits, reset_edits)]
