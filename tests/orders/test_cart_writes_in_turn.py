"""One writer of a cart at a time (the race sweep's findings): a change of a line removed
meanwhile is a 404, not a 500; emptying the cart waits for a writer holding the cart, so an
add raced with it never finds its line gone, and the two never deadlock."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from apps.core.exceptions import NotFound
from apps.orders.models import CartItem
from apps.orders.services import cart_add, cart_clear, cart_item_update
from apps.orders.services.cart import cart_for, cart_lock
from tests.orders.conftest import Shop


@pytest.mark.django_db
def test_changing_a_line_removed_meanwhile_answers_404(dealer_client):
    """PATCH raced with DELETE (or with the order that took the line): the PATCH saved the
    copy it had read, found no row, and answered 500."""
    shop = Shop(dealer_client)
    shop.product("A-1", stock=10)
    owner = shop.owner.user
    item = cart_add(user=owner, sku="A-1", quantity=2)
    stale = CartItem.objects.get(pk=item.pk)
    CartItem.objects.filter(pk=item.pk).delete()  # the other request's removal
    with pytest.raises(NotFound):
        cart_item_update(item=stale, quantity=5)
    assert not CartItem.objects.exists()

    again = cart_add(user=owner, sku="A-1", quantity=2)
    response = shop.owner.patch(f"/api/v1/cart/items/{again.pk}", {"quantity": 3}, format="json")
    assert response.status_code == 200 and response.json()["lines"][0]["quantity"] == 3


@pytest.mark.django_db(transaction=True)
def test_emptying_the_cart_waits_for_a_writer_holding_it(dealer_client):
    shop = Shop(dealer_client)
    shop.product("A-1", stock=10)
    owner = shop.owner.user
    cart = cart_for(owner)
    cart_add(user=owner, sku="A-1", quantity=1)
    holding, done = threading.Event(), threading.Event()
    cleared_at: list[float] = []

    def writer():
        try:
            with transaction.atomic():
                cart_lock(cart.pk)
                holding.set()
                done.wait(timeout=10)
                time.sleep(0.3)
        finally:
            connection.close()

    def clearer():
        try:
            holding.wait(timeout=10)
            done.set()
            cart_clear(user=owner)
            cleared_at.append(time.monotonic())
        finally:
            connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=writer), threading.Thread(target=clearer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert cleared_at and cleared_at[0] - started >= 0.3  # it waited for the writer
    assert not CartItem.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_placing_the_cart_takes_the_cart_before_its_lines_as_every_cart_writer(dealer_client):
    """A placement from the cart locked the cart's lines, then the cart's row; every cart
    writer (an edit, emptying it) locks the row, then the lines: the two deadlocked (a 503
    in 5 of 40 races). Here a writer holds the row: the placement waits for it holding no
    line, so the writer can still take the lines."""
    import psycopg  # here: a connection of its own, as another request's

    from tests.conftest import subprocess_database_url

    shop = Shop(dealer_client)
    shop.product("A-1", stock=10)
    owner = shop.owner.user
    cart = cart_for(owner)
    cart_add(user=owner, sku="A-1", quantity=1)
    answers: list[int] = []

    with psycopg.connect(subprocess_database_url()) as writer:
        writer.execute("SELECT id FROM orders_cart WHERE id = %s FOR UPDATE", [cart.pk])

        def place():
            try:
                answers.append(
                    shop.owner.post(
                        "/api/v1/orders", {"payment_method": "on_account"}, format="json"
                    ).status_code
                )
            finally:
                connection.close()

        placing = threading.Thread(target=place)
        placing.start()
        time.sleep(1.0)  # the placement reached the cart and waits
        assert not answers, "the placement did not wait for the cart's writer"
        # the writer goes on to the lines: free, not held by the waiting placement
        writer.execute("SET lock_timeout = '2s'")
        locked = writer.execute(
            "SELECT id FROM orders_cartitem WHERE cart_id = %s FOR UPDATE", [cart.pk]
        ).fetchall()
        assert len(locked) == 1
        writer.execute("DELETE FROM orders_cartitem WHERE cart_id = %s", [cart.pk])
        writer.commit()  # the writer emptied the cart meanwhile
    placing.join(timeout=30)
    assert answers == [400]  # the cart it read is empty now: nothing placed
