"""The explanation of a price for the back-office preview: what a dealer pays and why.

``price_explain`` asks the engine (``apps.pricing.engine``) for the price and only *describes*
the candidates around it: the rule lives in the engine alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from apps.accounts.models import Customer
from apps.campaigns.models import Campaign
from apps.campaigns.rules import active_campaign_rules
from apps.catalog.models import Category, Product
from apps.core.money import money_text, quantity_clean
from apps.pricing import engine
from apps.pricing.models import LIST_CODE, Price, SpecialPrice

# --- explanation ------------------------------------------------------------------------------


def _when(value: datetime) -> str:
    """A moment in the distributor's time, with its offset (the API answers in UTC, and a
    dealer reads a bare clock time as its own): ``06 Aralık 2026 09:09 (UTC+03:00)``; no
    trailing period for the sentence to double (``6:09 a.m..``)."""
    local = timezone.localtime(value, timezone.get_default_timezone())
    offset = local.isoformat()[-6:]
    return f"{date_format(local, 'DATE_FORMAT')} {local:%H:%M} (UTC{offset})"


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
    path = Category.objects.filter(pk=product.category_id).values_list("path", flat=True).first()
    out = []
    for rule in active_campaign_rules():
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
    *,
    customer: Customer,
    product: Product,
    quantity: int,
    at: datetime | None = None,
    to_dealer: bool = False,
) -> dict[str, Any]:
    """What ``customer`` pays for ``quantity`` of ``product`` at ``at`` (now), and why.

    The price is the engine's (``price_resolve_many``); around it this describes every special,
    tier and list break (taken, superseded, not reached, not valid) and every campaign (applied,
    not the lowest, or excluded and why: not live, audience, scope, quantity, special price).
    ``to_dealer``: the levels named in the dealer's words ("your special price"), not staff's.
    """
    at = at or timezone.now()
    quantity = quantity_clean(quantity)  # "1e3", "five", "٣": no number at all
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

    def label(source: str) -> str:
        return capfirst(engine.source_label(source, to_dealer=to_dealer))

    levels = [
        _describe_level(
            engine.SOURCE_SPECIAL, label(engine.SOURCE_SPECIAL), specials, **level_args
        ),
        _describe_level(
            tier_source,
            label(tier_source),
            [p for p in prices if p.price_list.code == customer.tier],
            **level_args,
        ),
        _describe_level(
            engine.SOURCE_LIST,
            label(engine.SOURCE_LIST),
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
    # amounts as the reader writes them (1.234,56 ₺ in Turkish), the unit's 3rd and 4th
    # decimals only when not zero
    words = {
        "code": customer.code,
        "net": money_text(resolved.unit_net),
        "gross": money_text(resolved.unit_gross),
        "n": quantity,
        "sku": product.sku,
        "base": money_text(resolved.base),
        "level": next(lv["label"] for lv in levels if lv["status"] == "taken"),
    }
    if resolved.campaign is None:
        return (
            _(
                "%(code)s pays %(net)s net per unit (%(gross)s with VAT) for %(n)d × %(sku)s: "
                "the base price %(base)s (%(level)s); no campaign applies."
            )
            % words
        )
    words.update(discount=money_text(resolved.discount), name=resolved.campaign.name)
    return (
        _(
            "%(code)s pays %(net)s net per unit (%(gross)s with VAT) for %(n)d × %(sku)s: "
            "the base price %(base)s (%(level)s) less %(discount)s by the campaign “%(name)s”."
        )
        % words
    )


# what a dealer may read of a campaign that did not apply: only why it did not apply to *this*
# dealer's own purchase (its quantity, its special price). Campaigns aimed at other dealers or
# tiers, ended, future, switched off or for other products are not shown: they are not its to
# know.
_DEALER_VISIBLE_REASONS = {"min_quantity", "special_price"}


def price_explain_for_dealer(*, customer: Customer, product: Product, quantity: int) -> dict:
    """``price_explain`` as the dealer reads it (the portal's and the API's "Why this price"):
    the same levels and price; of the campaigns, those that reached this dealer's purchase
    (applied, not the lowest, no discount) and those it would reach with more units or
    without its special price."""
    explanation = price_explain(
        customer=customer, product=product, quantity=quantity, to_dealer=True
    )
    campaigns = []
    for campaign in explanation["campaigns"]:
        codes = {reason["code"] for reason in campaign["reasons"]}
        if campaign["status"] != "excluded" or codes <= _DEALER_VISIBLE_REASONS:
            campaigns.append(campaign)
    return {**explanation, "campaigns": campaigns}
