"""Quote use cases (one function each, transactional): a dealer asks (``quote_request``),
sales answer (``quote_answer``: save a draft or send a version; ``quote_decline``), the dealer
accepts (``quote_accept``: one order at exactly the quoted prices, through the orders'
placement, so stock, approval and credit rules apply) or rejects (``quote_reject``), and a beat
job expires what passed its validity (``quotes_expire``). Every move asks the status machine
(``apps.quotes.states``)."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from apps.core.clock import business_today
from apps.core.exceptions import Conflict, NotAllowed, NotFound, ValidationError
from apps.core.money import (
    MAX_AMOUNT,
    MAX_LINE_QUANTITY,
    line_amounts,
    money_text,
    quantity_clean,
    round4,
)
from apps.core.sequences import sequence_next
from apps.core.text import PLAIN_DECIMAL
from apps.orders.models import CartItem, Order
from apps.orders.notes import quote_note
from apps.orders.services import order_place
from apps.pricing.lines import (
    amount_problems,
    lines_price,
    products_by_sku,
    quantity_problems,
    total_problems,
    totals,
)
from apps.quotes.events import quote_event_emit
from apps.quotes.models import Quote, QuoteLine, QuoteNumberSequence, QuoteVersion
from apps.quotes.models import QuoteStatus as S
from apps.quotes.notifications import quote_sent_notify, quote_staff_notify
from apps.quotes.states import DEALER, STAFF, SYSTEM, check_transition

MAX_LINES = 200
MAX_QUANTITY = MAX_LINE_QUANTITY
MAX_TEXT = 2000
MAX_PRICE = Decimal("9999999999.9999")


def _text(value, field: str, *, required: bool = False, max_length: int = MAX_TEXT) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({field: [_("Enter text.")]})
    value = value.strip()
    if required and not value:
        raise ValidationError({field: [_("This field is required.")]}, code="required")
    if len(value) > max_length:
        raise ValidationError({field: [_("At most %(n)d characters.") % {"n": max_length}]})
    return value


def _price(value, field: str, *, required: bool) -> Decimal | None:
    """A net unit price: a decimal of at most 4 places, 0 or more."""
    if value is None or value == "":
        if required:
            raise ValidationError({field: [_("Enter a price.")]})
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValidationError({field: [_("Enter a price such as 149.90.")]})
    if isinstance(value, str) and not PLAIN_DECIMAL.fullmatch(value.strip()):
        # as every number field reads text: "1e3", "1_000", "٣" are no price
        raise ValidationError({field: [_("Enter a price such as 149.90.")]})
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: [_("Enter a price such as 149.90.")]}) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_PRICE or amount != round4(amount):
        raise ValidationError({field: [_("Enter a price from 0 with at most 4 decimal places.")]})
    return round4(amount)


def _date(value, field: str) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.date):
        return value
    try:
        parsed = parse_date(str(value)) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationError({field: [_("Enter a date as YYYY-MM-DD.")]})
    return parsed


# --- the dealer asks -----------------------------------------------------------------------------


def quote_lines_from_cart(user) -> list[dict]:
    """The lines of ``user``'s cart as a quote request reads them (``lines.N`` is the Nth)."""
    return [
        {"sku": item.product.sku, "quantity": item.quantity}
        for item in CartItem.objects.filter(cart__user=user)
        .select_related("product")
        .order_by("id")
    ]


def _cart_refusals(errors: dict, lines: list[dict]) -> list[str]:
    """``{"lines.N.field": [message]}`` as ``["SKU: message"]`` of the cart's Nth line."""
    refusals = []
    for key, messages in errors.items():
        parts = key.split(".")
        if len(parts) > 1 and parts[0] == "lines" and parts[1].isdigit():
            sku = lines[int(parts[1])]["sku"] if int(parts[1]) < len(lines) else ""
            refusals += [f"{sku}: {message}" if sku else str(message) for message in messages]
        else:
            refusals += [str(message) for message in messages]
    return refusals


