"""Consents a user gives or withdraws after registering: each change is a new ``Consent`` row
(the history is the record KVKK asks for), never an update."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from apps.accounts.models import Consent, User
from apps.core.exceptions import ValidationError

# the consents a user may change themself; the terms and the KVKK notice are acknowledged at
# registration and stay as given
CHANGEABLE = {Consent.Kind.MARKETING: "KVKK_VERSION"}


def consent_current(*, user: User) -> dict[str, Consent | None]:
    """The latest consent of each kind (``None``: never asked), one query."""
    latest: dict[str, Consent | None] = dict.fromkeys(Consent.Kind.values)
    for consent in user.consents.order_by("-at", "-id"):
        if latest[consent.kind] is None:
            latest[consent.kind] = consent
    return latest


def consent_record(*, user: User, kind: str, granted: bool, ip: str | None = None) -> Consent:
    """Record that ``user`` gives (``granted``) or withdraws a changeable consent; nothing new
    is written when it is already so."""
    if kind not in CHANGEABLE:
        raise ValidationError({"kind": [_("This consent cannot be changed here.")]})
    current = consent_current(user=user)[kind]
    if current is not None and current.granted == granted:
        return current
    return Consent.objects.create(
        user=user,
        kind=kind,
        version=getattr(settings, CHANGEABLE[kind]),
        granted=granted,
        ip_address=ip,
    )
