"""Demo dealers are seeded set-based (``seed_demo --dealers 999`` took one second a dealer):
the same rows for 4 dealers or 40 in the same number of queries, the dealer password hashed
once, and each new dealer as the services would leave it."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import Address, CreditLimitChange, Customer, User
from apps.accounts.roles import DEALER_ROLE_GROUPS
from apps.demo import accounts as demo_accounts
from apps.demo.accounts import (
    DEMO_DEALER_PASSWORD,
    DEMO_SALES_MANAGER_EMAIL,
    TIER_TERMS,
    reset_dealers,
    seed_dealers,
    seed_staff_roles,
)

pytestmark = [pytest.mark.django_db]

OPTIONS = {"verbosity": 0}


def _seed(count: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        seed_dealers({**OPTIONS, "dealers": count})
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_number_of_dealers():
    seed_staff_roles(OPTIONS)
    four = _seed(4)
    reset_dealers(OPTIONS)
    forty = _seed(40)

    assert forty <= four  # (the first run also looked up a content type)
    assert Customer.objects.filter(code__startswith="DEMO").count() == 40
    assert User.objects.filter(customer__code__startswith="DEMO").count() == 4 * 39 + 1  # pending


def test_the_dealer_password_is_hashed_once_per_run(monkeypatch):
    calls = []
    real = demo_accounts.make_password
    monkeypatch.setattr(demo_accounts, "make_password", lambda raw: calls.append(raw) or real(raw))

    seed_dealers({**OPTIONS, "dealers": 12})

    assert calls == [DEMO_DEALER_PASSWORD]


def test_a_new_demo_dealer_has_its_logins_addresses_credit_history_and_sales_rep():
    seed_staff_roles(OPTIONS)
    seed_dealers({**OPTIONS, "dealers": 6})

    dealer = Customer.objects.get(code="DEMO001")
    credit_limit, terms = TIER_TERMS[dealer.tier]
    assert (dealer.credit_limit, dealer.payment_terms_days) == (credit_limit, terms)
    assert dealer.approved_at is not None
    history = CreditLimitChange.objects.get(customer=dealer)
    assert (history.old_limit, history.new_limit) == (0, credit_limit)
    addresses = Address.objects.filter(customer=dealer)
    assert sorted(a.type for a in addresses) == ["billing", "shipping"]
    assert all(a.is_default for a in addresses)

    for user in User.objects.filter(customer=dealer):
        assert authenticate(email=user.email, password=DEMO_DEALER_PASSWORD) == user
        assert [g.name for g in user.groups.all()] == [DEALER_ROLE_GROUPS[user.role]]

    rep = User.objects.get(email=DEMO_SALES_MANAGER_EMAIL)
    assert dealer.sales_rep == rep and rep.has_perm("accounts.change_customer", dealer)
    unassigned = Customer.objects.get(code="DEMO002")
    assert unassigned.sales_rep is None and not rep.has_perm("accounts.change_customer", unassigned)
    pending = Customer.objects.get(code="DEMO004")
    assert pending.approved_at is None and pending.credit_limit == 0
    assert not CreditLimitChange.objects.filter(customer=pending).exists()


def test_a_second_run_leaves_the_same_rows_and_the_same_password():
    seed_dealers({**OPTIONS, "dealers": 5})
    before = list(User.objects.order_by("email").values_list("email", "password", "role"))
    counts = Customer.objects.count(), Address.objects.count(), CreditLimitChange.objects.count()

    seed_dealers({**OPTIONS, "dealers": 5})

    assert list(User.objects.order_by("email").values_list("email", "password", "role")) == before
    assert (
        Customer.objects.count(),
        Address.objects.count(),
        CreditLimitChange.objects.count(),
    ) == counts