def quote_request(
    *, user, lines=None, note="", valid_until_wanted=None, from_cart: bool = False
) -> Quote:
    """A quote request of ``user``'s company: ``lines`` ``[{sku, quantity, target_price?}]``,
    or the user's cart (``from_cart``). Each product once, orderable by the dealer, the
    quantity within its minimum and multiple. 201 ``requested``; sales get an e-mail."""
    if not user.has_perm("quotes.add_quote"):
        raise NotAllowed(_("Your role cannot ask for quotes."))
    note = _text(note, "note")
    wanted_until = _date(valid_until_wanted, "valid_until_wanted")
    today = business_today()
    if wanted_until is not None and not today <= wanted_until <= _a_year_from(today):
        # a quote holds a year at most: sales' answer form starts from this date
        raise ValidationError(
            {"valid_until_wanted": [_("Choose a date from today to a year from now.")]}
        )
    if from_cart and lines:
        raise ValidationError({"from_cart": [_("Send lines or from_cart, not both.")]})
    if not from_cart:
        cleaned = _clean_lines(lines, customer=user.customer)
    else:
        lines = quote_lines_from_cart(user)
        if not lines:
            raise ValidationError({"from_cart": [_("Your cart is empty.")]})
        try:
            cleaned = _clean_lines(lines, customer=user.customer)
        except ValidationError as exc:
            # the client sent no lines: ``lines.0.sku`` would name nothing it knows. The
            # refusals are the cart's, each with its product
            raise ValidationError({"from_cart": _cart_refusals(exc.errors, lines)}) from None
    number = sequence_next(QuoteNumberSequence, prefix="QT")
    with transaction.atomic():
        quote = Quote.objects.create(
            number=number,
            customer=user.customer,
            requested_by=user,
            note=note,
            valid_until_wanted=wanted_until,
        )
        QuoteLine.objects.bulk_create(QuoteLine(quote=quote, **line) for line in cleaned)
        quote = _reloaded(quote)
        quote_event_emit("quote.requested", quote)
        quote_staff_notify(quote, template="quotes/quote_requested")
    return quote


def _clean_lines(lines, *, customer) -> list[dict]:
    if not isinstance(lines, list) or not lines:
        raise ValidationError({"lines": [_("Name at least one line.")]})
    if len(lines) > MAX_LINES:
        raise ValidationError({"lines": [_("At most %(n)d lines.") % {"n": MAX_LINES}]})
    errors: dict[str, list[str]] = {}
    wanted = []
    for index, raw in enumerate(lines):
        at = f"lines.{index}"
        if not isinstance(raw, dict):
            errors[at] = [_("Each line is an object with sku and quantity.")]
            continue
        for name in sorted(set(raw) - {"sku", "quantity", "target_price"}):
            errors[f"{at}.{name}"] = [_("Unknown field.")]
        try:
            sku = _text(raw.get("sku"), f"{at}.sku", max_length=64)
            if not sku:
                raise ValidationError(
                    {f"{at}.sku": [_("This field is required.")]}, code="required"
                )
            quantity = quantity_clean(raw.get("quantity"), f"{at}.quantity")
            target = _price(raw.get("target_price"), f"{at}.target_price", required=False)
        except ValidationError as exc:
            errors.update(exc.errors)
            continue
        wanted.append((index, sku, quantity, target))
    products = products_by_sku(sku for _i, sku, _q, _t in wanted)
    seen: set[int] = set()  # by product: a SKU typed in two cases is one product
    cleaned, indexes = [], []
    for index, sku, quantity, target in wanted:
        product = products.get(sku)
        if product is None:
            errors[f"lines.{index}.sku"] = [_("Unknown product.")]
            continue
        if product.pk in seen:
            errors[f"lines.{index}.sku"] = [_("Named twice.")]
            continue
        seen.add(product.pk)
        problems = quantity_problems(product, quantity)
        if problems:
            errors[f"lines.{index}.quantity"] = [message for _code, message in problems]
            continue
        indexes.append(index)
        cleaned.append(
            {
                "product": product,
                "sku": product.sku,  # as the product writes it, not as typed
                "name": product.name,
                "quantity": quantity,
                "target_price": target,
                "vat_rate": product.vat_rate,
            }
        )
    if not errors:
        errors = _size_problems(customer, cleaned, indexes)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _size_problems(customer, cleaned: list[dict], indexes: list[int]) -> dict[str, list[str]]:
    """Lines (or a request) that come to more than an order can hold at the dealer's price
    today: an acceptance of them would fail on the same rule, so they are refused now."""
    priced = lines_price(
        customer=customer, pairs=[(line["product"], line["quantity"]) for line in cleaned]
    )
    errors = {
        f"lines.{index}.quantity": [p["message"] for p in amount_problems(line)]
        for index, line in zip(indexes, priced, strict=True)
        if line.sellable and amount_problems(line)
    }
    if not errors:
        too_large = total_problems(totals(priced)["grand_total"])
        if too_large:
            errors["lines"] = [p["message"] for p in too_large]
    return errors


def _reloaded(quote: Quote) -> Quote:
    return (
        Quote.objects.select_related("customer__sales_rep", "requested_by", "order")
        .prefetch_related("lines", "versions")
        .get(pk=quote.pk)
    )


def _locked(quote: Quote) -> Quote:
    return Quote.objects.select_for_update(of=("self",)).get(pk=quote.pk)


