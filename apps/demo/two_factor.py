"""Demo data of the back office's two-factor sign-in: the demo super admin and Finance Manager
must give a code after the password (their roles require it), so they get an authenticator with
a fixed, printed secret and fixed recovery codes. DEMO ONLY: the secret is derived from the
e-mail address, so anyone who reads this file can compute every code.
"""

from __future__ import annotations

import base64
import hashlib

from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import User
from apps.accounts.services.two_factor import recovery_code_digest, recovery_codes_store

RECOVERY_CODES = 10
PRINTED_RECOVERY_CODES = 3


def demo_totp_key(email: str) -> bytes:
    return hashlib.sha1(f"b2b-demo-totp:{email}".encode()).digest()  # noqa: S324 - a demo seed


def demo_recovery_codes(email: str) -> list[str]:
    codes = []
    for number in range(RECOVERY_CODES):
        digest = hashlib.sha256(f"b2b-demo-recovery:{email}:{number}".encode()).digest()
        raw = base64.b32encode(digest[:10]).decode().lower()
        codes.append("-".join(raw[i : i + 4] for i in range(0, len(raw), 4)))
    return codes


def demo_secret(email: str) -> str:
    return base64.b32encode(demo_totp_key(email)).decode().rstrip("=")


def seed_two_factor(emails: list[str]) -> list[str]:
    """Each user's authenticator with the demo secret and the ten demo recovery codes (a used
    one comes back on the next seed); their login lines."""
    lines = []
    for user in User.objects.filter(email__in=emails).order_by("email"):
        TOTPDevice.objects.filter(user=user).delete()
        TOTPDevice.objects.create(
            user=user, name="authenticator (demo)", key=demo_totp_key(user.email).hex()
        )
        recovery, _created = StaticDevice.objects.get_or_create(
            user=user, defaults={"name": "recovery codes", "confirmed": True}
        )
        recovery.token_set.all().delete()
        recovery_codes_store(device=recovery, codes=demo_recovery_codes(user.email))
        recovery.throttle_reset()
        lines.append(login_line(user.email))
    return lines


def demo_otpauth_uri(email: str) -> str:
    """What the QR code of the demo authenticator holds (for an app that reads it from text)."""
    return TOTPDevice(user=User(email=email), key=demo_totp_key(email).hex()).config_url


def login_line(email: str, codes: list[str] | None = None) -> str:
    """``codes``: the recovery codes still unused (all of them just after seeding)."""
    codes = demo_recovery_codes(email) if codes is None else codes
    printed = (
        " ".join(codes[:PRINTED_RECOVERY_CODES])
        if codes
        else "all used (seed again to get them back)"
    )
    return (
        f"two-factor code for {email} (DEMO ONLY, never a real secret): authenticator secret "
        f"{demo_secret(email)} / {demo_otpauth_uri(email)} / recovery codes {printed}"
    )


def login_lines(emails: list[str]) -> list[str]:
    """The lines ``seed_two_factor`` prints, without seeding (the devices are there): the
    recovery codes someone used since are not printed again, as they would be refused."""
    stored = set(
        StaticToken.objects.filter(device__user__email__in=emails).values_list("token", flat=True)
    )
    return [
        login_line(
            email,
            [code for code in demo_recovery_codes(email) if recovery_code_digest(code) in stored],
        )
        for email in emails
    ]


def seeded(emails: list[str]) -> bool:
    return TOTPDevice.objects.filter(user__email__in=emails, confirmed=True).count() == len(emails)
