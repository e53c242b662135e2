"""Writes of list prices and dealer special prices, and the explanation of a price.

Every write keeps the history: a ``PriceChange`` row (product, list or dealer, quantity break,
old and new amount, who, from where) whenever a row is created, changed or deleted. Saving what
is already stored writes nothing. A row is one quantity break, keyed by (price list, product,
min_quantity) or (customer, product, min_quantity).

``price_explain`` asks the engine (``apps.pricing.engine``) for the price and only *describes*
the candidates around it, for the back-office preview: the rule lives in the engine alone.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.accounts.models import Customer
from apps.catalog.models import Category, Product
from apps.core.exceptions import ValidationError
from apps.core.money import FOUR_PLACES, to_decimal
from apps.pricing import engine
from apps.pricing.models import LIST_CODE, Price, PriceChange, PriceList, SpecialPrice

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
MAX_AMOUNT = Decimal("9999999999.9999")  # max_digits=14, decimal_places=4
MAX_QUANTITY = 2_147_483_647
Source = PriceChange.Source


# --- validation -------------------------------------------------------------------------------


def price_break_validate(
    *, min_quantity: Any, amount: Any, valid_from: datetime | None, valid_to: datetime | None
) -> tuple[int, Decimal, datetime | None, datetime | None]:
    """The cleaned values of one quantity break, or ``ValidationError`` naming each field:
    amount >= 0 with at most 4 decimals, min_quantity >= 1, valid_to after valid_from."""
    errors: dict[str, list[str]] = {}
    quantity = None
    if isinstance(min_quantity, bool):
        min_quantity = None
    try:
        quantity = int(str(min_quantity).strip())
    except (TypeError, ValueError):
        errors["min_quantity"] = [_("Enter a whole number of at least 1.")]
    else:
        if not 1 <= quantity <= MAX_QUANTITY:
            errors["min_quantity"] = [_("Enter a whole number of at least 1.")]
    value = None
    try:
        value = to_decimal(amount.strip() if isinstance(amount, str) else amount)
    except (TypeError, ValueError):
        errors["amount"] = [_("Enter the unit price as a number, e.g. 12.5000.")]
    else:
        if value < 0:
            errors["amount"] = [_("A price cannot be negative.")]
        elif value != value.quantize(FOUR_PLACES):
            errors["amount"] = [_("A unit price has at most 4 decimal places.")]
        elif value > MAX_AMOUNT:
            errors["amount"] = [_("The price is too large.")]
        else:
            value = value.quantize(FOUR_PLACES)
    valid_from, valid_to = (_aware(valid_from), _aware(valid_to))
    if valid_from and valid_to and valid_to <= valid_from:
        errors["valid_to"] = [_("The end of validity must be after its start.")]
    if errors:
        raise ValidationError(errors)
    return quantity, value, valid_from, valid_to


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _check_source(source: str) -> None:
    if source not in Source.values:
        raise ValidationError({"source": [_("Unknown source of a price change.")]})


# --- writes -----------------------------------------------------------------------------------


def _history(row, *, owner_field: str, old, new, by, source: str, reference: str) -> None:
    PriceChange.objects.create(
        product_id=row.product_id,
        price_list_id=row.price_list_id if owner_field == "price_list" else None,
        customer_id=row.customer_id if owner_field == "customer" else None,
        min_quantity=row.min_quantity,
        old_amount=old,
        new_amount=new,
        source=source,
        reference=(reference or "")[:100],
        changed_by=by if getattr(by, "pk", None) else None,
    )


def _break_upsert(
    model: type[Model],
    owner_field: str,
    owner,
    *,
    product,
    min_quantity,
    amount,
    valid_from,
    valid_to,
    by,
    source,
    reference,
):
    _check_source(source)
    min_quantity, amount, valid_from, valid_to = price_break_validate(
        min_quantity=min_quantity, amount=amount, valid_from=valid_from, valid_to=valid_to
    )
    key = {owner_field: owner, "product": product, "min_quantity": min_quantity}
    values = {"amount": amount, "valid_from": valid_from, "valid_to": valid_to}
    log = {"owner_field": owner_field, "by": by, "source": source, "reference": reference}
    with transaction.atomic():
        row = model.objects.select_for_update().filter(**key).first()
        if row is None:
            try:
                with transaction.atomic():
                    row = model.objects.create(**key, **values)
            except IntegrityError:  # created by someone else a moment ago
                row = model.objects.select_for_update().get(**key)
            else:
                _history(row, old=None, new=amount, **log)
                return row, CREATED
        if all(getattr(row, name) == value for name, value in values.items()):
            return row, UNCHANGED
        old = row.amount
        for name, value in values.items():
            setattr(row, name, value)
        row.save(update_fields=[*values, "updated_at"])
        _history(row, old=old, new=amount, **log)
        return row, UPDATED


def _break_delete(model, owner_field: str, row, *, by, source: str, reference: str) -> None:
    _check_source(source)
    with transaction.atomic():
        stored = model.objects.select_for_update().filter(pk=row.pk).first()
        if stored is None:  # already gone: nothing to record
            return
        stored.delete()
        log = {"owner_field": owner_field, "by": by, "source": source, "reference": reference}
        _history(stored, old=stored.amount, new=None, **log)


def _break_update(model, owner_field: str, row, owner, **kwargs):
    """Change the stored row ``row.pk``; a new owner, product or break moves it (the old break
    is deleted, the new one set; both are in the history)."""
    with transaction.atomic():
        stored = model.objects.select_for_update().filter(pk=row.pk).first()
        moved = stored is not None and (
            getattr(stored, f"{owner_field}_id") != owner.pk
            or stored.product_id != kwargs["product"].pk
            or stored.min_quantity != _int_or_none(kwargs["min_quantity"])
        )
        if moved:
            price_break_validate(  # refuse before deleting anything
                min_quantity=kwargs["min_quantity"],
                amount=kwargs["amount"],
                valid_from=kwargs["valid_from"],
                valid_to=kwargs["valid_to"],
            )
            _break_delete(
                model,
                owner_field,
                stored,
                by=kwargs["by"],
                source=kwargs["source"],
                reference=kwargs["reference"],
            )
        return _break_upsert(model, owner_field, owner, **kwargs)[0]


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def price_upsert(
    *,
    price_list: PriceList,
    product: Product,
    min_quantity: int,
    amount,
    valid_from=None,
    valid_to=None,
    by=None,
    source: str = Source.ADMIN,
    reference: str = "",
) -> tuple[Price, str]:
    """``price_set`` that also says what happened: ``created``, ``updated`` or ``unchanged``
    (for batch answers)."""
    return _break_upsert(
        Price,
        "price_list",
        price_list,
        product=product,
        min_quantity=min_quantity,
        amount=amount,
        valid_from=valid_from,
        valid_to=valid_to,
        by=by,
        source=source,
        reference=reference,
    )


def price_set(
    *,
    price_list: PriceList,
    product: Product,
    min_quantity: int,
    amount,
    valid_from=None,
    valid_to=None,
    by=None,
    source: str = Source.ADMIN,
    reference: str = "",
) -> Price:
    """Set the price of ``product`` from ``min_quantity`` units in ``price_list`` (upsert by
    that key); a history row is written when the amount or the validity changed."""
    return price_upsert(
        price_list=price_list,
        product=product,
        min_quantity=min_quantity,
        amount=amount,
        valid_from=valid_from,
        valid_to=valid_to,
        by=by,
        source=source,
        reference=reference,
    )[0]


def price_update(
    *,
    price: Price,
    product: Product,
    min_quantity: int,
    amount,
    valid_from=None,
    valid_to=None,
    by=None,
    source: str = Source.ADMIN,
    reference: str = "",
    price_list: PriceList | None = None,
) -> Price:
    """Edit the stored row ``price`` (by id), as a back-office form does; see ``_break_update``."""
    return _break_update(
        Price,
        "price_list",
        price,
        price_list or price.price_list,
        product=product,
        min_quantity=min_quantity,
        amount=amount,
        valid_from=valid_from,
        valid_to=valid_to,
        by=by,
        source=source,
        reference=reference,
    )


def price_delete(*, price: Price, by=None, source: str = Source.ADMIN, reference: str = "") -> None:
    """Delete a quantity break; the history keeps its last amount (new amount empty)."""
    _break_delete(Price, "price_list", price, by=by, source=source, reference=reference)


def special_price_upsert(
    *,
    customer: Customer,
    product: Product,
    min_quantity: int,
    amount,
    valid_from=None,
    valid_to=None,
    by=None,
    source: str = Source.ADMIN,
    reference: str = "",
) -> tuple[SpecialPrice, str]:
    return _break_upsert(
        SpecialPrice,
        "customer",
        customer,
        product=product,
        min_quantity=min_quantity,
        amount=amount,
        valid_from=valid_from,
        valid_to=valid_to,
        by=by,
        source=source,
        reference=reference,
    )


def special_price_set(
    *,
    customer: Customer,
    product: Product,
    min_quantity: int,
    amount,
    valid_from=None,
    valid_to=None,
    by=None,
    source: str = Source.ADMIN,
    reference: str = "",
) -> SpecialPrice:
    """The dealer's own price of ``product`` from ``min_quantity`` units (upsert)."""
    return special_price_upsert(
        customer=customer,
        product=product,
        min_quantity=min_quantity,
        amount=amount,
        valid_from=valid_from,
        valid_to=valid_to,
        by=by,
        source=source,
        reference=reference,
    )[0]


