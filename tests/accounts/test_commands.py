"""The accounts management commands (create_api_key, create_dealer_user) and the accounts
part of seed_demo: what scripts and operators rely on."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from io import StringIO
from urllib.parse import quote

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import override_settings
from guardian.models import UserObjectPermission
from rest_framework.test import APIClient
from stdnum.tr import vkn

from apps.accounts.models import (
    Address,
    ApiKey,
    ApiKeyScope,
    AuthEvent,
    CreditLimitChange,
    Customer,
    CustomerStatus,
    DealerRole,
    User,
)
from apps.accounts.selectors import customer_list_for_staff
from apps.accounts.services.api_keys import api_key_create
from apps.catalog.models import ProductImage
from apps.demo.accounts import (
    DEMO_DEALER_PASSWORD,
    DEMO_SALES_MANAGER_EMAIL,
    DEMO_STAFF,
    DEMO_STAFF_PASSWORD,
)
from tests.conftest import FAST_PASSWORD_HASHERS, ROOT
from tests.factories import CustomerFactory, DealerUserFactory

pytestmark = [pytest.mark.django_db]

CUSTOMERS_URL = "/api/integration/v1/customers"
TOKEN_URL = "/api/v1/auth/token"


def run(command: str, *args: str) -> list[str]:
    """call_command; returns the stdout lines."""
    out = StringIO()
    call_command(command, *args, stdout=out, verbosity=0)
    return out.getvalue().rstrip("\n").splitlines()


def manage(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python manage.py ...`` in a real process."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def key_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_key)
    return client


def token_for(email: str, password: str):
    return APIClient().post(TOKEN_URL, {"email": email, "password": password})


# --- create_api_key ---------------------------------------------------------------------------


def test_create_api_key_prints_the_key_alone_on_the_last_line_and_the_key_works():
    lines = run("create_api_key", "--name", "LOGO connector")

    raw = lines[-1]
    assert re.fullmatch(r"b2b_[0-9a-f]{8}\.[A-Za-z0-9_-]+", raw)
    assert all(raw not in line for line in lines[:-1])  # shown once
    api_key = ApiKey.objects.get(name="LOGO connector")
    assert raw.startswith(f"b2b_{api_key.prefix}.")
    assert raw not in api_key.hashed_key  # only a hash is stored
    response = key_client(raw).post(CUSTOMERS_URL, [], format="json")
    assert response.status_code == 200, response.content


def test_create_api_key_without_scopes_has_every_scope():
    run("create_api_key", "--name", "everything")

    assert sorted(ApiKey.objects.get(name="everything").scopes) == sorted(ApiKeyScope.values)


def test_create_api_key_with_scopes_is_refused_calls_outside_them():
    raw = run("create_api_key", "--name", "reader", "--scopes", "orders:read")[-1]

    assert ApiKey.objects.get(name="reader").scopes == ["orders:read"]
    response = key_client(raw).post(CUSTOMERS_URL, [], format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


def test_create_api_key_stores_the_allowed_networks_and_enforces_them():
    raw = run("create_api_key", "--name", "office", "--allowed-ips", "10.0.0.0/8, 192.168.1.7")[-1]

    api_key = ApiKey.objects.get(name="office")
    assert api_key.allowed_ips == ["10.0.0.0/8", "192.168.1.7/32"]
    client = key_client(raw)
    assert client.post(CUSTOMERS_URL, [], format="json", REMOTE_ADDR="10.1.2.3").status_code == 200
    refused = client.post(CUSTOMERS_URL, [], format="json", REMOTE_ADDR="127.0.0.1")
    assert refused.status_code == 403
    assert refused.json()["code"] == "ip_not_allowed"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--scopes", "orders:read,orders:destroy"], "Unknown scope: orders:destroy"),
        (["--allowed-ips", "10.0.0.0/33"], "Not an IP address or CIDR network: 10.0.0.0/33"),
        (["--allowed-ips", "not-an-ip"], "not-an-ip"),
        (["--scopes", " , "], "--scopes is empty"),
        (["--allowed-ips", ""], "--allowed-ips is empty"),
    ],
)
def test_create_api_key_bad_arguments_fail_with_a_one_line_reason_and_create_nothing(args, reason):
    with pytest.raises(CommandError) as excinfo:
        run("create_api_key", "--name", "bad", *args)

    message = str(excinfo.value)
    assert reason in message
    assert "\n" not in message
    assert not ApiKey.objects.exists()


def test_create_api_key_needs_a_name():
    with pytest.raises(CommandError, match="--name"):
        run("create_api_key")
    with pytest.raises(CommandError, match="--name is empty"):
        run("create_api_key", "--name", "  ")
    assert not ApiKey.objects.exists()


# A real ``python manage.py`` process. Pointed at this test database it commits rows that the
# test's rolled-back transaction cannot undo, so they are deleted when the module ends.


def _test_database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"])
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}{port}/{db['NAME']}"


@pytest.fixture(scope="module")
def committed_key_prefixes(django_db_blocker):
    prefixes: list[str] = []
    yield prefixes
    with django_db_blocker.unblock():
        keys = ApiKey.objects.filter(prefix__in=prefixes)
        pks = [str(pk) for pk in keys.values_list("pk", flat=True)]
        keys.delete()
        LogEntry.objects.filter(  # the creation and the deletion just made
            content_type=ContentType.objects.get_for_model(ApiKey), object_pk__in=pks
        ).delete()


def test_create_api_key_as_a_script_prints_a_working_key_on_the_last_line(
    committed_key_prefixes,
):
    # when
    result = manage(
        "create_api_key",
        "--name",
        "script key",
        "--scopes",
        "customers:write",
        env={"DATABASE_URL": _test_database_url()},
    )

    # then
    assert result.returncode == 0, result.stderr
    raw = result.stdout.rstrip("\n").splitlines()[-1]
    prefix = raw.removeprefix("b2b_").split(".")[0]
    committed_key_prefixes.append(prefix)
    assert ApiKey.objects.get(prefix=prefix).scopes == ["customers:write"]
    assert key_client(raw).post(CUSTOMERS_URL, [], format="json").status_code == 200


@pytest.mark.parametrize(
    ("args", "exit_code", "reason"),
    [
        (["--name", "x", "--scopes", "everything"], 1, "Unknown scope: everything"),
        (["--name", "x", "--allowed-ips", "300.1.1.1"], 1, "300.1.1.1"),
        (["--scopes", "orders:read"], 2, "the following arguments are required: --name"),
    ],
)
def test_create_api_key_as_a_script_exits_non_zero_with_a_one_line_reason(args, exit_code, reason):
    result = manage("create_api_key", *args)

    assert result.returncode == exit_code
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0], result.stderr  # no usage block


# --- create_dealer_user -----------------------------------------------------------------------


def _create_user_args(**overrides) -> list[str]:
    values = {
        "customer": "ACME01",
        "email": "new@acme.example.com",
        "role": "finance",
        "password": "Pay-Invoices-2026",
        **overrides,
    }
    args = []
    for name, value in values.items():
        if value is not None:
            args += [f"--{name}", value]
    return args


def test_create_dealer_user_with_a_password_makes_an_active_user_of_the_company():
    customer = CustomerFactory(code="ACME01")

    lines = run(
        "create_dealer_user",
        *_create_user_args(
            email="Buyer@Acme.example.com", role="purchasing", password="Buy-Things-2026"
        ),
    )

    user = User.objects.get(email="buyer@acme.example.com")
    assert (user.customer, user.role, user.is_active) == (customer, DealerRole.PURCHASING, True)
    assert list(user.groups.values_list("name", flat=True)) == ["Dealer Purchasing"]
    assert "Buy-Things-2026" not in "\n".join(lines)  # a given password is not echoed
    assert token_for("buyer@acme.example.com", "Buy-Things-2026").status_code == 200


def test_create_dealer_user_without_a_password_prints_a_generated_one_that_logs_in():
    CustomerFactory(code="ACME01")

    lines = run("create_dealer_user", *_create_user_args(role="owner", password=None))

    password = lines[-1]
    assert len(password) >= 16 and " " not in password
    response = token_for("new@acme.example.com", password)
    assert response.status_code == 200
    assert response.json()["access"]


def test_create_dealer_user_generates_a_different_password_each_time():
    CustomerFactory(code="ACME01")

    first = run("create_dealer_user", *_create_user_args(email="a@x.example.com", password=None))
    second = run("create_dealer_user", *_create_user_args(email="b@x.example.com", password=None))

    assert first[-1] != second[-1]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"customer": "NOPE"}, "no company with the code 'NOPE'"),
        ({"email": "Taken@Acme.example.com"}, "A user with this e-mail already exists"),
        ({"email": "not-an-email"}, "not a valid e-mail address"),
        ({"password": "short"}, "password: This password is too short"),
        ({"password": "12345678901"}, "entirely numeric"),
        ({"role": "boss"}, "invalid choice: 'boss'"),
    ],
)
def test_create_dealer_user_bad_arguments_fail_with_a_one_line_reason_and_create_nothing(
    overrides, reason
):
    CustomerFactory(code="ACME01")
    DealerUserFactory(email="taken@acme.example.com")
    users_before = User.objects.count()

    with pytest.raises(CommandError) as excinfo:
        run("create_dealer_user", *_create_user_args(**overrides))

    assert reason in str(excinfo.value)
    assert "\n" not in str(excinfo.value)
    assert User.objects.count() == users_before


def test_create_dealer_user_for_a_pending_company_says_it_cannot_log_in_yet():
    CustomerFactory(code="NEW01", status=CustomerStatus.PENDING)

    lines = run("create_dealer_user", *_create_user_args(customer="NEW01"))

    assert any("pending approval" in line for line in lines)
    assert User.objects.get(email="new@acme.example.com").is_active


def test_create_dealer_user_refuses_a_rejected_company():
    """It said the user could log in "once it is active", which a rejected company never is."""
    CustomerFactory(code="NO01", status=CustomerStatus.REJECTED)
    with pytest.raises(CommandError) as excinfo:
        run("create_dealer_user", *_create_user_args(customer="NO01"))
    assert str(excinfo.value) == "customer: NO01 was rejected; approve it first"
    assert not User.objects.filter(email="new@acme.example.com").exists()


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (_create_user_args(role="boss"), "invalid choice: 'boss'"),
        (_create_user_args(email=None), "the following arguments are required: --email"),
    ],
)
def test_create_dealer_user_as_a_script_exits_non_zero_on_bad_arguments(args, reason):
    result = manage("create_dealer_user", *args)

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0], result.stderr  # no usage block


# --- seed_demo: demo dealers, their users and the staff roles ---------------------------------

LOGIN_LINE = re.compile(
    r"^\s*dealer: (?P<email>\S+@\S+) / (?P<password>\S+) \((?P<role>\w+), (?P<code>DEMO\d{3})\)"
)


def seed(*args: str) -> list[str]:
    return run("seed_demo", *args)


def demo_customers():
    return Customer.all_objects.filter(code__startswith="DEMO").order_by("code")


def demo_snapshot() -> dict:
    """What a rerun must leave unchanged: rows, their keys and what they say."""
    customer_ct = ContentType.objects.get_for_model(Customer)
    return {
        "customers": list(
            demo_customers().values_list(
                "pk", "code", "tier", "status", "credit_limit", "sales_rep"
            )
        ),
        "users": list(
            User.objects.order_by("pk").values_list("pk", "email", "customer", "role", "is_active")
        ),
        "addresses": list(
            Address.all_objects.order_by("pk").values_list("pk", "type", "is_default")
        ),
        "credit_changes": CreditLimitChange.objects.count(),
        "object_perms": UserObjectPermission.objects.filter(content_type=customer_ct).count(),
        "audit_entries": LogEntry.objects.count(),
        # a rerun pictured the next 60 products
        "product_images": ProductImage.objects.count(),
    }


def test_seed_demo_never_makes_fewer_than_four_dealers():
    lines = seed("--dealers", "2")

    assert demo_customers().count() == 4
    assert demo_customers().filter(status=CustomerStatus.PENDING).count() == 1
    assert any("raised to the minimum of 4" in line for line in lines)


def test_seed_demo_makes_as_many_dealers_as_asked_with_one_pending():
    seed("--dealers", "8")

    assert demo_customers().count() == 8
    assert demo_customers().filter(status=CustomerStatus.PENDING).count() == 1


def test_seed_demo_refuses_more_dealers_than_its_codes_allow():
    with pytest.raises(CommandError, match="at most 999"):
        seed("--dealers", "1000")
    assert not demo_customers().exists()


def demo_counts() -> dict:
    return {
        name: len(value) if isinstance(value, list) else value
        for name, value in demo_snapshot().items()
        if name != "audit_entries"  # the audit log keeps the history of deleted rows
    }


def test_seed_demo_reset_removes_dealers_from_an_earlier_larger_run():
    seed("--dealers", "7")

    seed("--reset", "--dealers", "4")

    assert demo_customers().count() == 4
    assert not User.objects.filter(email__endswith="@demo007.example.com").exists()


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker) -> list[str]:
    """``seed_demo`` with its defaults, run once for the tests of a class in a transaction that
    is rolled back after them. pytest-django runs each test in savepoints inside it, so every
    test starts from the same freshly seeded rows (what a test changes is rolled back with
    it). Returns the command's output lines. Passwords are hashed as in every test."""
    hashers = override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS)
    with hashers, django_db_blocker.unblock(), transaction.atomic():
        yield seed()
        transaction.set_rollback(True)


