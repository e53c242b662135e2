"""The back office's two-factor sign-in: enrolment, the code at sign-in, recovery codes.

An authenticator app (a confirmed ``TOTPDevice``) and, with it, RECOVERY_CODE_COUNT single-use
recovery codes (the tokens of a ``StaticDevice``; used ones are deleted). A recovery code is 80
random bits, shown once as ``abcd-efgh-ijkl-mnop``; the database keeps only its digest
(``recovery_code_digest``), so a copy of the database signs nobody in. Every code given at
sign-in or enrolment goes through the lockout: a locked account is refused before its code is
looked at, and a wrong code is a failed login like a wrong password (``lockout``), besides
django-otp's own growing delay per device. Who needs it: ``apps.accounts.two_factor``.
"""

from __future__ import annotations

import base64
import hashlib
import math
import secrets

import django_otp
import segno
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts import lockout
from apps.accounts.models import AuthEvent, User
from apps.accounts.services.auth import (
    auth_event_record,
    login_failure_record,
    login_refuse_when_locked,
    tokens_revoke_all,
)
from apps.accounts.two_factor import two_factor_state
from apps.core.exceptions import Conflict, NotAllowed, NotAuthenticated
from apps.core.text import is_digits

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "authenticator"
RECOVERY_NAME = "recovery codes"


def recovery_code_new() -> str:
    """A new recovery code: 80 random bits in base32, in four groups of four."""
    raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def recovery_code_digest(code: str) -> str:
    """What the database keeps of a recovery code (as typed: groups, spaces and case do not
    matter): 80 bits of its SHA-256 in base32, 16 characters, the size of django-otp's token
    column. The codes are random, so a fast hash cannot be worked back (and migration 0007
    gave the shorter codes made before it their digests)."""
    digest = hashlib.sha256(_normalised(code).encode()).digest()[:10]
    return base64.b32encode(digest).decode().lower()


def _normalised(code: str) -> str:
    """What the user typed, without spaces or dashes, in lower case (recovery codes are
    shown in groups; an app shows "123 456")."""
    return "".join(ch for ch in str(code or "") if ch not in " -\t").lower()


def totp_device(*, user: User) -> TOTPDevice | None:
    """The user's confirmed authenticator, if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- enrolment ----------------------------------------------------------------------------------


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The not yet confirmed authenticator the enrolment page shows (the same one on every
    visit, so a reload does not change the secret the user may have scanned already)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def totp_secret(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing it into an app by hand."""
    raw = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def totp_qr_svg(device: TOTPDevice) -> str:
    """The device's ``otpauth://`` URI as an inline SVG QR code (drawn here, no service)."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, dark="#000", light="#fff", border=2
    )


def two_factor_enrol(
    *, user: User, code: str, ip: str | None, user_agent: str = ""
) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending authenticator with its first code and make the recovery codes
    (returned once: shown to the user, never again). A wrong code is a failed login."""
    login_refuse_when_locked(email=user.email, ip=ip, user_agent=user_agent)
    if totp_device(user=user) is not None:
        raise Conflict(_("Two-factor sign-in is already on."), code="two_factor_enrolled")
    given = _normalised(code)
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("-pk")
            .first()
        )
        ok = device is not None and is_digits(given) and device.verify_token(given)
        if ok:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            codes = _recovery_codes_replace(user=user)
    if not ok:
        _wrong_code(user=user, ip=ip, user_agent=user_agent)
    auth_event_record(
        kind=AuthEvent.Kind.TWO_FACTOR_ENROLLED, user=user, ip=ip, user_agent=user_agent
    )
    _signed_in(user=user, ip=ip, user_agent=user_agent, via="enrolment")
    return device, codes


def _recovery_codes_replace(*, user: User) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": RECOVERY_NAME, "confirmed": True}
    )
    device.token_set.all().delete()
    codes = [recovery_code_new() for _ in range(RECOVERY_CODE_COUNT)]
    recovery_codes_store(device=device, codes=codes)
    return codes


def recovery_codes_store(*, device: StaticDevice, codes: list[str]) -> None:
    """Keep the digests of ``codes`` as the tokens of ``device`` (never the codes)."""
    StaticToken.objects.bulk_create(
        [StaticToken(device=device, token=recovery_code_digest(code)) for code in codes]
    )


@transaction.atomic
def recovery_codes_regenerate(*, user: User, ip: str | None, user_agent: str = "") -> list[str]:
    """New recovery codes; the old ones stop working. Returned once."""
    if totp_device(user=user) is None:
        raise NotAllowed(_("Turn on two-factor sign-in first."), code="two_factor_off")
    codes = _recovery_codes_replace(user=user)
    auth_event_record(
        kind=AuthEvent.Kind.RECOVERY_CODES_NEW, user=user, ip=ip, user_agent=user_agent
    )
    return codes


# --- the code at sign-in ------------------------------------------------------------------------


