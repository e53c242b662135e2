"""Who signs in to the back office with a second factor (TOTP, django-otp).

Two-factor sign-in is *required* for superusers and for staff in one of the groups of
``STAFF_TWO_FACTOR_GROUPS`` (Super Admin and Finance Manager by default); other staff may turn
it on, and once they have a confirmed authenticator it *applies* to them too: every admin
session then needs a code before any back-office page opens
(``apps.accounts.middleware.StaffTwoFactorMiddleware``). The writes (enrolment, codes, turning
it off) are in ``apps.accounts.services.two_factor``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import User


@dataclass(frozen=True)
class TwoFactorState:
    required: bool  # superuser, or in a group of STAFF_TWO_FACTOR_GROUPS
    enrolled: bool  # has a confirmed authenticator (TOTP device)

    @property
    def applies(self) -> bool:
        """A session of this user needs a code before the back office opens."""
        return self.required or self.enrolled


NOT_STAFF = TwoFactorState(required=False, enrolled=False)


def two_factor_state(user) -> TwoFactorState:
    """The user's two-factor standing, in one query (none for users who are not staff:
    two-factor sign-in is the back office's)."""
    if not getattr(user, "is_authenticated", False) or not user.is_staff or user.pk is None:
        return NOT_STAFF
    groups = Group.objects.filter(
        user=OuterRef("pk"), name__in=list(settings.STAFF_TWO_FACTOR_GROUPS)
    )
    devices = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(in_group=Exists(groups), enrolled=Exists(devices))
        .values("in_group", "enrolled")
        .first()
    )
    if row is None:
        return NOT_STAFF
    return TwoFactorState(
        required=bool(user.is_superuser or row["in_group"]), enrolled=bool(row["enrolled"])
    )


def two_factor_applies(user) -> bool:
    return two_factor_state(user).applies