class TestAfterOneSeedDemoRun:
    """What one ``seed_demo`` run leaves, and what a rerun or a ``--reset`` after it does."""

    def test_seed_demo_makes_dealers_of_tiers_a_b_c_and_exactly_one_pending(self, seeded):
        customers = list(demo_customers())
        codes = ["DEMO001", "DEMO002", "DEMO003", "DEMO004", "DEMO005"]
        assert [c.code for c in customers] == codes
        active = [c for c in customers if c.status == CustomerStatus.ACTIVE]
        assert {c.tier for c in active} == {"A", "B", "C"}
        assert [c.status for c in customers].count(CustomerStatus.PENDING) == 1
        assert len(active) == 4
        assert all(vkn.is_valid(c.tax_number) for c in customers)
        assert all(c.credit_limit > 0 and c.approved_at for c in active)

    def test_seed_demo_gives_each_active_dealer_the_four_roles_and_two_addresses(self, seeded):
        for customer in demo_customers().filter(status=CustomerStatus.ACTIVE):
            users = {u.role: u for u in User.objects.filter(customer=customer)}
            assert set(users) == set(DealerRole.values)
            assert all(u.is_active and u.groups.count() == 1 for u in users.values())
            assert users["purchasing"].order_limit and users["purchasing"].order_limit > 0
            assert users["owner"].order_limit is None
            defaults = Address.objects.filter(customer=customer, is_default=True)
            assert sorted(defaults.values_list("type", flat=True)) == ["billing", "shipping"]

    def test_seed_demo_makes_staff_for_the_staff_roles(self, seeded):
        lines = seeded

        for email, group, *_names in DEMO_STAFF:
            user = User.objects.get(email=email)
            assert user.is_staff and not user.is_superuser and user.customer is None
            assert list(user.groups.values_list("name", flat=True)) == [group]
            assert user.check_password(DEMO_STAFF_PASSWORD)
            assert any(f"{email} / {DEMO_STAFF_PASSWORD}" in line for line in lines)

    def test_seed_demo_sales_manager_sees_only_the_dealers_assigned_to_them(self, seeded):
        sales_manager = User.objects.get(email=DEMO_SALES_MANAGER_EMAIL)
        finance_manager = User.objects.get(email="finance.manager@example.com")

        seen = set(customer_list_for_staff(user=sales_manager).values_list("code", flat=True))

        assigned = set(
            demo_customers().filter(sales_rep=sales_manager).values_list("code", flat=True)
        )
        assert seen == assigned == {"DEMO001", "DEMO003", "DEMO005"}
        seen_by_finance = customer_list_for_staff(user=finance_manager)
        assert seen_by_finance.filter(code__startswith="DEMO").count() == 5

    def test_seed_demo_twice_leaves_the_same_rows(self, seeded):
        before = demo_snapshot()

        seed()

        assert demo_snapshot() == before

    def test_seed_demo_rerun_brings_changed_demo_logins_back(self, seeded):
        owner = User.objects.get(email="owner@demo001.example.com")
        owner.set_password("Something-Else-2026")
        owner.is_active = False
        owner.save()
        pending = Customer.objects.get(code="DEMO004")
        pending.status = CustomerStatus.ACTIVE
        pending.save()

        seed()

        assert token_for(owner.email, DEMO_DEALER_PASSWORD).status_code == 200
        assert Customer.objects.get(code="DEMO004").status == CustomerStatus.PENDING

    def test_seed_demo_reset_recreates_dealers_even_after_logins_and_assignments(self, seeded):
        # given: rows that point at the demo users (auth events, tokens, an API key they made)
        # and at the demo dealers (the sales manager's object permissions)
        assert token_for("owner@demo001.example.com", DEMO_DEALER_PASSWORD).status_code == 200
        assert token_for("owner@demo001.example.com", "wrong-password").status_code == 401
        api_key, _raw = api_key_create(
            name="made by a demo user", by=User.objects.get(email="owner@demo002.example.com")
        )
        old_customers = set(demo_customers().values_list("pk", flat=True))
        counts = demo_counts()

        # when
        seed("--reset")

        # then: the same demo data, in new rows; what pointed at the old rows is kept
        assert not set(demo_customers().values_list("pk", flat=True)) & old_customers
        assert demo_counts() == counts
        assert AuthEvent.objects.filter(email="owner@demo001.example.com", user=None).count() >= 2
        api_key.refresh_from_db()
        assert api_key.created_by is None
        assert token_for("owner@demo001.example.com", DEMO_DEALER_PASSWORD).status_code == 200

    def test_seed_demo_prints_every_dealer_login_and_an_owner_login_obtains_a_token(self, seeded):
        lines = seeded

        logins = [m.groupdict() for line in lines if (m := LOGIN_LINE.match(line))]
        assert len(logins) == 4 * 4 + 1  # four roles per active dealer, the pending one's owner
        owner = next(x for x in logins if x["role"] == "owner" and x["code"] == "DEMO001")
        response = token_for(owner["email"], owner["password"])
        assert response.status_code == 200
        assert response.json()["access"]

    def test_seed_demo_pending_dealer_owner_cannot_log_in_until_approved(self, seeded):
        lines = seeded

        pending = next(
            m for line in lines if (m := LOGIN_LINE.match(line)) and m["code"] == "DEMO004"
        )
        response = token_for(pending["email"], pending["password"])
        assert response.status_code == 403
        assert response.json()["code"] == "customer_pending"