def two_factor_verify(*, user: User, code: str, ip: str | None, user_agent: str = "") -> Device:
    """The device that accepts ``code`` (the authenticator's 6 digits or a recovery code,
    which is then used up), or ``NotAuthenticated``: locked (nothing is checked), or a wrong
    code (a failed login towards the lockout). Success is the login in the auth log and
    forgets the account's failed logins."""
    login_refuse_when_locked(email=user.email, ip=ip, user_agent=user_agent)
    given = _normalised(code)
    authenticator = totp_device(user=user)
    if authenticator is not None and is_digits(given) and len(given) == authenticator.digits:
        via, candidate = "authenticator app", authenticator
    else:
        via = "recovery code"
        candidate = StaticDevice.objects.filter(user=user, confirmed=True).first()
        given = recovery_code_digest(given) if given else given  # the stored form
    if candidate is not None:
        _refuse_while_throttled(candidate)
    # locked row, in a transaction (django-otp): two tries at once count as two
    device = (
        django_otp.verify_token(user, candidate.persistent_id, given)
        if candidate is not None and given
        else None
    )
    if device is None:
        reused = via == "authenticator app" and _used_already(authenticator, given)
        _wrong_code(user=user, ip=ip, user_agent=user_agent, reused=reused)
    if via == "recovery code":
        via = f"recovery code, {recovery_codes_left(user=user)} left"
    _signed_in(user=user, ip=ip, user_agent=user_agent, via=via)
    return device


def _refuse_while_throttled(device: Device) -> None:
    """django-otp's own growing delay after wrong codes (1, 2, 4... seconds per device): a try
    within it is not looked at, and so is no failed login either."""
    allowed, data = device.verify_is_allowed()
    if allowed:
        return
    locked_until = (data or {}).get("locked_until")
    seconds = (
        max(1, math.ceil((locked_until - timezone.now()).total_seconds())) if locked_until else 1
    )
    raise NotAuthenticated(
        ngettext(
            "Too many wrong codes: wait %(seconds)d second and try again.",
            "Too many wrong codes: wait %(seconds)d seconds and try again.",
            seconds,
        )
        % {"seconds": seconds},
        code="two_factor_throttled",
        headers={"Retry-After": str(seconds)},
    )


def _used_already(device: TOTPDevice, given: str) -> bool:
    """Whether ``given`` is the code the authenticator already signed in with (django-otp
    takes each time step's code once): a second sign-in within the same 30 seconds."""
    device.refresh_from_db(fields=["last_t"])
    if device.last_t < 0:
        return False
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    code.time = device.last_t * device.step + device.t0
    return code.token() == int(given)


def _wrong_code(*, user: User, ip: str | None, user_agent: str, reused: bool = False):
    login_failure_record(
        email=user.email, user=user, ip=ip, user_agent=user_agent, detail=lockout.TWO_FACTOR_FAILURE
    )
    if reused:
        raise NotAuthenticated(
            _("This code was used already: wait for the next one on your authenticator."),
            code="two_factor_invalid",
        )
    raise NotAuthenticated(_("This code is not right."), code="two_factor_invalid")


def _signed_in(*, user: User, ip: str | None, user_agent: str, via: str) -> None:
    lockout.register_success(email=user.email)
    auth_event_record(
        kind=AuthEvent.Kind.LOGIN, user=user, ip=ip, user_agent=user_agent, detail=f"session, {via}"
    )


# --- turning it off -----------------------------------------------------------------------------


@transaction.atomic
def two_factor_disable(*, user: User, ip: str | None, user_agent: str = "") -> None:
    """Remove the authenticator and the recovery codes of a user who need not have them
    (the caller asked for a current code first). Refused when their role requires it."""
    if two_factor_state(user).required:
        raise NotAllowed(
            _("Your role requires two-factor sign-in: it cannot be turned off."),
            code="two_factor_required",
        )
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    auth_event_record(
        kind=AuthEvent.Kind.TWO_FACTOR_DISABLED, user=user, ip=ip, user_agent=user_agent
    )


@transaction.atomic
def two_factor_reset(*, user: User, by: User, ip: str | None = None, user_agent: str = "") -> bool:
    """A super admin removes a staff member's authenticator and recovery codes (a lost phone):
    their open sessions end (one left open on a lost laptop would set up a new authenticator
    with no password), and a role that requires two-factor sign-in sets up a new one at the
    next sign-in. False when there was nothing to remove."""
    removed = TOTPDevice.objects.filter(user=user).delete()[0]
    removed += StaticDevice.objects.filter(user=user).delete()[0]
    if removed:
        tokens_revoke_all(user=user)
        auth_event_record(
            kind=AuthEvent.Kind.TWO_FACTOR_DISABLED,
            user=user,
            ip=ip,
            user_agent=user_agent,
            detail=f"reset by {by.email}",
        )
    return bool(removed)
