"""Returns (RMA) through the dealer API, the back office and the ERP (DESIGN.md "Returns")."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from apps.core.models import OutboxEvent
from apps.finance.models import LedgerEntry
from apps.inventory.models import SerialNumber, StockLevel, StockMovement
from apps.returns.models import ReturnRequest
from tests.returns.conftest import RETURNS, ask, delivered_order, line

pytestmark = [pytest.mark.django_db]

D = Decimal


def erp_status(client, number, status, **body):
    return client.post(
        f"/api/integration/v1/returns/{number}/status", {"status": status, **body}, format="json"
    )


def on_hand(shop, sku):
    return StockLevel.objects.get(product=shop.products[sku], warehouse=shop.warehouse).on_hand


# --- the whole way ----------------------------------------------------------------------------


def test_a_return_is_requested_approved_received_and_credited(
    shop, order, integration_client, django_capture_on_commit_callbacks
):
    """requested -> approved -> received (stock back) -> credited (credit note, VAT in)."""
    erp = integration_client()
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(
            shop.owner,
            order,
            [line("A-1", 2), line("CAM", 1, "defective", serial_numbers=["CAM-002"])],
            note="Crushed in transit",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert re.fullmatch(r"RMA-\d{4}-\d{6}", body["number"])
    assert body["status"] == "requested" and body["credit"] is None
    assert [(x["sku"], x["quantity"]) for x in body["lines"]] == [("A-1", 2), ("CAM", 1)]
    number = body["number"]
    [requested] = OutboxEvent.objects.filter(type="return.requested")
    assert requested.data["number"] == number and requested.data["order_number"] == order.number
    (asked,) = [m for m in mail.outbox if number in m.subject]
    link = f"{settings.DEALER_PORTAL_URL.rstrip('/')}/portal/returns/{number}/"
    assert link in asked.body and f'href="{link}"' in asked.alternatives[0][0]

    assert erp_status(erp, number, "approved", note="OK").json()["status"] == "approved"
    before = on_hand(shop, "A-1")
    received = erp_status(erp, number, "received")
    assert received.status_code == 200, received.content
    assert on_hand(shop, "A-1") == before + 2
    movement = StockMovement.objects.get(kind="return", product=shop.products["A-1"])
    assert (movement.quantity, movement.reference) == (2, f"return:{number}")
    assert SerialNumber.objects.get(serial="CAM-002").status == "returned"
    assert SerialNumber.objects.get(serial="CAM-001").status == "sold"

    credited = erp_status(erp, number, "credited")
    assert credited.status_code == 200, credited.content
    # 2 x 100.00 + 20 % and 1 x 1000.00 + 20 %: the order's prices, to the kuruş
    assert credited.json()["credit"] == {"net": "1200.00", "vat": "240.00", "gross": "1440.00"}
    entry = LedgerEntry.objects.get(kind="credit_note")
    assert (entry.amount, entry.document_number) == (D("-1440.00"), number)
    [credited_event] = OutboxEvent.objects.filter(type="return.credited")
    assert credited_event.data["previous_status"] == "received"  # docs/events.md
    detail = shop.owner.get(f"{RETURNS}/{number}").json()
    assert detail["status"] == "credited"
    assert [(h["from"], h["to"]) for h in detail["status_history"]] == [
        (None, "requested"),
        ("requested", "approved"),
        ("approved", "received"),
        ("received", "credited"),
    ]
    # the words of an order's status_history (docs/dealer-api.md), the dealer named as there
    first = detail["status_history"][0]
    assert set(first) == {"from", "to", "at", "by", "actor", "note"}
    user = shop.owner.user
    assert (first["actor"], first["by"]) == ("dealer", user.get_full_name() or user.email)
    # the ERP's steps record the connector's key that asked (who, for a system)
    keys = ReturnRequest.objects.get(number=number).status_history.values_list(
        "to_status", "api_key"
    )
    assert sorted(keys) == sorted(
        [
            ("requested", None),
            ("approved", erp.api_key.pk),
            ("received", erp.api_key.pk),
            ("credited", erp.api_key.pk),
        ]
    )


# --- the window -------------------------------------------------------------------------------

IST = dt.timezone(dt.timedelta(hours=3))


@pytest.mark.parametrize(
    ("now", "allowed"),
    [
        (dt.datetime(2026, 11, 15, 23, 59, tzinfo=IST), True),  # day 14 (Istanbul), late
        (dt.datetime(2026, 11, 16, 0, 0, 30, tzinfo=IST), False),  # day 15 from its first minute
    ],
)
def test_the_return_window_counts_calendar_days_in_istanbul(
    dealer_client, now, allowed, time_machine
):
    """Delivered 1 November 23:30 Istanbul (20:30 UTC): returnable through 15 November."""
    from tests.returns.conftest import make_shop

    time_machine.move_to(dt.datetime(2026, 11, 2, 12, 0, tzinfo=IST), tick=False)
    shop = make_shop(dealer_client)
    order = delivered_order(shop, at=dt.datetime(2026, 11, 1, 23, 30, tzinfo=IST))
    time_machine.move_to(now, tick=False)
    response = ask(shop.client("purchasing"), order, [line("A-1", 1)])  # a token of that day
    if allowed:
        assert response.status_code == 201, response.content
    else:
        assert response.status_code == 409
        assert response.json()["code"] == "return_window_closed"
        assert ReturnRequest.objects.count() == 0


@pytest.mark.parametrize(("days", "allowed"), [(14, False), (30, True), (19, False), (20, True)])
def test_the_return_window_is_return_window_days(shop, settings, days, allowed):
    """DESIGN.md: returns within ``RETURN_WINDOW_DAYS`` (default 14) of delivery; a
    distributor that allows 30 days sets it so. Delivered 20 days ago here."""
    settings.RETURN_WINDOW_DAYS = days
    order = delivered_order(shop, at=timezone.now() - dt.timedelta(days=20))
    response = ask(shop.owner, order, [line("A-1", 1)])
    if allowed:
        assert response.status_code == 201, response.content
    else:
        assert response.status_code == 409
        assert response.json()["code"] == "return_window_closed"
        assert str(days) in response.json()["detail"]


def test_only_delivered_orders_can_be_returned(shop):
    from tests.orders.conftest import place

    response = place(shop.owner, items=[("A-1", 1)])
    from apps.orders.models import Order

    order = Order.objects.get(number=response.json()["number"])
    assert order.status == "confirmed"
    response = ask(shop.owner, order, [line("A-1", 1)])
    assert response.status_code == 409 and response.json()["code"] == "order_not_delivered"


# --- quantities and serials -------------------------------------------------------------------


def test_each_line_returns_at_most_what_shipped_across_returns(shop, order):
    first = ask(shop.owner, order, [line("A-1", 3)])
    assert first.status_code == 201
    too_many = ask(shop.owner, order, [line("A-1", 3)])
    assert too_many.status_code == 400
    assert "At most 2 of A-1" in too_many.json()["errors"]["lines.0.quantity"][0]
    assert ask(shop.owner, order, [line("A-1", 2)]).status_code == 201
    # a rejected or cancelled return gives its quantity back
    number = first.json()["number"]
    assert shop.owner.post(f"{RETURNS}/{number}/cancel").status_code == 200
    assert ask(shop.owner, order, [line("A-1", 3)]).status_code == 201
    assert ask(shop.owner, order, [line("A-1", 1)]).status_code == 400


def test_units_go_back_to_the_warehouses_they_shipped_from(shop, integration_client):
    """An order shipped 3 from Istanbul and 2 from Ankara: returned whole, its units went all
    to Istanbul (the larger sale). Each warehouse gets back what left it, over several
    returns too; a serial goes back where it was sold from."""
    from tests.catalog.factories import StockLevelFactory, WarehouseFactory

    ankara = WarehouseFactory(code="ANK", sort_order=shop.warehouse.sort_order + 10)
    split = shop.product("SPLIT", price="10", stock=3)
    StockLevelFactory(product=split, warehouse=ankara, on_hand=10)
    order = delivered_order(shop, items=[("SPLIT", 5)])
    erp = integration_client()

    def on_hand(warehouse):
        return StockLevel.objects.get(product=split, warehouse=warehouse).on_hand

    assert (on_hand(shop.warehouse), on_hand(ankara)) == (0, 8)
    for quantity in (4, 1):
        number = ask(shop.owner, order, [line("SPLIT", quantity)]).json()["number"]
        assert erp_status(erp, number, "approved").status_code == 200
        assert erp_status(erp, number, "received").status_code == 200
    assert (on_hand(shop.warehouse), on_hand(ankara)) == (3, 10)


def test_a_rejected_return_gives_its_quantity_back(shop, order, integration_client):
    """DESIGN.md: at most the shipped quantity minus what earlier *non-rejected* returns
    asked; an approved one still counts."""
    erp = integration_client()
    rejected = ask(shop.owner, order, [line("A-1", 3)]).json()["number"]
    approved = ask(shop.owner, order, [line("A-1", 2)]).json()["number"]
    assert ask(shop.owner, order, [line("A-1", 1)]).status_code == 400
    assert erp_status(erp, rejected, "rejected", note="Opened").status_code == 200
    assert erp_status(erp, approved, "approved").status_code == 200
    assert ask(shop.owner, order, [line("A-1", 3)]).status_code == 201
    assert ask(shop.owner, order, [line("A-1", 1)]).status_code == 400


@pytest.mark.parametrize(
    ("serials", "message"),
    [
        (["CAM-003"], "CAM-003 did not ship on this line."),  # still in stock
        (["NOPE"], "NOPE did not ship on this line."),
        (["CAM-001", "CAM-002"], "Name exactly 1 serial numbers, one per unit."),
        (None, "Name the serial number of each unit you return."),
    ],
)
def test_serial_tracked_lines_name_serials_that_shipped_on_that_line(shop, order, serials, message):
    extra = {} if serials is None else {"serial_numbers": serials}
    response = ask(shop.owner, order, [line("CAM", 1, **extra)])
    assert response.status_code == 400
    assert message in response.json()["errors"]["lines.0.serial_numbers"]
    assert ReturnRequest.objects.count() == 0


def test_a_serial_of_another_order_or_an_earlier_return_is_refused(shop, order):
    other = delivered_order(shop, items=[("CAM", 1)])  # ships CAM-003
    response = ask(shop.owner, order, [line("CAM", 1, serial_numbers=["CAM-003"])])
    assert response.status_code == 400
    assert ask(shop.owner, other, [line("CAM", 1, serial_numbers=["CAM-003"])]).status_code == 201
    assert ask(shop.owner, order, [line("CAM", 1, serial_numbers=["CAM-001"])]).status_code == 201
    again = ask(shop.owner, order, [line("CAM", 1, serial_numbers=["CAM-001"])])
    assert "CAM-001 is on an earlier return." in again.json()["errors"]["lines.0.serial_numbers"]
    untracked = ask(shop.owner, order, [line("A-1", 1, serial_numbers=["X"])])
    assert untracked.json()["errors"]["lines.0.serial_numbers"] == [
        "This product is not serial-tracked."
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": []}, "lines"),
        ({"lines": "A-1"}, "lines"),
        ({"lines": [line("A-1", 0)]}, "lines.0.quantity"),
        ({"lines": [line("A-1", "x")]}, "lines.0.quantity"),
        ({"lines": [line("A-1", True)]}, "lines.0.quantity"),
        ({"lines": [line("A-1", 1, "broken")]}, "lines.0.reason"),
        ({"lines": [line("A-1", 1, "other")]}, "lines.0.reason_text"),
        ({"lines": [line("NOPE", 1)]}, "lines.0.sku"),
        ({"lines": [line("A-1", 1), line("A-1", 1)]}, "lines.1.sku"),
        ({"lines": [{**line("A-1", 1), "price": "1"}]}, "lines.0.price"),
        ({"lines": [line("A-1", 1)], "credit": "999"}, "credit"),
        ({"lines": [line("A-1", 1)], "note": ["x"]}, "note"),
        ({"lines": ["A-1"]}, "lines.0"),
    ],
)
def test_bad_requests_get_field_errors_and_change_nothing(shop, order, body, field):
    response = shop.owner.post(RETURNS, {"order_number": order.number, **body}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert (
        ReturnRequest.objects.count() == 0
        and OutboxEvent.objects.filter(type__startswith="return.").count() == 0
    )


def test_another_companys_order_is_not_found(shop, order, dealer_client):
    """Named in the body, another company's order is a 400 on the field (as a payment's and an
    address's), the same as a number nobody has; a return in the URL is 404."""
    stranger = dealer_client("owner")
    response = ask(stranger, order, [line("A-1", 1)])
    assert response.status_code == 400
    unknown = stranger.post(
        RETURNS, {"order_number": "SO-2026-999999", "lines": [line("A-1", 1)]}, format="json"
    )
    assert response.json()["errors"] == unknown.json()["errors"]
    assert list(response.json()["errors"]) == ["order_number"]
    assert ReturnRequest.objects.count() == 0
    number = ask(shop.owner, order, [line("A-1", 1)]).json()["number"]
    assert stranger.get(f"{RETURNS}/{number}").status_code == 404
    assert stranger.post(f"{RETURNS}/{number}/cancel").status_code == 404
    assert stranger.get(RETURNS).json()["count"] == 0


