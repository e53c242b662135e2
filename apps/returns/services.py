"""Every write of a return (DESIGN.md "Returns"), each one transaction:

* ``return_request``: a dealer asks to return lines of a delivered order of its company,
  within ``RETURN_WINDOW_DAYS`` of delivery (calendar days in the distributor's time zone,
  Europe/Istanbul). Per line at most the shipped quantity minus what the line's earlier returns
  not turned down (requested, approved, received, credited) asked; serial-tracked lines name
  serial numbers that shipped on that line and no earlier return named. The order's lines are
  locked first, so parallel requests for the last units cannot both pass.
* ``return_cancel`` (the dealer, while requested), ``return_decide`` (approve or reject, staff
  or the ERP), ``return_receive`` (the goods are back: ``return`` stock movements; serials back
  in stock, or in quarantine, not on hand), ``return_credit`` (a ``credit_note`` on the ledger:
  the received quantities at the order line's unit price, VAT per line, to the kuruş).

Every move asks ``apps.returns.states``, records the change (who, when, from, to, note),
writes ``return.*`` to the outbox and e-mails the dealer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalog.images import validate_image
from apps.core.clock import business_date, business_today
from apps.core.exceptions import Conflict, ValidationError
from apps.core.money import part_amounts, quantity_clean
from apps.core.sequences import sequence_next
from apps.core.text import choices_text, text_value
from apps.finance.descriptions import credit_note_text
from apps.finance.models import LedgerEntry
from apps.finance.services.ledger import ledger_post
from apps.inventory.models import SerialNumber, StockMovement
from apps.inventory.services import stock_return
from apps.orders.models import Order, OrderLine, OrderStatus
from apps.orders.services.placement import order_reference
from apps.returns.events import return_event_emit
from apps.returns.models import (
    ReturnLine,
    ReturnNumberSequence,
    ReturnPhoto,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
    ReturnStatusChange,
    photo_path,
)
from apps.returns.notifications import return_requested_alert, return_status_notify
from apps.returns.states import DEALER, OPEN_OR_DONE, check_transition

S = ReturnStatus
MAX_LINES = 200
MAX_PHOTOS = 5
MAX_TEXT = 2000


def return_reference(number: str) -> str:
    return f"return:{number}"


def _text(value, field: str, *, required: bool = False, max_length: int = MAX_TEXT) -> str:
    return text_value(value, field, max_length=max_length, required=required)


# --- requesting -------------------------------------------------------------------------------


def return_window_open(order: Order, *, today=None) -> bool:
    """Delivered at most ``RETURN_WINDOW_DAYS`` calendar days ago (Europe/Istanbul): an order
    delivered on the 1st may be returned until the end of the 15th with the default 14."""
    if order.delivered_at is None:
        return False
    today = today or business_today()
    delivered = business_date(order.delivered_at)
    return (today - delivered).days <= settings.RETURN_WINDOW_DAYS


def _already_asked(order: Order) -> tuple[dict[int, int], dict[int, set[str]]]:
    """Per order line: the quantity and the serials of its returns not turned down."""
    quantities = dict(
        ReturnLine.objects.filter(order_line__order=order, request__status__in=OPEN_OR_DONE)
        .values("order_line")
        .annotate(total=Sum("quantity"))
        .values_list("order_line", "total")
    )
    serials: dict[int, set[str]] = defaultdict(set)
    for line_id, names in ReturnLine.objects.filter(
        order_line__order=order, request__status__in=OPEN_OR_DONE
    ).values_list("order_line", "serial_numbers"):
        serials[line_id].update(names or [])
    return quantities, serials


def _clean_lines(order: Order, lines, order_lines: Mapping[str, OrderLine]) -> list[dict]:
    if not isinstance(lines, list) or not lines:
        raise ValidationError({"lines": [_("Name at least one line to return.")]})
    if len(lines) > MAX_LINES:
        raise ValidationError({"lines": [_("At most %(n)d lines.") % {"n": MAX_LINES}]})
    asked, asked_serials = _already_asked(order)
    errors: dict[str, list[str]] = {}
    cleaned, seen = [], set()
    for index, raw in enumerate(lines):
        at = f"lines.{index}"
        if not isinstance(raw, dict):
            errors[at] = [_("Each line is an object with sku, quantity and reason.")]
            continue
        unknown = sorted(set(raw) - {"sku", "quantity", "reason", "reason_text", "serial_numbers"})
        for name in unknown:
            errors[f"{at}.{name}"] = [_("Unknown field.")]
        try:
            sku = _text(raw.get("sku"), f"{at}.sku", required=True, max_length=64)
            quantity = quantity_clean(raw.get("quantity"), f"{at}.quantity")
            reason_text = _text(raw.get("reason_text"), f"{at}.reason_text", max_length=500)
        except ValidationError as exc:
            errors.update(exc.errors)
            continue
        reason = raw.get("reason")
        if reason not in ReturnReason.values:
            errors[f"{at}.reason"] = [
                _("Choose one of: %(choices)s.") % {"choices": choices_text(ReturnReason)}
            ]
            continue
        if reason == ReturnReason.OTHER and not reason_text:
            errors[f"{at}.reason_text"] = [_("Say what is wrong.")]
            continue
        line = order_lines.get(sku)
        if line is None:
            errors[f"{at}.sku"] = [_("This order has no line with this SKU.")]
            continue
        if sku in seen:
            errors[f"{at}.sku"] = [_("Named twice.")]
            continue
        seen.add(sku)
        left = line.quantity - asked.get(line.pk, 0)
        if quantity > left:
            errors[f"{at}.quantity"] = [
                _("At most %(left)d of %(sku)s can still be returned (%(shipped)d shipped).")
                % {"left": max(left, 0), "sku": sku, "shipped": line.quantity}
            ]
            continue
        serials = raw.get("serial_numbers")
        if line.product.serial_tracked:
            if not isinstance(serials, list) or not all(isinstance(s, str) for s in serials):
                errors[f"{at}.serial_numbers"] = [
                    _("Name the serial number of each unit you return.")
                ]
                continue
            serials = [s.strip() for s in serials]
            problems = []
            if len(serials) != quantity:
                problems.append(
                    _("Name exactly %(n)d serial numbers, one per unit.") % {"n": quantity}
                )
            if len(set(serials)) != len(serials):
                problems.append(_("A serial number is named twice."))
            shipped = set(line.serial_numbers or [])
            problems += [
                _("%(serial)s did not ship on this line.") % {"serial": s}
                for s in serials
                if s not in shipped
            ]
            problems += [
                _("%(serial)s is on an earlier return.") % {"serial": s}
                for s in serials
                if s in asked_serials.get(line.pk, set())
            ]
            if problems:
                errors[f"{at}.serial_numbers"] = problems
                continue
        elif serials not in (None, []):
            errors[f"{at}.serial_numbers"] = [_("This product is not serial-tracked.")]
            continue
        else:
            serials = []
        cleaned.append(
            {
                "order_line": line,
                "sku": sku,
                "quantity": quantity,
                "reason": reason,
                "reason_text": reason_text,
                "serial_numbers": serials,
            }
        )
    if errors:
        raise ValidationError(errors)
    return cleaned


def _clean_photos(photos: Sequence) -> list:
    if len(photos) > MAX_PHOTOS:
        raise ValidationError({"photos": [_("At most %(n)d photos.") % {"n": MAX_PHOTOS}]})
    errors = {}
    for index, photo in enumerate(photos):
        try:
            image_format = validate_image(photo)
        except DjangoValidationError as exc:
            errors[f"photos.{index}"] = list(exc.messages)
            continue
        photo.image_format = image_format
    if errors:
        raise ValidationError(errors)
    return list(photos)


def return_request(
    *, user, order_number, lines, note: str | None = "", photos: Sequence = ()
) -> ReturnRequest:
    """A dealer's return request (201 ``requested``). An order number the company does not
    have (another company's included) is a 400 on ``order_number``, as a card payment's: the
    body names it, the URL does not."""
    customer = user.customer
    number = _text(order_number, "order_number", required=True, max_length=32)
    note = _text(note, "note")
    photos = _clean_photos(photos)
    order = Order.objects.filter(customer=customer, number=number).first()
    if order is None:
        raise ValidationError({"order_number": [_("Your company has no order with this number.")]})
    # the photos go to the storage (possibly S3) before the order's lines are locked, and are
    # removed again when the request is refused
    stored = _store_photos(photos)
    try:
        return _request_locked(user, customer, order, lines, note, stored)
    except BaseException:
        for name, _type, _size in stored:
            default_storage.delete(name)
        raise


def _store_photos(photos: Sequence) -> list[tuple[str, str, int]]:
    stored = []
    for photo in photos:
        # named by what the file is (read by ``validate_image``), not by what the client
        # called it: "evil.exe" holding a JPEG is stored as .jpg, and a 240-letter
        # extension cannot make the name too long for the storage or the column
        image_format = photo.image_format.lower()
        extension = "jpg" if image_format == "jpeg" else image_format
        name = default_storage.save(photo_path(None, f"photo.{extension}"), photo)
        stored.append((name, f"image/{image_format}", photo.size))
    return stored


def _request_locked(user, customer, order, lines, note, stored) -> ReturnRequest:
    with transaction.atomic():
        # the order's lines, locked: a parallel request for the same lines waits here and
        # then counts this one's quantities
        order_lines = {
            line.sku: line
            for line in OrderLine.objects.select_for_update(of=("self",))
            .select_related("product")
            .filter(order=order)
            .order_by("id")
        }
        order.refresh_from_db(fields=["status", "delivered_at"])
        if order.status != OrderStatus.DELIVERED:
            raise Conflict(
                _("Only delivered orders can be returned; order %(n)s is %(status)s.")
                % {"n": order.number, "status": order.get_status_display()},
                code="order_not_delivered",
            )
        if not return_window_open(order):
            raise Conflict(
                _("Order %(n)s was delivered more than %(days)d days ago: it cannot be returned.")
                % {"n": order.number, "days": settings.RETURN_WINDOW_DAYS},
                code="return_window_closed",
            )
        cleaned = _clean_lines(order, lines, order_lines)
        request = ReturnRequest.objects.create(
            number=sequence_next(ReturnNumberSequence, prefix="RMA"),
            customer=customer,
            order=order,
            note=note,
            requested_by=user,
        )
        ReturnLine.objects.bulk_create(ReturnLine(request=request, **line) for line in cleaned)
        ReturnPhoto.objects.bulk_create(
            ReturnPhoto(request=request, file=name, content_type=content_type, size=size)
            for name, content_type, size in stored
        )
        ReturnStatusChange.objects.create(
            request=request, to_status=S.REQUESTED, changed_by=user, actor=DEALER, note=note
        )
        return_event_emit("return.requested", request)
        return_status_notify(request)
        return_requested_alert(request)
    return request


# --- moves ------------------------------------------------------------------------------------


def _locked(request: ReturnRequest) -> ReturnRequest:
    return (
        ReturnRequest.objects.select_for_update(of=("self",))
        .select_related("customer", "order")
        .get(pk=request.pk)
    )


def _move(
    request: ReturnRequest,
    to: str,
    *,
    actor: str,
    by=None,
    note: str = "",
    stamp: str = "",
    api_key=None,
) -> ReturnRequest:
    check_transition(request.status, to, actor)
    previous = request.status
    now = timezone.now()
    request.status = to
    fields = ["status", "updated_at"]
    if stamp:
        setattr(request, stamp, now)
        fields.append(stamp)
    if to in (S.APPROVED, S.REJECTED):
        request.decision_note = note
        fields.append("decision_note")
    request.save(update_fields=fields)
    ReturnStatusChange.objects.create(
        request=request,
        from_status=previous,
        to_status=to,
        changed_by=by if getattr(by, "pk", None) else None,
        api_key=api_key,
        actor=actor,
        note=note,
        created_at=now,
    )
    return_event_emit("return.status_changed", request, previous_status=previous)
    return_status_notify(request, note=note)
    return request


def return_cancel(*, request: ReturnRequest, by) -> ReturnRequest:
    with transaction.atomic():
        return _move(_locked(request), S.CANCELLED, actor=DEALER, by=by)


def return_decide(
    *, request: ReturnRequest, status: str, actor: str, by=None, api_key=None, note: str = ""
) -> tuple[ReturnRequest, bool]:
    """Approve or reject (a reason is required to reject). The status it has already:
    ``(request, False)``, nothing changes."""
    if status not in (S.APPROVED, S.REJECTED):
        raise ValidationError({"status": [_("Approve or reject.")]})
    with transaction.atomic():
        request = _locked(request)
        if request.status == status:
            return request, False
        # the move first (a forbidden one is a 409 with or without a reason), then its reason
        check_transition(request.status, status, actor)
        note = _text(note, "note", required=status == S.REJECTED)  # the field callers send
        moved = _move(
            request, status, actor=actor, by=by, note=note, stamp="decided_at", api_key=api_key
        )
        return moved, True


def _room_per_warehouse(request: ReturnRequest) -> dict[int, dict[int, int]]:
    """``{product: {warehouse: units}}``: how many units of each product the order sold from
    each warehouse, less what its other returns put back there, largest first."""
    room: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for product_id, warehouse_id, quantity in StockMovement.objects.filter(
        reference=order_reference(request.order.number), kind=StockMovement.Kind.SALE
    ).values_list("product_id", "warehouse_id", "quantity"):
        room[product_id][warehouse_id] += -quantity
    others = [
        return_reference(number)
        for number in ReturnRequest.objects.filter(order_id=request.order_id)
        .exclude(pk=request.pk)
        .values_list("number", flat=True)
    ]
    for product_id, warehouse_id, quantity in StockMovement.objects.filter(
        reference__in=others, kind=StockMovement.Kind.RETURN
    ).values_list("product_id", "warehouse_id", "quantity"):
        room[product_id][warehouse_id] -= quantity
    return {
        product_id: dict(sorted(by_warehouse.items(), key=lambda item: (-item[1], item[0])))
        for product_id, by_warehouse in room.items()
    }


def _restock_split(room: dict[int, int], quantity: int) -> list[tuple[int, int]]:
    """``[(warehouse, units)]``: ``quantity`` units back where they were sold from, as the
    sale split them (a shipment from Istanbul and Ankara went back to one of them)."""
    split, left = [], quantity
    for warehouse_id, units in room.items():
        take = min(left, max(units, 0))
        if take:
            split.append((warehouse_id, take))
            left -= take
    if left and room:  # more than the recorded sales leave room for: the largest takes it
        first = next(iter(room))
        split = [(w, q + left) if w == first else (w, q) for w, q in split] or [(first, left)]
    return split


def _restock_parts(product, room: dict[int, int], quantity: int, item: dict):
    """``[(warehouse, units, serials or None)]`` of one returned line: a serial goes back to
    the warehouse it was sold from; other units as the sale split them."""
    if not product.serial_tracked:
        return [(warehouse, units, None) for warehouse, units in _restock_split(room, quantity)]
    sold_from = dict(
        SerialNumber.objects.filter(product=product, serial__in=item["serials"]).values_list(
            "serial", "warehouse_id"
        )
    )
    by_warehouse: dict[int, list[str]] = defaultdict(list)
    for serial in item["serials"]:
        by_warehouse[sold_from.get(serial) or next(iter(room))].append(serial)
    return [(warehouse, len(names), names) for warehouse, names in sorted(by_warehouse.items())]


def _clean_receipt(request: ReturnRequest, lines) -> dict[int, dict]:
    """``{return line id: {quantity, quarantine, serials}}``; no ``lines``: all of it."""
    by_sku = {line.sku: line for line in request.lines.select_related("order_line__product")}
    if lines in (None, []):
        return {
            line.pk: {
                "line": line,
                "quantity": line.quantity,
                "quarantine": False,
                "serials": list(line.serial_numbers),
            }
            for line in by_sku.values()
        }
    if not isinstance(lines, list):
        raise ValidationError({"lines": [_("A list of {sku, quantity, quarantine?}.")]})
    errors: dict[str, list[str]] = {}
    received: dict[int, dict] = {}
    for index, raw in enumerate(lines):
        at = f"lines.{index}"
        if not isinstance(raw, dict):
            errors[at] = [_("Each line is an object with sku and quantity.")]
            continue
        line = by_sku.get(raw.get("sku"))
        if line is None:
            errors[f"{at}.sku"] = [_("This return has no line with this SKU.")]
            continue
        if line.pk in received:
            errors[f"{at}.sku"] = [_("Named twice.")]
            continue
        quantity = raw.get("quantity")
        if (
            isinstance(quantity, bool)
            or not isinstance(quantity, int)
            or not (0 <= quantity <= line.quantity)
        ):
            errors[f"{at}.quantity"] = [
                _("Enter 0 to %(n)d (the quantity asked).") % {"n": line.quantity}
            ]
            continue
        quarantine = raw.get("quarantine", False)
        if not isinstance(quarantine, bool):
            errors[f"{at}.quarantine"] = [_("true or false.")]
            continue
        serials = raw.get("serial_numbers")
        if line.order_line.product.serial_tracked:
            if serials is None and quantity in (0, line.quantity):  # none, or all it named
                serials = list(line.serial_numbers) if quantity else []
            if (
                not isinstance(serials, list)
                or len(serials) != quantity
                or len(set(serials)) != len(serials)
                or not set(serials) <= set(line.serial_numbers)
            ):
                errors[f"{at}.serial_numbers"] = [
                    _("Name the %(n)d serial numbers received, from those the return named.")
                    % {"n": quantity}
                ]
                continue
        elif serials not in (None, []):
            errors[f"{at}.serial_numbers"] = [_("This product is not serial-tracked.")]
            continue
        received[line.pk] = {
            "line": line,
            "quantity": quantity,
            "quarantine": quarantine,
            "serials": list(serials or []),
        }
    if errors:
        raise ValidationError(errors)
    for line in by_sku.values():  # lines not named: nothing came back
        received.setdefault(
            line.pk, {"line": line, "quantity": 0, "quarantine": False, "serials": []}
        )
    if not any(item["quantity"] for item in received.values()):
        raise ValidationError({"lines": [_("Nothing received: reject the return instead.")]})
    return received


def return_receive(
    *, request: ReturnRequest, actor: str, by=None, api_key=None, lines=None, note: str = ""
) -> tuple[ReturnRequest, bool]:
    """The goods are back: per line the quantity received (default: all asked). Units back in
    stock are a ``return`` movement into the warehouse the order was sold from (serials
    ``returned``, sellable); quarantined units are not on hand (serials ``quarantine``)."""
    note = _text(note, "note")
    with transaction.atomic():
        request = _locked(request)
        if request.status == S.RECEIVED:
            return request, False
        check_transition(request.status, S.RECEIVED, actor)
        received = _clean_receipt(request, lines)
        rooms = _room_per_warehouse(request)
        reference = return_reference(request.number)
        for item in received.values():
            line = item["line"]
            product = line.order_line.product
            restock = 0 if item["quarantine"] else item["quantity"]
            room = rooms.get(product.pk)
            if restock:
                if not room:
                    raise Conflict(
                        _("No sale of %(sku)s is recorded for this order.") % {"sku": line.sku},
                        code="no_sale_recorded",
                    )
                for warehouse, units, serials in _restock_parts(product, room, restock, item):
                    stock_return(
                        product=product,
                        warehouse=warehouse,
                        quantity=units,
                        reference=reference,
                        actor=by,
                        serials=serials,
                        reason=_("Return %(n)s") % {"n": request.number},
                    )
            elif item["quarantine"] and item["serials"]:
                # each serial stays recorded where it was sold from (where it left)
                SerialNumber.objects.filter(
                    product=product, serial__in=item["serials"], status=SerialNumber.Status.SOLD
                ).update(
                    status=SerialNumber.Status.QUARANTINE,
                    reference=reference,
                    updated_at=timezone.now(),
                )
            line.received_quantity = item["quantity"]
            line.quarantined_quantity = item["quantity"] if item["quarantine"] else 0
            line.received_serials = item["serials"]
            line.save(
                update_fields=["received_quantity", "quarantined_quantity", "received_serials"]
            )
        moved = _move(
            request,
            S.RECEIVED,
            actor=actor,
            by=by,
            note=note,
            stamp="received_at",
            api_key=api_key,
        )
        return moved, True


def credit_amounts(
    request: ReturnRequest, *, credited_before: Mapping[int, int] | None = None
) -> tuple[Decimal, Decimal, Decimal]:
    """``(net, vat, gross)`` of the credit. Per line, what the received units add to their
    order line's credit: the amounts of every unit of the line credited so far, this return's
    included, less those of the units other returns credited before, each at the order line's
    unit price with its VAT (``line_amounts``, as the order itself). One return of a whole
    line credits its amounts to the kuruş; so do several returns of its parts, never more
    (each part rounded alone could add a kuruş each). ``credited_before``: ``{order line id:
    units}`` credited by other returns (read from the database when not given)."""
    lines = [line for line in request.lines.select_related("order_line") if line.received_quantity]
    before = credited_before
    if before is None:
        before = _credited_before(request, [line.order_line_id for line in lines])
    net = vat = Decimal("0.00")
    for line in lines:
        order_line = line.order_line
        line_net, line_vat, _gross = part_amounts(
            order_line.unit_net,
            line.received_quantity,
            order_line.vat_rate,
            before=before.get(line.order_line_id) or 0,
        )
        net, vat = net + line_net, vat + line_vat
    return net, vat, net + vat


def _credited_before(request: ReturnRequest, order_lines: list[int]) -> dict[int, int]:
    """``{order line id: units}`` that other returns credited of these order lines."""
    return dict(
        ReturnLine.objects.filter(order_line__in=order_lines, request__status=S.CREDITED)
        .exclude(request=request)
        .values("order_line")
        .annotate(units=Sum("received_quantity"))
        .values_list("order_line", "units")
    )


def return_credit(
    *, request: ReturnRequest, actor: str, by=None, api_key=None, note: str = ""
) -> tuple[ReturnRequest, bool]:
    """A credit note on the dealer's ledger for what was received (``return.credited``).
    Goods that came back free (a 100 % campaign, a unit share that rounds to 0.00) are
    credited with nothing: the return is closed without a ledger entry."""
    note = _text(note, "note")
    with transaction.atomic():
        request = _locked(request)
        if request.status == S.CREDITED:
            return request, False
        check_transition(request.status, S.CREDITED, actor)
        # returns of one order are credited one at a time: each counts what the others credited
        Order.objects.select_for_update().filter(pk=request.order_id).exists()
        net, vat, gross = credit_amounts(request)
        if gross > 0:
            request.credit_note = ledger_post(
                customer=request.customer,
                kind=LedgerEntry.Kind.CREDIT_NOTE,
                amount=-gross,
                by=by,
                description=credit_note_text(request.number),
                document_number=request.number,
                # the goods came back: the order's own invoices are what the credit pays, when
                # they are booked, or when they come (the ERP may invoice after the return)
                order=request.order,
            )
        request.credit_net, request.credit_vat, request.credit_total = net, vat, gross
        request.save(update_fields=["credit_note", "credit_net", "credit_vat", "credit_total"])
        previous = request.status
        request = _move(
            request,
            S.CREDITED,
            actor=actor,
            by=by,
            note=note,
            stamp="credited_at",
            api_key=api_key,
        )
        return_event_emit("return.credited", request, previous_status=previous)
        return request, True


def return_set_status(
    *,
    request: ReturnRequest,
    status: str,
    actor: str,
    by=None,
    note: str = "",
    lines=None,
    api_key=None,
) -> tuple[ReturnRequest, bool]:
    """The ERP's (or the back office's) decision by status name (``api_key``: the ERP
    connector's key, recorded with the change)."""
    who = {"actor": actor, "by": by, "note": note, "api_key": api_key}
    if status in (S.APPROVED, S.REJECTED):
        if lines:
            raise ValidationError({"lines": [_("Lines go with the status received only.")]})
        return return_decide(request=request, status=status, **who)
    if status == S.RECEIVED:
        return return_receive(request=request, lines=lines, **who)
    if status == S.CREDITED:
        if lines:
            raise ValidationError({"lines": [_("Lines go with the status received only.")]})
        return return_credit(request=request, **who)
    raise ValidationError({"status": [_("Choose one of: approved, rejected, received, credited.")]})