@pytest.mark.parametrize(
    ("command", "args", "reason"),
    [
        ("create_api_key", ["--name", "x" * 101], "--name is longer than 100 characters"),
        ("create_api_key", ["--name", "ERP \udcff"], "--name: Surrogate characters"),
        ("create_api_key", ["--name", "LOGO\nconnector"], "--name: control characters"),
        (
            "create_dealer_user",
            _create_user_args(email="a" * 300 + "@acme.example.com"),
            "--email is longer than 254 characters",
        ),
        ("create_dealer_user", _create_user_args(customer="AC\udcff"), "--customer: Surrogate"),
    ],
)
def test_values_the_database_cannot_hold_fail_with_a_one_line_reason(command, args, reason):
    """Too long for the column, or argv bytes that are not UTF-8 (Python passes them on as lone
    surrogates): a one-line reason before anything is written, not a database traceback."""
    CustomerFactory(code="ACME01")
    keys_before = ApiKey.objects.count()
    with pytest.raises(CommandError) as excinfo:
        run(command, *args)
    assert reason in str(excinfo.value) and "\n" not in str(excinfo.value)
    assert ApiKey.objects.count() == keys_before
    assert not User.objects.filter(customer__code="ACME01").exists()


@pytest.mark.parametrize("value", ["abc", "-5"])
def test_seed_demo_as_a_script_refuses_a_bad_number_in_one_line(value):
    result = manage("seed_demo", "--products", value)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "argument --products: expected" in result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("command", "args", "reason"),
    [
        ("retry_webhooks", ["--endpoint", "abc"], "--endpoint: invalid int value: 'abc'"),
        ("seed_demo", ["--products", "-5"], "--products"),
        ("events_catalogue", ["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_every_command_answers_bad_arguments_on_one_line(command, args, reason):
    """API.md: "Each exits non-zero with a one-line reason on bad arguments": argparse's
    usage block is left to --help."""
    result = manage(command, *args)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0], result.stderr
    assert "usage:" in manage(command, "--help").stdout
