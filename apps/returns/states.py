"""The return status machine: the one table of who may move a return from which status to
which (DESIGN.md "Returns"). Every move goes through ``apps.returns.services``, which asks
``check_transition``; anything not in the table is a 409 ``invalid_transition``.

Actors: ``dealer`` (a user of the returning company), ``staff`` (back office), ``erp`` (the
integration API)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from apps.core.exceptions import Conflict
from apps.returns.models import ReturnStatus as S

DEALER, STAFF, ERP = "dealer", "staff", "erp"
ACTORS = (DEALER, STAFF, ERP)

TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (S.REQUESTED, S.APPROVED): frozenset({STAFF, ERP}),
    (S.REQUESTED, S.REJECTED): frozenset({STAFF, ERP}),
    (S.REQUESTED, S.CANCELLED): frozenset({DEALER}),
    (S.APPROVED, S.RECEIVED): frozenset({STAFF, ERP}),
    (S.RECEIVED, S.CREDITED): frozenset({STAFF, ERP}),
}

# what counts against a line's returnable quantity: every return not turned down
OPEN_OR_DONE = (S.REQUESTED, S.APPROVED, S.RECEIVED, S.CREDITED)


def next_statuses(from_status: str, actor: str) -> list[str]:
    return [to for (frm, to), who in TRANSITIONS.items() if frm == from_status and actor in who]


def check_transition(from_status: str, to_status: str, actor: str) -> None:
    if actor not in ACTORS:
        raise ValueError(f"unknown actor {actor!r}")
    if actor in TRANSITIONS.get((from_status, to_status), frozenset()):
        return
    raise Conflict(
        _("A return that is %(from)s cannot become %(to)s.")
        % {"from": S(from_status).label, "to": S(to_status).label},
        code="invalid_transition",
        extra={"status": from_status, "allowed": next_statuses(from_status, actor)},
    )