def special_price_update(
    *,
    special_price: SpecialPrice,
    product: Product,
    min_quantity: int,
    amount,
    valid_from=None,
    valid_to=None,
    by=None,
    source: str = Source.ADMIN,
    reference: str = "",
    customer: Customer | None = None,
) -> SpecialPrice:
    return _break_update(
        SpecialPrice,
        "customer",
        special_price,
        customer or special_price.customer,
        product=product,
        min_quantity=min_quantity,
        amount=amount,
        valid_from=valid_from,
        valid_to=valid_to,
        by=by,
        source=source,
        reference=reference,
    )


def special_price_delete(
    *, special_price: SpecialPrice, by=None, source: str = Source.ADMIN, reference: str = ""
) -> None:
    _break_delete(
        SpecialPrice, "customer", special_price, by=by, source=source, reference=reference
    )


# --- explanation ------------------------------------------------------------------------------


def _when(value: datetime) -> str:
    return date_format(timezone.localtime(value), "DATETIME_FORMAT")


def _row_note(row, *, at: datetime, valid: bool, quantity: int, picked: bool, best: bool):
    if not _list_active(row):
        return "list_inactive", _("The price list is switched off.")
    if not valid:
        if row.valid_from and row.valid_from > at:
            return "not_valid", _("Not valid yet: from %(when)s.") % {"when": _when(row.valid_from)}
        return "not_valid", _("Expired at %(when)s.") % {"when": _when(row.valid_to)}
    if row.min_quantity > quantity:
        return "above", _("Applies from %(n)d units.") % {"n": row.min_quantity}
    if picked:
        return "taken", _("Taken: the largest break up to this quantity.")
    if best:
        return "applies", _("Would apply, but a level above it has a price.")
    return "below", _("A larger break applies to this quantity.")


