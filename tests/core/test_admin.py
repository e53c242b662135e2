"""The back office opens for staff with the demo login."""

import pytest
from django.core.management import call_command

from apps.demo.management.commands.seed_demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD
from apps.demo.two_factor import demo_recovery_codes

pytestmark = [pytest.mark.django_db]


def test_demo_admin_logs_into_the_admin(client):
    call_command("seed_demo", verbosity=0)
    assert client.login(email=DEMO_ADMIN_EMAIL.upper(), password=DEMO_ADMIN_PASSWORD)
    # a super admin gives a code next: one of the demo recovery codes printed with the login
    assert client.get("/admin/")["Location"].startswith("/admin/two-factor/verify/")
    client.post("/admin/two-factor/verify/", {"code": demo_recovery_codes(DEMO_ADMIN_EMAIL)[0]})
    response = client.get("/admin/")
    assert response.status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get("/admin/accounts/user/add/").status_code == 200


def test_admin_login_page_renders(client):
    assert client.get("/admin/login/").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "created_at__year=99999999999999999999",
        "created_at__year=2026&created_at__month=99999999999999999999",
        "created_at__year=2026&created_at__month=1&created_at__day=x",
    ],
)
def test_a_date_drilldown_that_is_no_small_number_is_the_unfiltered_list_not_a_500(
    staff_client, query
):
    client = staff_client(superuser=True)
    response = client.get(f"/admin/orders/order/?{query}")
    assert response.status_code == 302 and response["Location"] == "/admin/orders/order/?e=1"
    assert client.get("/admin/orders/order/?created_at__year=2026").status_code == 200
