"""Returns in the portal: a delivered order's return form (quantities, reasons, serial
numbers, photos) through the API's ``return_request``, with the service's refusals shown next
to their lines and nothing stored; the company's returns, their detail and cancelling one that
is still ``requested``; another company's order or return is a 404."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from apps.returns.models import ReturnRequest, ReturnStatus
from tests.portal.test_portal import browser
from tests.returns.conftest import delivered_order, make_shop

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def shop(dealer_client):
    return make_shop(dealer_client)


@pytest.fixture
def order(shop):
    return delivered_order(shop, at=timezone.now() - dt.timedelta(days=2))


def _photo() -> SimpleUploadedFile:
    data = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(data, "PNG")
    return SimpleUploadedFile("box.png", data.getvalue(), "image/png")


def test_a_return_is_requested_from_the_delivered_orders_page(shop, order):
    client, _user = browser(shop)
    page = client.get(f"/portal/orders/{order.number}/").content.decode()
    assert f"/portal/orders/{order.number}/return/" in page  # "Request a return"
    lines = {line.sku: line for line in order.lines.all()}
    form = client.get(f"/portal/orders/{order.number}/return/").content.decode()
    assert f'name="quantity_{lines["CAM"].pk}"' in form
    response = client.post(
        f"/portal/orders/{order.number}/return/",
        {
            f"quantity_{lines['A-1'].pk}": "2",
            f"reason_{lines['A-1'].pk}": "damaged",
            f"quantity_{lines['CAM'].pk}": "1",
            f"reason_{lines['CAM'].pk}": "defective",
            f"serials_{lines['CAM'].pk}": "CAM-001",
            "note": "Kutular ezik geldi",
            "photos": [_photo()],
        },
    )
    rma = ReturnRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/portal/returns/{rma.number}/"
    assert rma.status == ReturnStatus.REQUESTED and rma.photos.count() == 1
    assert {(line.sku, line.quantity, tuple(line.serial_numbers)) for line in rma.lines.all()} == {
        ("A-1", 2, ()),
        ("CAM", 1, ("CAM-001",)),
    }
    page = client.get(f"/portal/returns/{rma.number}/").content.decode()
    assert "talep edildi" in page.lower() and "Kutular ezik geldi" in page
    listing = client.get("/portal/returns/").content.decode()
    assert rma.number in listing

    response = client.post(f"/portal/returns/{rma.number}/")  # cancel
    assert response.status_code == 302
    rma.refresh_from_db()
    assert rma.status == ReturnStatus.CANCELLED


def test_the_services_refusals_are_shown_by_line_and_nothing_is_stored(shop, order):
    client, _user = browser(shop)
    lines = {line.sku: line for line in order.lines.all()}
    url = f"/portal/orders/{order.number}/return/"
    for body in (
        {},  # no line
        {f"quantity_{lines['A-1'].pk}": "9", f"reason_{lines['A-1'].pk}": "damaged"},  # > 5
        {f"quantity_{lines['A-1'].pk}": "1", f"reason_{lines['A-1'].pk}": "other"},  # no text
        {f"quantity_{lines['A-1'].pk}": "x", f"reason_{lines['A-1'].pk}": "damaged"},
        {f"quantity_{lines['A-1'].pk}": "1", f"reason_{lines['A-1'].pk}": "bored"},
        {
            f"quantity_{lines['CAM'].pk}": "1",
            f"reason_{lines['CAM'].pk}": "defective",
            f"serials_{lines['CAM'].pk}": "CAM-003",  # never shipped to this dealer
        },
    ):
        response = client.post(url, body)
        assert response.status_code == 400, body
        page = response.content.decode()
        assert 'role="alert"' in page, body
        assert "A-1: A-1" not in page and "CAM: CAM" not in page  # a line is named once
    assert not ReturnRequest.objects.exists()


def test_an_order_not_delivered_cannot_be_returned(shop):
    from tests.orders.conftest import place

    client, _user = browser(shop)
    response = place(shop.owner, items=[("A-1", 1)])
    number = response.json()["number"]
    page = client.get(f"/portal/orders/{number}/").content.decode()
    assert f"/portal/orders/{number}/return/" not in page
    form = client.get(f"/portal/orders/{number}/return/").content.decode()
    assert 'role="alert"' in form and 'name="note"' not in form
    assert client.post(f"/portal/orders/{number}/return/", {"note": "x"}).status_code == 409


def test_another_companys_order_and_return_are_not_found(shop, order):
    from types import SimpleNamespace

    from tests.factories import CustomerFactory
    from tests.returns.conftest import ask, line

    rma = ask(shop.owner, order, [line()]).json()["number"]
    client, _user = browser(SimpleNamespace(customer=CustomerFactory()))  # another company
    assert client.get(f"/portal/orders/{order.number}/return/").status_code == 404
    assert client.post(f"/portal/orders/{order.number}/return/", {}).status_code == 404
    assert client.get(f"/portal/returns/{rma}/").status_code == 404
    assert client.post(f"/portal/returns/{rma}/").status_code == 404
    assert rma not in client.get("/portal/returns/").content.decode()
    assert ReturnRequest.objects.get(number=rma).status == ReturnStatus.REQUESTED


def test_the_return_page_shows_the_photos_sent_and_only_to_the_company(shop, order):
    """The page said "1 photo sent." and showed none."""
    client, _user = browser(shop)
    lines = {line.sku: line for line in order.lines.all()}
    client.post(
        f"/portal/orders/{order.number}/return/",
        {
            f"quantity_{lines['A-1'].pk}": "1",
            f"reason_{lines['A-1'].pk}": "damaged",
            "photos": [_photo()],
        },
    )
    rma = ReturnRequest.objects.get()
    photo = rma.photos.get()
    address = f"/portal/returns/{rma.number}/photos/{photo.pk}/"
    page = client.get(f"/portal/returns/{rma.number}/").content.decode()
    assert f'<img src="{address}"' in page
    shown = client.get(address)
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    assert shown.content == photo.file.open("rb").read()
    assert shown["Content-Disposition"].startswith("inline;")
    assert client.get(f"/portal/returns/{rma.number}/photos/{photo.pk + 1}/").status_code == 404

    from types import SimpleNamespace

    from tests.factories import CustomerFactory

    stranger, _user = browser(SimpleNamespace(customer=CustomerFactory()))  # another company
    assert stranger.get(address).status_code == 404


def test_a_return_form_sent_twice_makes_one_return(shop, order):
    """A double click made two returns of the same lines: the form now carries its own key."""
    import re

    client, _user = browser(shop)
    page = client.get(f"/portal/orders/{order.number}/return/").content.decode()
    key = re.search(r'name="form_key" value="([^"]+)"', page).group(1)
    line = order.lines.get(sku="A-1")
    form = {f"quantity_{line.pk}": "1", f"reason_{line.pk}": "damaged", "form_key": key}
    first = client.post(f"/portal/orders/{order.number}/return/", form)
    second = client.post(f"/portal/orders/{order.number}/return/", form)
    rma = ReturnRequest.objects.get()
    assert first["Location"] == second["Location"] == f"/portal/returns/{rma.number}/"