def _describe_level(source, label, rows, *, at, valid_ids, quantity, taken_source) -> dict:
    usable = [r for r in rows if r.pk in valid_ids and _list_active(r)]
    amount = engine.pick_break([(r.min_quantity, r.amount) for r in usable], quantity)
    best = None
    if amount is not None:
        best = max((r for r in usable if r.min_quantity <= quantity), key=lambda r: r.min_quantity)
    picked = taken_source == source
    described = []
    for row in rows:
        status, note = _row_note(
            row,
            at=at,
            valid=row.pk in valid_ids,
            quantity=quantity,
            picked=picked and row is best,
            best=row is best,
        )
        described.append(
            {
                "id": row.pk,
                "price_list": getattr(getattr(row, "price_list", None), "code", None),
                "min_quantity": row.min_quantity,
                "amount": row.amount,
                "valid_from": row.valid_from,
                "valid_to": row.valid_to,
                "status": status,
                "note": note,
            }
        )
    if picked:
        status, note = "taken", _("Taken as the base price.")
    elif best is not None:
        status, note = "not_needed", _("Has a price, but a level above it came first.")
    elif not rows:
        status, note = "no_rows", _("No price here.")
    else:
        status, note = "no_break", _("No price valid now for this quantity.")
    return {"source": source, "label": label, "status": status, "note": note, "rows": described}