def test_who_may_ask_for_returns(shop, order):
    assert ask(shop.client("purchasing"), order, [line("A-1", 1)]).status_code == 201
    for role in ("finance", "viewer"):
        assert ask(shop.client(role), order, [line("A-1", 1)]).status_code == 403
        assert shop.client(role).get(RETURNS).json()["count"] == 1


# --- photos -----------------------------------------------------------------------------------


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return buffer.getvalue()


def test_photos_come_as_multipart_and_must_be_images(shop, order):
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = {"order_number": order.number, "lines": json.dumps([line("A-1", 1)])}
    bad = shop.owner.post(
        RETURNS,
        {**body, "photos": [SimpleUploadedFile("x.png", b"not an image", "image/png")]},
        format="multipart",
    )
    assert bad.status_code == 400 and "photos.0" in bad.json()["errors"]
    assert ReturnRequest.objects.count() == 0
    good = shop.owner.post(
        RETURNS,
        {**body, "photos": [SimpleUploadedFile("crushed.png", _png(), "image/png")]},
        format="multipart",
    )
    assert good.status_code == 201, good.content
    [photo] = good.json()["photos"]
    assert photo["content_type"] == "image/png" and photo["size"] > 0
    stored = ReturnRequest.objects.get().photos.get()
    assert stored.file.name.startswith("returns/") and stored.file.read() == _png()


