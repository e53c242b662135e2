"""Every back-office screen for every staff role, in a real browser (issue "Back office":
"Screenshots of every screen for every role are taken by the browser tests and looked at";
"wide tables are cut off").

On the demo data, each staff role opens the start page and, of every registered admin, the
list and the first row's change page (the super admin also every add page: the same form for
every role that may add, whose permission tests/admin/test_role_walk.py checks); what the role
may not open answers 403 and is not drawn. Each page drawn must raise no script error and fit
the window: a wide table scrolls inside its own box instead of widening (and cutting off) the
page. Screenshots go to ``artifacts/backoffice/roles/<role>/``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import Client

from apps.accounts.models import Customer
from apps.accounts.roles import STAFF_GROUPS
from apps.accounts.services.customers import customer_assign_sales_rep
from tests.conftest import staff_login
from tests.factories import StaffUserFactory
from tests.portal.test_browser import chromium  # noqa: F401 - the fixture

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "backoffice" / "roles"
WIDTH = 1280


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def fits(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_screen_for_every_role_draws_and_fits_the_window(live_server, chromium):  # noqa: F811
    call_command("seed_demo", "--products", "40", "--dealers", "6", verbosity=0)
    models = sorted(admin.site._registry, key=lambda m: (m._meta.app_label, m._meta.model_name))
    problems: list[str] = []
    drawn = 0
    for role in STAFF_GROUPS:
        folder = ARTIFACTS / slug(role)
        folder.mkdir(parents=True, exist_ok=True)
        user = StaffUserFactory(groups=[role])
        if role == "Sales Manager":  # their screens show the dealers assigned to them
            for customer in Customer.objects.order_by("code")[:3]:
                customer_assign_sales_rep(customer=customer, rep=user, by=None)
        client = staff_login(Client(), user)
        context = chromium.new_context(viewport={"width": WIDTH, "height": 900})
        context.add_cookies(
            [
                {"name": cookie.key, "value": cookie.value, "url": live_server.url}
                for cookie in client.cookies.values()
            ]
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))

        def draw(path: str, name: str, *, page=page, folder=folder, role=role) -> bool:
            nonlocal drawn
            response = page.goto(f"{live_server.url}{path}")
            if response.status == 403:
                return False
            if response.status != 200:
                problems.append(f"{role} · {path}: {response.status}")
                return False
            if "/login/" in page.url or "two-factor" in page.url:
                problems.append(f"{role} · {path}: sent to {page.url}")
                return False
            if not fits(page):
                problems.append(f"{role} · {path}: wider than the window (cut off)")
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
            drawn += 1
            return True

        draw("/admin/", "00-start")
        for model in models:
            base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
            name = f"{model._meta.app_label}-{model._meta.model_name}"
            if not draw(base, name):
                continue
            first = page.locator("#result_list tbody tr a[href*='/change/']").first
            href = first.get_attribute("href") if first.count() else None
            if href and href.startswith(base):
                draw(href, f"{name}-change")
            if role == "Super Admin":  # an add page is the same form for every role that adds
                draw(f"{base}add/", f"{name}-add")
        problems.extend(f"{role} · script error: {e}" for e in errors)
        context.close()
    assert drawn > 80
    assert problems == [], "\n".join(problems)