def _list_active(row) -> bool:
    price_list = getattr(row, "price_list", None)
    return price_list is None or price_list.is_active


def _campaign_reasons(rule, *, customer, product, quantity, at, path, resolved) -> list[dict]:
    from apps.campaigns.models import Campaign

    reasons = []

    def add(code: str, text: str) -> None:
        reasons.append({"code": code, "text": text})

    if not rule.live_at(at):
        if rule.starts_at and rule.starts_at > at:
            add("not_live", _("Starts at %(when)s.") % {"when": _when(rule.starts_at)})
        else:
            add("not_live", _("Ended at %(when)s.") % {"when": _when(rule.ends_at)})
    if not rule.reaches(customer):
        if rule.audience == "tiers":
            tiers = ", ".join(sorted(rule.tiers)) or "-"
            add("audience", _("Only for dealers of tier %(tiers)s.") % {"tiers": tiers})
        else:
            add("audience", _("Only for the dealers chosen in the campaign."))
    if not rule.covers(product, path):
        scope = Campaign.Scope(rule.scope).label
        add("scope", _("Its scope (%(scope)s) does not include this product.") % {"scope": scope})
    if rule.min_quantity > quantity:
        add("min_quantity", _("Applies from %(n)d units.") % {"n": rule.min_quantity})
    if not resolved.sellable:
        add("not_sellable", _("The product has no price for this dealer."))
    elif resolved.source == engine.SOURCE_SPECIAL and not rule.applies_to_special_prices:
        add(
            "special_price",
            _("The dealer has a special price and the campaign does not apply to special prices."),
        )
    return reasons


def _describe_campaigns(*, customer, product, quantity, at, resolved) -> list[dict]:
    from apps.campaigns.models import Campaign

    path = Category.objects.filter(pk=product.category_id).values_list("path", flat=True).first()
    out = []
    for rule in engine.active_campaign_rules():
        reasons = _campaign_reasons(
            rule,
            customer=customer,
            product=product,
            quantity=quantity,
            at=at,
            path=path or "",
            resolved=resolved,
        )
        unit = None if reasons else rule.apply(resolved.base)
        if reasons:
            status = "excluded"
        elif resolved.campaign is not None and resolved.campaign.id == rule.id:
            status = "applied"
            reasons = [{"code": "applied", "text": _("Applied: the lowest unit price.")}]
        elif unit >= resolved.base:
            status = "no_discount"
            reasons = [{"code": "no_discount", "text": _("Gives no discount on this price.")}]
        else:
            status = "not_lowest"
            text = _("Another campaign gives a lower price (or wins the tie on priority).")
            reasons = [{"code": "not_lowest", "text": text}]
        out.append(
            {"id": rule.id, "name": rule.name, "status": status, "unit": unit, "reasons": reasons}
        )
    switched_off = Campaign.objects.filter(is_active=False).filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=at)
    )
    for campaign_id, name in switched_off.values_list("id", "name"):
        reasons = [{"code": "switched_off", "text": _("The campaign is switched off.")}]
        out.append(
            {
                "id": campaign_id,
                "name": name,
                "status": "excluded",
                "unit": None,
                "reasons": reasons,
            }
        )
    order = {"applied": 0, "not_lowest": 1, "no_discount": 2, "excluded": 3}
    return sorted(out, key=lambda c: (order[c["status"]], c["name"], c["id"]))


