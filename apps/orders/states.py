"""The order status machine: the one table of who may move an order from which status to which
(DESIGN.md "Orders"). Every status change goes through ``orders.services.transitions``, which
asks ``check_transition``; anything not in the table is a 409 ``invalid_transition``.

Actors: ``dealer`` (a user of the ordering company, with the capability the endpoint needs),
``staff`` (back office), ``erp`` (the integration API), ``system`` (placement's approval chain
and, later, the payment gateway).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from apps.core.exceptions import Conflict
from apps.orders.models import OrderStatus as S

DEALER, STAFF, ERP, SYSTEM = "dealer", "staff", "erp", "system"
ACTORS = (DEALER, STAFF, ERP, SYSTEM)

# what comes after approval: the rest of the placement chain (credit, payment) decides
_CHAIN = (S.AWAITING_CREDIT_APPROVAL, S.AWAITING_PAYMENT, S.CONFIRMED)

TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    # an owner approves (the chain continues) or rejects an order over a user's limit
    **{(S.AWAITING_APPROVAL, to): frozenset({DEALER, SYSTEM}) for to in _CHAIN},
    (S.AWAITING_APPROVAL, S.REJECTED): frozenset({DEALER}),
    (S.AWAITING_APPROVAL, S.CANCELLED): frozenset({DEALER, STAFF}),
    # finance staff decide orders over the credit limit
    (S.AWAITING_CREDIT_APPROVAL, S.CONFIRMED): frozenset({STAFF}),
    (S.AWAITING_CREDIT_APPROVAL, S.REJECTED): frozenset({STAFF}),
    (S.AWAITING_CREDIT_APPROVAL, S.CANCELLED): frozenset({DEALER, STAFF}),
    # the gateway (or finance, by hand) confirms a card payment
    (S.AWAITING_PAYMENT, S.CONFIRMED): frozenset({SYSTEM, STAFF}),
    (S.AWAITING_PAYMENT, S.CANCELLED): frozenset({DEALER, STAFF, SYSTEM}),
    # fulfilment, by staff or the ERP
    (S.CONFIRMED, S.PROCESSING): frozenset({STAFF, ERP}),
    (S.CONFIRMED, S.CANCELLED): frozenset({DEALER, STAFF, ERP}),
    (S.PROCESSING, S.SHIPPED): frozenset({STAFF, ERP}),
    (S.PROCESSING, S.CANCELLED): frozenset({STAFF, ERP}),
    (S.SHIPPED, S.DELIVERED): frozenset({STAFF, ERP}),
}

# what is not invoiced yet of these orders counts against the credit limit (``invoiced_total``;
# the index ``orders_not_invoiced`` names the same statuses)
UNINVOICED_STATUSES = (S.CONFIRMED, S.PROCESSING, S.SHIPPED, S.DELIVERED)


def allowed(from_status: str, to_status: str, actor: str) -> bool:
    return actor in TRANSITIONS.get((from_status, to_status), frozenset())


def next_statuses(from_status: str, actor: str) -> list[str]:
    return [to for (frm, to), who in TRANSITIONS.items() if frm == from_status and actor in who]


def check_transition(from_status: str, to_status: str, actor: str) -> None:
    if actor not in ACTORS:
        raise ValueError(f"unknown actor {actor!r}")
    if allowed(from_status, to_status, actor):
        return
    raise Conflict(
        _("An order that is %(from)s cannot become %(to)s.")
        % {"from": S(from_status).label, "to": S(to_status).label},
        code="invalid_transition",
        extra={"status": from_status, "allowed": next_statuses(from_status, actor)},
    )
