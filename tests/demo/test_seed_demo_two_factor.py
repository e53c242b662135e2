"""The demo's super admin and Finance Manager, whose roles require two-factor sign-in, sign in
with what ``seed_demo`` prints: the password, then a code of the printed demo secret or one of
the printed recovery codes."""

from __future__ import annotations

import base64
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp

pytestmark = [pytest.mark.django_db]

LINE = re.compile(
    r"two-factor code for (?P<email>\S+) \(DEMO ONLY[^)]*\): authenticator secret "
    r"(?P<secret>[A-Z2-7]+) / (?P<uri>otpauth://totp/\S+) / recovery codes (?P<codes>.+)$"
)


def printed_two_factor(output: str) -> dict[str, dict]:
    found = {}
    for line in output.splitlines():
        match = LINE.search(line.strip())
        if match:
            found[match["email"]] = {**match.groupdict(), "codes": match["codes"].split()}
    return found


def code_of(secret: str) -> str:
    """The code as the README says to get it: ``python -m apps.demo.totp SECRET``."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    done = subprocess.run(
        [sys.executable, "-m", "apps.demo.totp", secret],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    assert done.stdout.strip() in {f"{totp(key, drift=d):06d}" for d in (-1, 0, 1)}
    return done.stdout.strip()


def sign_in(email: str, password: str, code: str) -> Client:
    client = Client()
    client.post("/admin/login/?next=/admin/", {"username": email, "password": password})
    client.post("/admin/two-factor/verify/", {"code": code, "next": "/admin/"})
    return client


def test_the_printed_demo_secret_and_recovery_codes_sign_the_demo_staff_in():
    out = StringIO()
    call_command("seed_demo", "--products", "5", "--dealers", "4", stdout=out, verbosity=0)
    printed = printed_two_factor(out.getvalue())
    assert set(printed) == {"admin@example.com", "finance.manager@example.com"}
    admin, finance = printed["admin@example.com"], printed["finance.manager@example.com"]
    assert admin["secret"] in admin["uri"] and len(admin["codes"]) == 3

    with_app = sign_in("admin@example.com", "admin-demo-2026", code_of(admin["secret"]))
    assert with_app.get("/admin/").status_code == 200
    with_code = sign_in("finance.manager@example.com", "Demo-Staff-2026", finance["codes"][0])
    assert with_code.get("/admin/").status_code == 200

    # a rerun prints the same lines and gives the used recovery code back
    again = StringIO()
    call_command("seed_demo", "--products", "5", "--dealers", "4", stdout=again, verbosity=0)
    assert printed_two_factor(again.getvalue()) == printed
    relogin = sign_in("finance.manager@example.com", "Demo-Staff-2026", finance["codes"][0])
    assert relogin.get("/admin/").status_code == 200
