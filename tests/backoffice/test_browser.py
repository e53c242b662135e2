"""The back office's start page and two of its work queues in a real browser (headless
Chromium, /usr/bin/chromium): the figures and charts draw without a script error (Chart.js
from our static files), and each queue's link opens its filtered list. Screenshots go to
``artifacts/backoffice/``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from apps.quotes.models import Quote
from tests.factories import CustomerFactory, StaffUserFactory
from tests.finance.helpers import make_order
from tests.portal.test_browser import chromium  # noqa: F401 - the fixture

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "backoffice"
PASSWORD = "Staff-Password-2026"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_dashboard_and_two_queues_in_a_browser(live_server, chromium):  # noqa: F811
    dealer = CustomerFactory(code="BAYI01")
    waiting = make_order(dealer, status="awaiting_credit_approval", gross="2500.00")
    make_order(dealer, status="confirmed", gross="1200.00")
    Quote.objects.create(number="QT-2026-000777", customer=dealer)
    staff = StaffUserFactory(is_superuser=True, password=PASSWORD)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = chromium.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", staff.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))
    assert page.evaluate("typeof window.Chart") == "function"
    assert page.locator("#chart-orders").is_visible() and page.locator("#chart-aging").is_visible()
    assert "BAYI01" in page.locator("[data-top=dealers]").inner_text()
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    page.click("[data-queue=credit]")
    page.wait_for_url(re.compile(r"status__exact=awaiting_credit_approval"))
    assert waiting.number in page.content()
    page.screenshot(path=str(ARTIFACTS / "queue-credit.png"), full_page=True)
    page.click("[data-queue=quotes]")
    page.wait_for_url(re.compile(r"status__in=requested"))
    assert "QT-2026-000777" in page.content()
    page.screenshot(path=str(ARTIFACTS / "queue-quotes.png"), full_page=True)
    assert errors == []