# --- sales answer --------------------------------------------------------------------------------


def _a_year_from(day: datetime.date) -> datetime.date:
    """The same date a year on (28 February for 29 February): how long a quote may hold."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def quote_answer(
    *, quote: Quote, by, prices: dict, valid_until, note: str = "", send: bool = True
) -> Quote:
    """Sales' answer: a net unit price for every line (``prices`` by line id), a validity date
    (today or later, within a year) and a note. ``send``: a new version goes to the dealer
    (``sent``; again from ``sent``: a counter-offer), else the answer is kept as a draft."""
    valid_until = _date(valid_until, "valid_until")
    today = business_today()
    if valid_until is None:
        raise ValidationError({"valid_until": [_("Give the date the prices are valid until.")]})
    if not today <= valid_until <= _a_year_from(today):
        raise ValidationError({"valid_until": [_("Choose a date from today to a year from now.")]})
    note = _text(note, "note")
    with transaction.atomic():
        locked = _locked(quote)
        target = S.SENT if send else S.DRAFT
        check_transition(locked.status, target, STAFF)
        lines = list(locked.lines.all())
        errors: dict[str, list[str]] = {}
        amounts = {}
        for line in lines:
            try:
                amounts[line.pk] = _price(
                    prices.get(line.pk, prices.get(str(line.pk))),
                    f"price_{line.pk}",
                    required=send,
                )
            except ValidationError as exc:
                errors.update(exc.errors)
        if not errors:
            errors = _quoted_size_problems(lines, amounts)
        if errors:
            raise ValidationError(errors)
        for line in lines:
            line.unit_net = amounts[line.pk]
        QuoteLine.objects.bulk_update(lines, ["unit_net"])
        locked.status = target
        locked.valid_until = valid_until
        locked.staff_note = note
        fields = ["status", "valid_until", "staff_note", "updated_at"]
        if send:
            now = timezone.now()
            locked.version += 1
            locked.sent_at = now
            fields += ["version", "sent_at"]
            QuoteVersion.objects.create(
                quote=locked,
                version=locked.version,
                lines=[
                    {"sku": line.sku, "quantity": line.quantity, "unit_net": str(line.unit_net)}
                    for line in lines
                ],
                valid_until=valid_until,
                note=note,
                sent_at=now,
                sent_by=by if getattr(by, "pk", None) else None,
            )
        locked.save(update_fields=fields)
        quote = _reloaded(locked)
        if send:
            quote_event_emit("quote.sent", quote)
            quote_sent_notify(quote)
    return quote


def _quoted_size_problems(lines, amounts: dict) -> dict[str, list[str]]:
    """Quoted prices whose lines, or the whole quote, come to more than an order can hold:
    the dealer could not accept them."""
    errors: dict[str, list[str]] = {}
    grand_total = Decimal("0")
    for line in lines:
        if amounts[line.pk] is None:
            continue
        _net, _vat, gross = line_amounts(amounts[line.pk], line.quantity, line.vat_rate)
        grand_total += gross
        if gross > MAX_AMOUNT:
            errors[f"price_{line.pk}"] = [
                _("This line comes to more than %(max)s; quote a lower price.")
                % {"max": money_text(MAX_AMOUNT)}
            ]
    if not errors:
        too_large = total_problems(grand_total)
        if too_large:
            errors["prices"] = [p["message"] for p in too_large]
    return errors


def quote_decline(*, quote: Quote, by, reason: str) -> Quote:
    """Sales will not quote (a reason for the dealer)."""
    reason = _text(reason, "reason")
    if not reason:
        raise ValidationError({"reason": [_("Say why.")]})
    with transaction.atomic():
        locked = _locked(quote)
        check_transition(locked.status, S.DECLINED, STAFF)
        locked.status = S.DECLINED
        locked.staff_note = reason
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "staff_note", "decided_at", "updated_at"])
        quote = _reloaded(locked)
        quote_sent_notify(quote)  # the dealer hears the answer
    return quote


# --- the dealer decides --------------------------------------------------------------------------


def quote_reject(*, quote: Quote, user, reason: str) -> Quote:
    """The dealer declines an open quote and says why (the sales team reads it). A quote
    whose validity has ended is expired instead, as an acceptance finds it (409)."""
    reason = _text(reason, "reason", required=True)
    with transaction.atomic():
        locked = _locked(quote)
        _refuse_expired(locked)
        expired = locked.status == S.SENT and locked.valid_until < business_today()
        if expired:
            _expire(locked, actor=DEALER)
        else:
            check_transition(locked.status, S.REJECTED, DEALER)
            locked.status = S.REJECTED
            locked.reject_reason = reason
            locked.decided_at = timezone.now()
            locked.save(update_fields=["status", "reject_reason", "decided_at", "updated_at"])
    if expired:  # committed: the quote stays expired
        raise Conflict(_("This quote's validity has ended."), code="quote_expired")
    return _reloaded(locked)


def quote_accept(
    *,
    quote: Quote,
    user,
    payment_method: str,
    shipping_address_id: int | None = None,
    billing_address_id: int | None = None,
    po_number: str = "",
    version: int | None = None,
) -> Order:
    """Accept a sent quote before its validity ends: one order of its lines at exactly the
    quoted prices (``order_place`` with ``quoted``: stock, approval and credit rules apply; a
    refusal leaves the quote as it was). Once: a second acceptance is a 409. ``version``: the
    one the dealer read; another one sent since (a counter-offer) is a 409 ``quote_changed``,
    so nobody orders at prices they did not see."""
    if not user.has_perm("orders.place_order"):
        raise NotAllowed(_("Your role cannot place orders."))
    with transaction.atomic():
        locked = _locked(quote)  # two acceptances at once: the second waits, then is refused
        if locked.status == S.ACCEPTED:
            raise Conflict(
                _("This quote was already accepted (order %(n)s).") % {"n": locked.order.number},
                code="quote_used",
            )
        _refuse_expired(locked)
        if locked.status == S.SENT and locked.valid_until < business_today():
            _expire(locked, actor=DEALER)
            outcome = "expired"
        else:
            check_transition(locked.status, S.ACCEPTED, DEALER)
            if version is not None and version != locked.version:
                raise Conflict(
                    _(
                        "This quote was changed since you read it (version %(v)d is the one "
                        "sent now): read it again before accepting."
                    )
                    % {"v": locked.version},
                    code="quote_changed",
                )
            lines = list(locked.lines.all())
            try:
                order = order_place(
                    user=user,
                    payment_method=payment_method,
                    items=[{"sku": line.sku, "quantity": line.quantity} for line in lines],
                    shipping_address_id=shipping_address_id,
                    billing_address_id=billing_address_id,
                    note=quote_note(locked.number),
                    po_number=po_number,
                    quoted={line.sku: line.unit_net for line in lines},
                    quote_number=locked.number,
                )
            except ValidationError as exc:
                # the order's items are the quote's lines, in order: an error is named as
                # the quote names its lines (``lines.2.sku``; the request has no ``items``)
                raise ValidationError(
                    {_quote_field(field): messages for field, messages in exc.errors.items()},
                    detail=exc.detail,
                    code=exc.code,
                    extra=exc.extra,
                ) from None
            locked.status = S.ACCEPTED
            locked.order = order
            locked.decided_at = timezone.now()
            locked.save(update_fields=["status", "order", "decided_at", "updated_at"])
            accepted = _reloaded(locked)
            quote_event_emit("quote.accepted", accepted)
            quote_staff_notify(accepted, template="quotes/quote_accepted")
            outcome = "accepted"
    if outcome == "expired":  # committed: the quote stays expired
        raise Conflict(_("This quote's validity has ended."), code="quote_expired")
    return order


def _refuse_expired(quote: Quote) -> None:
    """An expired quote is refused with the code a dealer gets when the validity ends under
    their hand, whether the hourly job or an earlier answer expired it (it was
    ``invalid_transition`` then)."""
    if quote.status == S.EXPIRED:
        raise Conflict(_("This quote's validity has ended."), code="quote_expired")


def _quote_field(field: str) -> str:
    return "lines" + field[len("items") :] if field.split(".")[0] == "items" else field


def _expire(quote: Quote, *, actor: str) -> None:
    check_transition(quote.status, S.EXPIRED, actor)
    quote.status = S.EXPIRED
    quote.decided_at = timezone.now()
    quote.save(update_fields=["status", "decided_at", "updated_at"])


def quotes_expire(*, today: datetime.date | None = None) -> int:
    """Sent quotes whose validity ended before ``today`` expire; how many did."""
    today = today or business_today()
    expired = 0
    for pk in Quote.objects.filter(status=S.SENT, valid_until__lt=today).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            locked = Quote.objects.select_for_update().filter(pk=pk, status=S.SENT).first()
            if locked is not None and locked.valid_until < today:
                _expire(locked, actor=SYSTEM)
                expired += 1
    return expired


def quote_for_dealer(*, user, number: str) -> Quote:
    """A quote of ``user``'s company by number, else ``NotFound`` (another company's too)."""
    quote = (
        Quote.objects.select_related("order", "requested_by")
        .prefetch_related("lines")
        .filter(customer_id=user.customer_id, number=number)
        .first()
    )
    if quote is None:
        raise NotFound(_("Your company has no quote with this number."))
    return quote
