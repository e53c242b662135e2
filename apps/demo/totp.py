"""The current code of an authenticator secret, for signing in to the demo without an app:
``.venv/bin/python -m apps.demo.totp SECRET`` (the base32 secret ``./dev demo`` prints)."""

from __future__ import annotations

import base64
import sys

from django_otp.oath import totp


def code(secret: str) -> str:
    """The 6-digit TOTP code of ``secret`` (base32, spaces and case ignored) now."""
    cleaned = "".join(secret.split()).upper()
    key = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    return f"{totp(key):06d}"


if __name__ == "__main__":  # pragma: no cover - a command line
    if len(sys.argv) != 2:
        sys.exit("usage: python -m apps.demo.totp SECRET")
    print(code(sys.argv[1]))
