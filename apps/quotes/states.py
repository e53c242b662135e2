"""The quote status machine: the one table of who may move a quote from which status to which.
Every move goes through ``apps.quotes.services``, which asks ``check_transition``; anything not
in the table is a 409 ``invalid_transition``.

Actors: ``dealer`` (a user of the company that asked), ``staff`` (sales, in the back office),
``system`` (the expiry job)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from apps.core.exceptions import Conflict
from apps.quotes.models import QuoteStatus as S

DEALER, STAFF, SYSTEM = "dealer", "staff", "system"
ACTORS = (DEALER, STAFF, SYSTEM)

TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (S.REQUESTED, S.DRAFT): frozenset({STAFF}),  # an answer saved, not sent
    (S.REQUESTED, S.SENT): frozenset({STAFF}),
    (S.DRAFT, S.DRAFT): frozenset({STAFF}),
    (S.DRAFT, S.SENT): frozenset({STAFF}),
    (S.SENT, S.SENT): frozenset({STAFF}),  # a counter-offer: a new version
    (S.REQUESTED, S.DECLINED): frozenset({STAFF}),
    (S.DRAFT, S.DECLINED): frozenset({STAFF}),
    (S.REQUESTED, S.REJECTED): frozenset({DEALER}),  # withdrawn before an answer
    (S.DRAFT, S.REJECTED): frozenset({DEALER}),
    (S.SENT, S.REJECTED): frozenset({DEALER}),
    (S.SENT, S.ACCEPTED): frozenset({DEALER}),
    (S.SENT, S.EXPIRED): frozenset({SYSTEM, DEALER}),  # DEALER: found expired at acceptance
}

OPEN = (S.REQUESTED, S.DRAFT, S.SENT)


def next_statuses(from_status: str, actor: str) -> list[str]:
    return [to for (frm, to), who in TRANSITIONS.items() if frm == from_status and actor in who]


def check_transition(from_status: str, to_status: str, actor: str) -> None:
    if actor not in ACTORS:
        raise ValueError(f"unknown actor {actor!r}")
    if actor in TRANSITIONS.get((from_status, to_status), frozenset()):
        return
    raise Conflict(
        _("A quote that is %(from)s cannot become %(to)s.")
        % {"from": S(from_status).label, "to": S(to_status).label},
        code="invalid_transition",
        extra={"status": from_status, "allowed": next_statuses(from_status, actor)},
    )
