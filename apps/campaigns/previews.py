"""The hook through which the campaign admin's "Preview a price" asks the price engine.

Campaigns sit below pricing (DESIGN.md, Layout): this app does not import the engine. The
pricing app registers its ``price_explain`` here from its ``ready()``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_explainer: Callable[..., Any] | None = None


def price_explainer_register(explain: Callable[..., Any]) -> None:
    global _explainer
    _explainer = explain


def price_explain(*, customer, product, quantity: int, at) -> Any:
    """What ``customer`` pays for ``quantity`` of ``product`` at ``at``, and why."""
    if _explainer is None:
        raise RuntimeError("no price explainer registered (is apps.pricing installed?)")
    return _explainer(customer=customer, product=product, quantity=quantity, at=at)
