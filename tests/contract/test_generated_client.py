"""A client nobody here wrote proves the schema: openapi-python-client generates a Python
client from the schema the live server serves, and the dealer's purchase path runs through it
against a real gunicorn process. The client is made with ``raise_on_unexpected_status``: any
status the schema does not document for an operation raises ``UnexpectedStatus``, and every
documented answer is parsed into the generated models (a missing or mistyped field fails)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from apps.orders.models import Order
from tests.contract.conftest import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PACKAGE = "b2b_generated_client"


def _generate(schema: dict, target: Path):
    """Generate the client into ``target`` (no network, no post hooks) and import it."""
    (target / "schema.json").write_text(json.dumps(schema))
    # documents (invoice PDF and XML, statement CSV and PDF, a return's photos) are files to
    # the generator, as its documentation says to map them
    (target / "config.yml").write_text(
        "post_hooks: []\n"
        "content_type_overrides:\n"
        "  application/pdf: application/octet-stream\n"
        "  application/xml: application/octet-stream\n"
        "  text/csv: application/octet-stream\n"
        "  image/jpeg: application/octet-stream\n"
        "  image/png: application/octet-stream\n"
        "  image/webp: application/octet-stream\n"
    )
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("openapi-python-client")),
            "generate",
            "--path",
            str(target / "schema.json"),
            "--config",
            str(target / "config.yml"),
            "--meta",
            "none",
            "--output-path",
            str(target / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # the generator warns about every part of the schema it cannot turn into code
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(target))
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]
    try:
        return importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(target))


def _module(package, name: str):
    return importlib.import_module(f"{package.__name__}.{name}")


def test_the_purchase_path_runs_through_a_client_generated_from_the_schema(
    live_server_proc, shop, tmp_path
):
    # given: a client generated from the schema the server serves
    client_package = _generate(live_server_proc.schema(), tmp_path)
    models = _module(client_package, "models")
    api = lambda name: _module(client_package, f"api.{name}")  # noqa: E731
    anonymous = client_package.Client(
        base_url=live_server_proc.base_url, raise_on_unexpected_status=True
    )

    # login
    answer = api("auth.auth_token_create").sync_detailed(
        client=anonymous,
        body=models.TokenObtainRequest(email=shop.owner_email, password=PASSWORD),
    )
    assert answer.status_code == 200
    tokens = answer.parsed
    dealer = client_package.AuthenticatedClient(
        base_url=live_server_proc.base_url, token=tokens.access, raise_on_unexpected_status=True
    )

    # catalog: list and detail, priced for this dealer
    page = api("catalog.products_list").sync(client=dealer, price_min="100.00", page_size=50)
    assert isinstance(page, models.PaginatedProductListList)
    assert {p.sku for p in page.results} == {shop.in_stock, shop.scarce}
    product = api("catalog.products_retrieve").sync(sku=shop.in_stock, client=dealer)
    assert isinstance(product, models.ProductDetail)
    assert product.price.unit_net == "149.9950" and product.price.source == "list"

    # cart: add, change, remove a line
    cart_items = api("cart.cart_items_create")
    cart = cart_items.sync(
        client=dealer, body=models.CartItemInputRequest(sku=shop.in_stock, quantity=3)
    )
    assert isinstance(cart, models.Cart) and cart.line_count == 1
    line = cart.lines[0]
    assert line.price.unit_net == "149.9950" and line.line_net == "449.99"
    cart = cart_items.sync(
        client=dealer, body=models.CartItemInputRequest(sku=shop.scarce, quantity=1)
    )
    assert cart.line_count == 2
    scarce_line = next(item for item in cart.lines if item.sku == shop.scarce)
    cart = api("cart.cart_items_partial_update").sync(
        id=line.id, client=dealer, body=models.PatchedCartItemUpdateRequest(quantity=2)
    )
    assert isinstance(cart, models.Cart)
    assert next(item for item in cart.lines if item.id == line.id).quantity == 2
    answer = api("cart.cart_items_destroy").sync_detailed(id=scarce_line.id, client=dealer)
    assert answer.status_code == 200 and isinstance(answer.parsed, models.Cart)
    assert [item.sku for item in answer.parsed.lines] == [shop.in_stock]
    assert answer.parsed.grand_total == "359.99"  # 2 x 149.9950 = 299.99 net + 60.00 VAT

    # order from the cart, with an Idempotency-Key
    orders_create = api("orders.orders_create")
    key = f"contract-{uuid.uuid4().hex}"
    body = models.OrderCreateRequest(payment_method=models.PaymentMethodEnum.ON_ACCOUNT)
    first = orders_create.sync_detailed(client=dealer, body=body, idempotency_key=key)
    assert first.status_code == 201 and isinstance(first.parsed, models.Order)
    order = first.parsed
    assert order.status == models.OrderStatusEnum.CONFIRMED
    assert order.grand_total == "359.99"
    history = order.status_history[0]
    assert history.from_ is None and history.to == models.OrderStatusEnum.CONFIRMED
    assert history.actor == models.ActorEnum.DEALER

    # replay: the same key and body answer the first order and create nothing
    again = orders_create.sync_detailed(client=dealer, body=body, idempotency_key=key)
    assert again.status_code == 201 and again.parsed.number == order.number
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1

    # 409: the same key with another body
    other = models.OrderCreateRequest(
        payment_method=models.PaymentMethodEnum.ON_ACCOUNT,
        items=[models.ItemInputRequest(sku=shop.in_stock, quantity=1)],
    )
    reused = orders_create.sync_detailed(client=dealer, body=other, idempotency_key=key)
    assert reused.status_code == 409 and isinstance(reused.parsed, models.Conflict)
    assert reused.parsed.code == "idempotency_key_reused"

    # 409: more than there is in stock; nothing is placed
    short = orders_create.sync_detailed(
        client=dealer,
        body=models.OrderCreateRequest(
            payment_method=models.PaymentMethodEnum.ON_ACCOUNT,
            items=[models.ItemInputRequest(sku=shop.scarce, quantity=2)],
        ),
    )
    assert short.status_code == 409 and isinstance(short.parsed, models.Conflict)
    # the generated client reads the short lines: the schema names them
    (line,) = short.parsed.lines
    assert (line.sku, line.requested, line.available) == (shop.scarce, 2, 1)
    assert Order.objects.count() == 1

    # cancel, then 409 on a second cancel
    cancel = api("orders.orders_cancel_create")
    cancelled = cancel.sync_detailed(
        number=order.number,
        client=dealer,
        body=models.RequiredReasonRequest(reason="Changed my mind"),
    )
    assert cancelled.status_code == 200
    assert cancelled.parsed.status == models.OrderStatusEnum.CANCELLED
    twice = cancel.sync_detailed(
        number=order.number, client=dealer, body=models.RequiredReasonRequest(reason="Again")
    )
    assert twice.status_code == 409 and isinstance(twice.parsed, models.Conflict)
    assert twice.parsed.status == "cancelled" and twice.parsed.allowed == []