def price_explain(
    *, customer: Customer, product: Product, quantity: int, at: datetime | None = None
) -> dict[str, Any]:
    """What ``customer`` pays for ``quantity`` of ``product`` at ``at`` (now), and why.

    The price is the engine's (``price_resolve_many``); around it this describes every special,
    tier and list break (taken, superseded, not reached, not valid) and every campaign (applied,
    not the lowest, or excluded and why: not live, audience, scope, quantity, special price).
    """
    at = at or timezone.now()
    quantity = _int_or_none(quantity)
    if quantity is None or not 1 <= quantity <= MAX_QUANTITY:
        raise ValidationError({"quantity": [_("Enter a whole number of at least 1.")]})
    resolved = engine.price_resolve_many(customer=customer, items=[(product, quantity)], at=at)[0]

    specials = list(
        SpecialPrice.objects.filter(customer=customer, product=product).order_by("min_quantity")
    )
    prices = list(
        Price.objects.filter(product=product, price_list__code__in=[LIST_CODE, customer.tier])
        .select_related("price_list")
        .order_by("min_quantity")
    )
    valid_ids = set(
        SpecialPrice.objects.valid_at(at)
        .filter(customer=customer, product=product)
        .values_list("pk", flat=True)
    ) | set(
        Price.objects.valid_at(at)
        .filter(product=product, price_list__code__in=[LIST_CODE, customer.tier])
        .values_list("pk", flat=True)
    )
    tier_source = f"tier:{customer.tier}"
    level_args = {
        "at": at,
        "valid_ids": valid_ids,
        "quantity": quantity,
        "taken_source": resolved.source,
    }
    levels = [
        _describe_level(
            engine.SOURCE_SPECIAL, _("Special price of the dealer"), specials, **level_args
        ),
        _describe_level(
            tier_source,
            _("Tier %(tier)s price list") % {"tier": customer.tier},
            [p for p in prices if p.price_list.code == customer.tier],
            **level_args,
        ),
        _describe_level(
            engine.SOURCE_LIST,
            _("List price"),
            [p for p in prices if p.price_list.code == LIST_CODE],
            **level_args,
        ),
    ]
    campaigns = _describe_campaigns(
        customer=customer, product=product, quantity=quantity, at=at, resolved=resolved
    )
    return {
        "at": at,
        "quantity": quantity,
        "customer": {
            "id": customer.pk,
            "code": customer.code,
            "name": customer.name,
            "tier": customer.tier,
        },
        "product": {
            "id": product.pk,
            "sku": product.sku,
            "name": product.name,
            "vat_rate": product.vat_rate,
        },
        "sellable": resolved.sellable,
        "source": resolved.source,
        "base": resolved.base,
        "list_price": resolved.list_price,
        "unit_net": resolved.unit_net,
        "discount": resolved.discount,
        "unit_gross": resolved.unit_gross,
        "campaign": (
            {"id": resolved.campaign.id, "name": resolved.campaign.name}
            if resolved.campaign
            else None
        ),
        "levels": levels,
        "campaigns": campaigns,
        "summary": _summary(customer, product, quantity, resolved, levels),
    }


def _summary(customer, product, quantity, resolved, levels) -> str:
    if not resolved.sellable:
        return _(
            "%(sku)s is not sellable to %(code)s: no special, tier or list price is valid for "
            "%(n)d units."
        ) % {"sku": product.sku, "code": customer.code, "n": quantity}
    words = {
        "code": customer.code,
        "net": resolved.unit_net,
        "gross": resolved.unit_gross,
        "n": quantity,
        "sku": product.sku,
        "base": resolved.base,
        "level": next(lv["label"] for lv in levels if lv["status"] == "taken"),
    }
    if resolved.campaign is None:
        return (
            _(
                "%(code)s pays %(net)s TRY net per unit (%(gross)s with VAT) for %(n)d × %(sku)s: "
                "the base price %(base)s (%(level)s); no campaign applies."
            )
            % words
        )
    words.update(discount=resolved.discount, name=resolved.campaign.name)
    return (
        _(
            "%(code)s pays %(net)s TRY net per unit (%(gross)s with VAT) for %(n)d × %(sku)s: "
            "the base price %(base)s (%(level)s) less %(discount)s by the campaign “%(name)s”."
        )
        % words
    )
