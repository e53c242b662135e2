"""schemathesis fuzzes the live server from its own schema, every check on (``--checks all``):
no 5xx, every answer's status, content type, headers and body as documented, invalid input
refused. Once as a dealer (JWT), once as an ERP connector (API key); rate limits off.

Each run is one pass of every phase over every operation it includes, from a fixed seed: the
coverage phase (boundary and invalid values from the schema), fuzzing (``MAX_EXAMPLES`` cases
per operation) and the stateful links. No time budget: under ``--max-time`` schemathesis
holds time back for the phases after coverage (cutting it short on a slow machine), then
repeats fuzzing until the time is spent, so what got covered depended on the machine; one
whole pass covers every operation's coverage cases, reproduces from the seed, and here takes
no longer than the budget did.

Left out, on purpose:
- the ``positive_data_acceptance`` check (a request the schema allows must be accepted): our
  answers depend on rows a schema cannot name (an unknown SKU, a product out of stock, an
  order in a state that forbids the move), which are 400/404/409 by API.md;
- ``negative_data_rejection`` on the ERP batch endpoints (tag ``integration``): by API.md a
  batch answers 200 with each invalid record reported by index, so a record the schema
  forbids is refused in the answer, not with a 4xx;
- ``negative_data_rejection`` on ``GET webhook-deliveries``: schemathesis reports an empty
  ``page`` (``?page=``) beside unknown query parameters as schema-violating, although the schema
  says ``allowEmptyValue`` (an empty optional query parameter is an absent one, everywhere in
  the API); its other checks still run on it;
- ``auth/logout`` and ``auth/password-reset/confirm``: they end the caller's session or change
  a password, so the rest of the run would test a logged-out caller;
- ``company/users/{id}`` PATCH and DELETE: a fuzzed body may deactivate or remove the very
  owner the run is logged in as (the same reason);
- the ``Idempotency-Key`` header on ``POST orders`` is fuzzed like any other input.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from apps.accounts.services.api_keys import api_key_create
from tests.contract.conftest import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MAX_EXAMPLES = "8"

DELIVERIES = "GET /api/integration/v1/webhook-deliveries"
DEALER_EXCLUDED = [
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/password-reset/confirm"),
    ("PATCH", "/api/v1/company/users/{id}"),
    ("DELETE", "/api/v1/company/users/{id}"),
]


def _schemathesis(
    server,
    tmp_path: Path,
    *args: str,
    exclude_checks=("positive_data_acceptance",),
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{server.base_url}/api/schema/",
            "--checks",
            "all",
            "--exclude-checks",
            ",".join(exclude_checks),
            "--max-examples",
            MAX_EXAMPLES,
            "--seed",
            "14",
            # one worker: hypothesis describes its filters by parsing source, which is not
            # thread-safe on Python 3.11 (an internal SystemError with two workers)
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--generation-database",
            "none",
            "--report-dir",
            str(tmp_path),
            "--no-color",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _login(server, email: str) -> str:
    import json
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 (loopback http)
        f"{server.base_url}/api/v1/auth/token",
        data=json.dumps({"email": email, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())["access"]


def test_the_dealer_api_keeps_to_its_schema_under_fuzzing(live_server_proc, shop, tmp_path):
    token = _login(live_server_proc, shop.owner_email)
    excluded = []
    for method, path in DEALER_EXCLUDED:
        excluded += ["--exclude-name", f"{method} {path}"]
    result = _schemathesis(
        live_server_proc,
        tmp_path,
        "--include-path-regex",
        "^/api/v1/",
        "--header",
        f"Authorization: Bearer {token}",
        *excluded,
    )
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-3000:]


def test_the_integration_api_keeps_to_its_schema_under_fuzzing(live_server_proc, shop, tmp_path):
    _key, raw = api_key_create(name="schemathesis")
    key = f"X-API-Key: {raw}"
    batches = _schemathesis(
        live_server_proc,
        tmp_path,
        "--include-tag",
        "integration",
        "--header",
        key,
        exclude_checks=("positive_data_acceptance", "negative_data_rejection"),
    )
    assert batches.returncode == 0, batches.stdout[-20000:] + batches.stderr[-3000:]
    deliveries = _schemathesis(
        live_server_proc,
        tmp_path,
        "--include-name",
        DELIVERIES,
        "--header",
        key,
        exclude_checks=("positive_data_acceptance", "negative_data_rejection"),
    )
    assert deliveries.returncode == 0, deliveries.stdout[-20000:] + deliveries.stderr[-3000:]
    others = _schemathesis(
        live_server_proc,
        tmp_path,
        "--include-path-regex",
        "^/api/integration/v1/",
        "--exclude-tag",
        "integration",
        "--exclude-name",
        DELIVERIES,
        "--header",
        key,
    )
    assert others.returncode == 0, others.stdout[-20000:] + others.stderr[-3000:]