def _with_photo(shop, order, name="crushed.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = shop.owner.post(
        RETURNS,
        {
            "order_number": order.number,
            "lines": json.dumps([line("A-1", 1)]),
            "photos": [SimpleUploadedFile(name, _png(), "image/png")],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_the_dealer_and_the_erp_see_the_photos_sent_with_a_return(
    shop, order, dealer_client, integration_client
):
    """The return listed its photos (type, size) but nobody could look at one: the dealer API
    and the ERP now read each photo at the address the return gives; another company's photo
    is 404, a photo asked under another return is 404."""
    first, second = _with_photo(shop, order), _with_photo(shop, order)
    [photo] = first["photos"]
    assert photo["url"] == f"{RETURNS}/{first['number']}/photos/{photo['id']}"
    for role in ("owner", "viewer", "finance"):  # whoever may read the return
        shown = shop.client(role).get(photo["url"])
        assert shown.status_code == 200, shown.content
        assert shown.content == _png() and shown["Content-Type"] == "image/png"
        assert shown["Content-Disposition"] == (
            f'inline; filename="{first["number"]}-{photo["id"]}.png"'
        )
        assert shown["Cache-Control"] == "private, no-store"
    assert (
        shop.owner.get(
            shop.owner.get(f"{RETURNS}/{first['number']}").json()["photos"][0]["url"]
        ).content
        == _png()
    )

    other_company = dealer_client()
    assert other_company.get(photo["url"]).status_code == 404
    [second_photo] = second["photos"]
    crossed = f"{RETURNS}/{first['number']}/photos/{second_photo['id']}"
    assert shop.owner.get(crossed).status_code == 404
    assert shop.owner.get(f"{RETURNS}/{first['number']}/photos/999999").status_code == 404

    erp = integration_client(scopes=["returns:read"])
    listed = {r["number"]: r for r in erp.get("/api/integration/v1/returns").json()["results"]}
    erp_url = listed[first["number"]]["photos"][0]["url"]
    assert erp_url == f"/api/integration/v1/returns/{first['number']}/photos/{photo['id']}"
    assert erp.get(erp_url).content == _png()
    assert erp.get("/api/integration/v1/returns/RMA-0000-000000/photos/1").status_code == 404
    assert integration_client(scopes=["orders:read"]).get(erp_url).status_code == 403


@pytest.mark.parametrize("name", ["evil.exe", "a." + "x" * 240, "a.пнг", "noextension"])
def test_a_photo_is_stored_under_the_extension_of_what_it_is(shop, order, name):
    """The extension came from the client's file name: "evil.exe" holding a PNG was stored
    as .exe, and a 240-letter extension made a name too long (500)."""
    body = _with_photo(shop, order, name=name)
    stored = ReturnRequest.objects.get(number=body["number"]).photos.get()
    assert re.fullmatch(r"returns/[0-9a-f]{32}\.png", stored.file.name), stored.file.name


@pytest.mark.parametrize("note", [0, [], {}, False, True, 5])
def test_a_note_that_is_not_text_is_refused(shop, order, note):
    # 0, [] and {} were taken as "no note" (201 with an empty note)
    response = ask(shop.owner, order, [line("A-1", 1)], note=note)
    assert response.status_code == 400 and "note" in response.json()["errors"]
    assert not ReturnRequest.objects.exists()


def test_a_null_note_is_no_note(shop, order, integration_client):
    """Everywhere a note is taken: the dealer's return, order and quote, the ERP's return
    status (the ERP's order status took it; the others answered 400 for null)."""
    response = ask(shop.owner, order, [line("A-1", 1)], note=None)
    assert response.status_code == 201 and response.json()["note"] == ""
    number = response.json()["number"]
    approved = erp_status(integration_client(), number, "approved", note=None)
    assert approved.status_code == 200, approved.json()

    placed = shop.owner.post(
        "/api/v1/orders",
        {"payment_method": "on_account", "items": [{"sku": "A-1", "quantity": 1}], "note": None},
        format="json",
    )
    assert placed.status_code == 201, placed.json()
    assert placed.json()["note"] == ""
    quoted = shop.owner.post(
        "/api/v1/quotes", {"lines": [{"sku": "A-1", "quantity": 2}], "note": None}, format="json"
    )
    assert quoted.status_code == 201, quoted.json()
    assert quoted.json()["note"] == ""


def test_a_multipart_field_whose_bytes_are_not_utf8_is_refused(shop, order):
    """Stored as "Depo\ufffd\ufffd ok": the multipart parser read the bytes as replacement
    characters."""
    boundary = "XyZ"
    parts = [
        ("order_number", order.number.encode()),
        ("lines", json.dumps([line("A-1", 1)]).encode()),
        ("note", b"Depo\xff\xfe ok"),
    ]
    body = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value
            + b"\r\n"
            for name, value in parts
        )
        + f"--{boundary}--\r\n".encode()
    )
    response = shop.owner.generic(
        "POST", RETURNS, body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_encoding"
    assert response.json()["errors"] == {"note": ["The text sent is not valid UTF-8."]}
    assert not ReturnRequest.objects.exists()


def test_a_photo_whose_file_name_is_not_utf8_is_refused_not_lost(shop, order):
    """Django's parser left the part out: the return was made without its photo (201)."""
    boundary = "XyZ"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="order_number"\r\n\r\n'.encode()
        + order.number.encode()
        + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="lines"\r\n\r\n'.encode()
        + json.dumps([line("A-1", 1)]).encode()
        + f"\r\n--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="photos"; filename="f\xff\xfe.png"\r\n'
        + b"Content-Type: image/png\r\n\r\n"
        + _png()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = shop.owner.generic(
        "POST", RETURNS, body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_encoding" and "body" in response.json()["errors"]
    assert not ReturnRequest.objects.exists()


def test_a_multipart_text_field_sent_twice_is_refused_files_may_repeat(shop, order):
    """``lines`` sent twice: the last one counted, without a word."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    twice = shop.owner.post(
        RETURNS,
        {
            "order_number": order.number,
            "lines": [json.dumps([line("A-1", 1)]), json.dumps([line("A-1", 2)])],
        },
        format="multipart",
    )
    assert twice.status_code == 400, twice.content
    assert twice.json()["errors"] == {"lines": ["Send this field once."]}
    assert not ReturnRequest.objects.exists()
    photos = [SimpleUploadedFile(f"p{i}.png", _png(), "image/png") for i in range(2)]
    response = shop.owner.post(
        RETURNS,
        {"order_number": order.number, "lines": json.dumps([line("A-1", 1)]), "photos": photos},
        format="multipart",
    )
    assert response.status_code == 201 and len(response.json()["photos"]) == 2


def test_a_return_is_json_or_multipart_not_a_urlencoded_form(shop, order):
    response = shop.owner.post(
        RETURNS,
        {"order_number": order.number, "lines": json.dumps([line("A-1", 1)])},
        format=None,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415
    assert not ReturnRequest.objects.exists()


def test_a_photo_whose_file_is_gone_is_404_not_500(shop, order):
    body = _with_photo(shop, order)
    ReturnRequest.objects.get(number=body["number"]).photos.get().file.delete(save=False)
    response = shop.owner.get(body["photos"][0]["url"])
    assert response.status_code == 404 and "missing" in response.json()["detail"]


# --- receipt, quarantine, credit ---------------------------------------------------------------


def test_received_quantities_and_quarantine_decide_stock_and_serials(
    shop, order, integration_client
):
    erp = integration_client()
    number = ask(
        shop.owner,
        order,
        [line("A-1", 4), line("CAM", 2, "defective", serial_numbers=["CAM-001", "CAM-002"])],
    ).json()["number"]
    erp_status(erp, number, "approved")
    before = on_hand(shop, "A-1"), on_hand(shop, "CAM")
    response = erp_status(
        erp,
        number,
        "received",
        lines=[
            {"sku": "A-1", "quantity": 3},
            {"sku": "CAM", "quantity": 2, "quarantine": True},
        ],
    )
    assert response.status_code == 200, response.content
    assert (on_hand(shop, "A-1"), on_hand(shop, "CAM")) == (before[0] + 3, before[1])
    assert set(
        SerialNumber.objects.filter(serial__in=["CAM-001", "CAM-002"]).values_list(
            "status", flat=True
        )
    ) == {"quarantine"}
    lines = {x["sku"]: x for x in response.json()["lines"]}
    assert (lines["A-1"]["received_quantity"], lines["CAM"]["quarantined_quantity"]) == (3, 2)
    credited = erp_status(erp, number, "credited").json()
    # what came back is credited, quarantined or not: 3 x 100 + 2 x 1000, VAT 20 %
    assert credited["credit"] == {"net": "2300.00", "vat": "460.00", "gross": "2760.00"}


def test_a_receipt_of_more_than_asked_or_of_nothing_is_refused(shop, order, integration_client):
    erp = integration_client()
    number = ask(shop.owner, order, [line("A-1", 2)]).json()["number"]
    erp_status(erp, number, "approved")
    response = erp_status(erp, number, "received", lines=[{"sku": "A-1", "quantity": 3}])
    assert response.status_code == 400 and "lines.0.quantity" in response.json()["errors"]
    response = erp_status(erp, number, "received", lines=[{"sku": "A-1", "quantity": 0}])
    assert response.status_code == 400
    # an empty list is no receipt either (left out, ``lines`` means all that was asked)
    response = erp_status(erp, number, "received", lines=[])
    assert response.status_code == 400 and "lines" in response.json()["errors"]
    assert ReturnRequest.objects.get().status == "approved"
    assert not StockMovement.objects.filter(kind="return").exists()


def test_a_serial_tracked_line_received_as_none_needs_no_serial_numbers(
    shop, order, integration_client
):
    """Nothing came back of the camera: quantity 0 and no serials is that (it was refused as
    "Name the 0 serial numbers received")."""
    erp = integration_client()
    cameras = ["CAM-001", "CAM-002"]
    number = ask(
        shop.owner, order, [line("A-1", 2), line("CAM", 2, "defective", serial_numbers=cameras)]
    ).json()["number"]
    erp_status(erp, number, "approved")
    response = erp_status(
        erp,
        number,
        "received",
        lines=[{"sku": "A-1", "quantity": 2}, {"sku": "CAM", "quantity": 0}],
    )
    assert response.status_code == 200, response.content
    lines = {x["sku"]: x for x in response.json()["lines"]}
    assert (lines["A-1"]["received_quantity"], lines["CAM"]["received_quantity"]) == (2, 0)
    assert not SerialNumber.objects.filter(serial__in=cameras, status="in_stock").exists()


# --- the status machine and the ERP -----------------------------------------------------------


def test_the_status_machine_refuses_skipped_steps_and_repeats_change_nothing(
    shop, order, integration_client
):
    erp = integration_client()
    number = ask(shop.owner, order, [line("A-1", 1)]).json()["number"]
    assert erp_status(erp, number, "received").status_code == 409
    assert erp_status(erp, number, "credited").status_code == 409
    approved = erp_status(erp, number, "approved")
    assert approved.json()["changed"] is True
    again = erp_status(erp, number, "approved")
    assert again.status_code == 200 and again.json()["changed"] is False
    assert erp_status(erp, number, "rejected", note="late").status_code == 409
    assert shop.owner.post(f"{RETURNS}/{number}/cancel").status_code == 409
    assert ReturnRequest.objects.get().status_history.count() == 2


def test_a_forbidden_or_repeated_rejection_is_judged_before_its_reason(
    shop, order, integration_client
):
    """API.md: a forbidden move is a 409 and a repeat of the status it has is 200 unchanged,
    with or without a reason; both answered 400 "note" when no reason came."""
    erp = integration_client()
    rejected = ask(shop.owner, order, [line("A-1", 1)]).json()["number"]
    assert erp_status(erp, rejected, "rejected", note="Used").status_code == 200
    again = erp_status(erp, rejected, "rejected")
    assert again.status_code == 200 and again.json()["changed"] is False
    approved = ask(shop.owner, order, [line("A-1", 1)]).json()["number"]
    assert erp_status(erp, approved, "approved").status_code == 200
    forbidden = erp_status(erp, approved, "rejected")
    assert forbidden.status_code == 409 and forbidden.json()["code"] == "invalid_transition"


def test_photos_in_a_json_body_are_refused_not_dropped(shop, order):
    response = shop.owner.post(
        RETURNS,
        {"order_number": order.number, "lines": [line("A-1", 1)], "photos": ["aGVsbG8="]},
        format="json",
    )
    assert response.status_code == 400 and list(response.json()["errors"]) == ["photos"]
    assert not ReturnRequest.objects.exists()


def test_rejecting_needs_a_reason(shop, order, integration_client):
    erp = integration_client()
    number = ask(shop.owner, order, [line("A-1", 1)]).json()["number"]
    response = erp_status(erp, number, "rejected")
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["note"]  # the field to send (docs/returns.md)
    response = erp_status(erp, number, "rejected", note="Opened and used")
    assert response.json()["decision_note"] == "Opened and used"


def test_the_erp_pulls_returns_by_status_and_change_time(shop, order, integration_client):
    erp = integration_client(scopes=["returns:read"])
    first = ask(shop.owner, order, [line("A-1", 1)]).json()["number"]
    ask(shop.owner, order, [line("A-1", 1)])
    page = erp.get("/api/integration/v1/returns?status=requested").json()
    assert page["count"] == 2 and page["results"][0]["number"] == first
    assert page["results"][0]["customer_code"] == shop.customer.code
    later = (timezone.now() + dt.timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert erp.get(f"/api/integration/v1/returns?updated_since={later}").json()["count"] == 0
    assert erp_status(erp, first, "approved").status_code == 403  # no returns:write


def test_the_erp_pulls_returns_sharing_one_change_time_by_cursor_without_a_stall(
    shop, order, integration_client
):
    erp = integration_client(scopes=["returns:read"])
    numbers = [ask(shop.owner, order, [line("A-1", 1)]).json()["number"] for _ in range(3)]
    ReturnRequest.objects.update(updated_at=dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC))
    since = "2026-03-01T12:00:00Z"
    # by page number the connector's first page from the last time seen never moves on
    page = erp.get(f"/api/integration/v1/returns?updated_since={since}&page_size=2").json()
    assert [r["number"] for r in page["results"]] == numbers[:2]
    # by cursor it reaches the third
    page = erp.get(f"/api/integration/v1/returns?updated_since={since}&page_size=2&cursor=")
    following = erp.get(page.json()["next"]).json()
    assert [r["number"] for r in following["results"]] == numbers[2:]
    assert following["next"] is None and following["count"] == 3


def test_return_lists_run_a_fixed_number_of_queries(
    shop, order, integration_client, django_assert_max_num_queries
):
    erp = integration_client()
    ask(shop.owner, order, [line("A-1", 1)])
    shop.owner.get(RETURNS)
    with django_assert_max_num_queries(12) as one:
        assert shop.owner.get(RETURNS).json()["count"] == 1
    dealer_queries = len(one)
    erp.get("/api/integration/v1/returns")
    with django_assert_max_num_queries(20) as erp_one:
        erp.get("/api/integration/v1/returns")
    erp_queries = len(erp_one)
    for _ in range(4):
        ask(shop.owner, order, [line("A-1", 1)])
    with django_assert_max_num_queries(dealer_queries):
        assert shop.owner.get(RETURNS).json()["count"] == 5
    with django_assert_max_num_queries(erp_queries):
        assert erp.get("/api/integration/v1/returns").json()["count"] == 5


@pytest.mark.parametrize("payload", ["null", "[]", "3", '"x"'])
def test_a_body_that_is_not_an_object_is_400(shop, payload):
    response = shop.owner.post(RETURNS, payload, content_type="application/json")
    assert response.status_code == 400
    assert ReturnRequest.objects.count() == 0


def test_a_refused_request_leaves_no_photo_in_the_storage(shop, order):
    """Photos are stored before the order's lines are locked; a refusal removes them."""
    import json

    from django.core.files.storage import default_storage
    from django.core.files.uploadedfile import SimpleUploadedFile

    def stored():
        return (
            set(default_storage.listdir("returns")[1])
            if default_storage.exists("returns")
            else set()
        )

    before = stored()
    response = shop.owner.post(
        RETURNS,
        {
            "order_number": order.number,
            "lines": json.dumps([line("A-1", 99)]),  # more than shipped: refused
            "photos": [SimpleUploadedFile("crushed.png", _png(), "image/png")],
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert stored() == before and ReturnRequest.objects.count() == 0


# --- hostile bodies: 400 on the field, nothing asked ------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"[" * 5000 + b"]" * 5000, "parse_error"),  # Python's decoder would recurse
        (b'{"order_number": "SO-1", "note": "a", "note": "b"}', "parse_error"),  # a key twice
    ],
)
def test_a_hostile_json_body_answers_400_parse_error(shop, order, body, code):
    response = shop.owner.generic("POST", RETURNS, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert ReturnRequest.objects.count() == 0


@pytest.mark.parametrize("bad", ["\x00", "a\x00b", "\ud800"])
@pytest.mark.parametrize("field", ["order_number", "note", "lines.0.reason_text"])
def test_text_postgresql_cannot_store_answers_400_on_its_field(shop, order, field, bad):
    """NUL characters and lone surrogates reach the service's own text checks (JSON and
    form bodies alike), which refuse them by field as DRF's text fields do."""
    body = {"order_number": order.number, "lines": [line("A-1", 1, reason="other")]}
    if field == "lines.0.reason_text":
        body["lines"][0]["reason_text"] = bad
    else:
        body[field] = bad
    text = json.dumps(body)  # ASCII: the surrogate as its escape, as a client sends it
    response = shop.owner.generic("POST", RETURNS, text, content_type="application/json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert ReturnRequest.objects.count() == 0


def test_multipart_lines_that_nest_too_deep_answer_400_on_lines(shop, order):
    body = {"order_number": order.number, "lines": "[" * 5000 + "]" * 5000}
    response = shop.owner.post(RETURNS, body, format="multipart")
    assert response.status_code == 400, response.content
    assert "lines" in response.json()["errors"]


@pytest.mark.parametrize("body", [b'{"a":', b'{"reason": "x"}', b"[1]"])
def test_cancel_takes_no_input_and_refuses_a_body(shop, order, body):
    number = ask(shop.owner, order, [line("A-1", 1)]).json()["number"]
    url = f"{RETURNS}/{number}/cancel"
    response = shop.owner.generic("POST", url, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert ReturnRequest.objects.get(number=number).status == "requested"
    assert shop.owner.post(url).status_code == 200


def test_a_line_returned_in_parts_credits_what_the_dealer_paid_to_the_kurus(
    shop, integration_client
):
    """3 units at 10.0050: the order line is 30.02 + 6.00 VAT. Three returns of one unit each
    credit 36.02 in all (each rounded alone: 3 x 12.01 = 36.03, a kuruş more than paid)."""
    shop.product("ODD", price="10.0050", stock=10)
    order = delivered_order(shop, items=(("ODD", 3),))
    assert order.grand_total == D("36.02")
    erp = integration_client()
    credits = []
    for _unit in range(3):
        number = ask(shop.owner, order, [line("ODD", 1)]).json()["number"]
        for status in ("approved", "received", "credited"):
            answer = erp_status(erp, number, status)
            assert answer.status_code == 200, answer.content
        credits.append(answer.json()["credit"])
    assert sum(D(c["gross"]) for c in credits) == D("36.02")
    assert sum(D(c["net"]) for c in credits) == D("30.02")
    assert sum(D(c["vat"]) for c in credits) == D("6.00")
    notes = LedgerEntry.objects.filter(kind="credit_note")
    assert sum(e.amount for e in notes) == -order.grand_total


@pytest.mark.parametrize(
    ("price", "quantity"),
    [("0", 2), ("0.0040", 2)],  # free goods; one unit's share of a 0.01 line rounds to 0.00
)
def test_a_return_worth_0_00_is_credited_with_no_ledger_entry(
    shop, integration_client, staff_client, price, quantity
):
    """Rule "received -> credited (credit note at the order's prices)": nothing was paid for
    these units, so nothing is credited, and the return still closes (a credit note of 0.00
    is no ledger entry; before, the return stayed received for good)."""
    shop.product("FREE", price=price, stock=10)
    order = delivered_order(shop, items=(("FREE", quantity),))
    erp = integration_client()
    number = ask(shop.owner, order, [line("FREE", 1)]).json()["number"]
    for status in ("approved", "received"):
        assert erp_status(erp, number, status).status_code == 200
    page = staff_client(superuser=True).get(
        f"/admin/returns/returnrequest/{ReturnRequest.objects.get(number=number).pk}/credit/"
    )
    assert "nothing to credit" in page.content.decode()
    balance = sum(e.amount for e in LedgerEntry.objects.filter(customer=shop.customer))
    answer = erp_status(erp, number, "credited")
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "credited"
    assert answer.json()["credit"] == {"net": "0.00", "vat": "0.00", "gross": "0.00"}
    request = ReturnRequest.objects.get(number=number)
    assert request.credit_note is None and request.credited_at is not None
    assert not LedgerEntry.objects.filter(kind="credit_note").exists()
    assert sum(e.amount for e in LedgerEntry.objects.filter(customer=shop.customer)) == balance
    assert OutboxEvent.objects.filter(type="return.credited").count() == 1


def test_a_credit_note_posted_after_midnight_in_istanbul_is_dated_that_day(
    dealer_client, integration_client
):
    """The API answers in UTC; a ledger entry's date is the distributor's business day: at
    22:30 UTC it is 01:30 of the next day in Istanbul."""
    import time_machine

    from tests.returns.conftest import make_shop

    moment = dt.datetime(2026, 6, 10, 22, 30, tzinfo=dt.UTC)
    with time_machine.travel(moment, tick=False):
        shop = make_shop(dealer_client)
        order = delivered_order(shop, items=(("A-1", 1),))
        erp = integration_client()
        number = ask(shop.owner, order, [line("A-1", 1)]).json()["number"]
        for status in ("approved", "received", "credited"):
            assert erp_status(erp, number, status).status_code == 200
        entry = LedgerEntry.objects.get(kind="credit_note")
        assert entry.entry_date == dt.date(2026, 6, 11)
        statement = shop.owner.get("/api/v1/account/statement?date_from=2026-06-11").json()
        assert number in str(statement)


def test_a_returns_credit_note_pays_its_orders_invoice_first(shop, integration_client):
    """The goods of an invoiced order came back: its credit note pays that order's invoice,
    not the dealer's oldest open debt (which would leave the returned goods' invoice to go
    overdue and be reminded)."""
    from tests.finance import helpers as h

    shop.customer.code = "BAYI-R"
    shop.customer.save(update_fields=["code"])
    order = delivered_order(shop, items=(("A-1", 1),))  # 100 + 20 % VAT
    erp = integration_client()
    unit = h.line(quantity="1", unit_net="100.0000", sku="A-1")
    h.post(
        erp,
        h.INVOICES,
        [
            h.invoice(
                number="ABC2026000000001",
                customer_code="BAYI-R",
                issue_date="2026-10-01",
                due_date="2026-10-15",
            ),
            h.invoice(
                number="ABC2026000000002",
                customer_code="BAYI-R",
                order_number=order.number,
                lines=[unit],
            ),
        ],
    )
    number = ask(shop.owner, order, [line("A-1", 1)]).json()["number"]
    for status in ("approved", "received", "credited"):
        assert erp_status(erp, number, status).status_code == 200

    def invoice(n):
        return shop.client("finance").get(f"/api/v1/invoices/ABC202600000000{n}").json()

    assert (invoice(2)["open_amount"], invoice(2)["status"]) == ("0.00", "paid")
    assert invoice(1)["paid_amount"] == "0.00"


def test_a_returns_credit_note_waits_for_its_orders_invoice_when_the_erp_invoices_later(
    shop, integration_client
):
    """The goods came back before the ERP invoiced the order: the credit note pays nothing
    else meanwhile (not an older invoice in the same batch), and pays the order's invoice
    when it comes; the order's invoice is open for what the dealer kept, not for all of it."""
    from tests.finance import helpers as h

    shop.customer.code = "BAYI-L"
    shop.customer.save(update_fields=["code"])
    order = delivered_order(shop, items=(("A-1", 5),))  # 5 x 100 + 20 % VAT = 600.00
    erp = integration_client()
    number = ask(shop.owner, order, [line("A-1", 2)]).json()["number"]
    for status in ("approved", "received", "credited"):
        assert erp_status(erp, number, status).status_code == 200
    credit = LedgerEntry.objects.get(kind="credit_note")
    assert credit.amount == D("-240.00") and credit.order_id == order.pk
    h.post(
        erp,
        h.INVOICES,
        [
            h.invoice(  # older, not the order's: due long ago
                number="ABC2026000000001",
                customer_code="BAYI-L",
                issue_date="2026-08-01",
                due_date="2026-08-15",
            ),
            h.invoice(
                number="ABC2026000000002",
                customer_code="BAYI-L",
                order_number=order.number,
                lines=[h.line(quantity="5", unit_net="100.0000", sku="A-1")],
            ),
        ],
    )

    def invoice(n):
        return shop.client("finance").get(f"/api/v1/invoices/ABC202600000000{n}").json()

    own = invoice(2)
    assert (own["gross"], own["paid_amount"], own["open_amount"]) == ("600.00", "240.00", "360.00")
    assert number in str(own["payments"])
    assert invoice(1)["paid_amount"] == "0.00"


def test_a_back_office_step_sent_again_says_nothing_changed(shop, integration_client, staff_client):
    """Crediting a return twice (a second tab, a reload) credits once and said "is credited"
    again, as if it had; the order screens already said "nothing changed"."""
    shop.product("TWICE", price="10", stock=10)
    order = delivered_order(shop, items=(("TWICE", 2),))
    erp = integration_client()
    number = ask(shop.owner, order, [line("TWICE", 1)]).json()["number"]
    for status in ("approved", "received"):
        assert erp_status(erp, number, status).status_code == 200
    client = staff_client(superuser=True)
    url = f"/admin/returns/returnrequest/{ReturnRequest.objects.get(number=number).pk}/credit/"
    first = client.post(url, {"note": ""}, follow=True)
    assert f"Return {number} is credited." in first.content.decode()
    again = client.post(url, {"note": ""}, follow=True)
    page = again.content.decode()
    assert f"Return {number} was credited already: nothing changed." in page
    assert f"Return {number} is credited." not in page
    assert LedgerEntry.objects.filter(kind="credit_note").count() == 1
