"""The user of a token-authenticated request: one query brings the user, the company and the
permissions; nothing of it is kept from one request to the next."""

import pytest
from django.contrib.auth.models import Group, Permission

from apps.accounts.authentication import user_load_for_request
from apps.accounts.models import User
from tests.factories import DealerUserFactory, StaffUserFactory

pytestmark = [pytest.mark.django_db]


def test_me_is_one_query_with_the_permissions(dealer_client, django_assert_num_queries):
    client = dealer_client("owner")
    expected = sorted(User.objects.get(pk=client.user.pk).get_all_permissions())
    assert len(expected) > 3
    with django_assert_num_queries(1):
        response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["permissions"] == expected


def test_a_permission_check_asks_the_database_nothing_more(
    dealer_client, django_assert_num_queries
):
    # the company endpoint checks accounts.view_customer: the user (with the permissions), the
    # company and its three credit sums; no permission query
    client = dealer_client("owner")
    client.get("/api/v1/company")
    with django_assert_num_queries(5):
        assert client.get("/api/v1/company").status_code == 200


def test_a_permission_taken_away_is_gone_on_the_next_request(dealer_client):
    client = dealer_client("owner")
    assert client.get("/api/v1/company").status_code == 200
    group = client.user.groups.get()
    group.permissions.remove(Permission.objects.get(codename="view_customer"))
    assert client.get("/api/v1/company").status_code == 403
    assert "accounts.view_customer" not in client.get("/api/v1/me").json()["permissions"]


def test_a_permission_given_to_the_user_directly_counts(dealer_client):
    client = dealer_client("viewer")
    client.user.groups.clear()
    assert client.get("/api/v1/company").status_code == 403
    client.user.user_permissions.add(Permission.objects.get(codename="view_customer"))
    assert client.get("/api/v1/company").status_code == 200
    assert client.get("/api/v1/me").json()["permissions"] == ["accounts.view_customer"]


@pytest.mark.parametrize("make", [DealerUserFactory, StaffUserFactory])
def test_the_loaded_user_is_the_orms_user(make):
    user = make()
    loaded = user_load_for_request(user.pk)
    orm = User.objects.select_related("customer").get(pk=user.pk)
    for field in User._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(orm, field.attname), field.name
    if orm.customer is None:
        assert loaded.customer is None
    else:
        for field in type(orm.customer)._meta.concrete_fields:
            assert getattr(loaded.customer, field.attname) == getattr(
                orm.customer, field.attname
            ), field.name
    assert loaded.get_all_permissions() == orm.get_all_permissions()
    assert user_load_for_request(user.pk + 10_000) is None
    assert user_load_for_request("not-a-number") is None


def test_a_superuser_keeps_every_permission():
    user = StaffUserFactory(is_superuser=True)
    loaded = user_load_for_request(user.pk)
    assert loaded.get_all_permissions() == User.objects.get(pk=user.pk).get_all_permissions()
    assert len(loaded.get_all_permissions()) == Permission.objects.count()


def test_an_inactive_users_group_permissions_do_not_count():
    user = DealerUserFactory(role="owner", is_active=False)
    assert Group.objects.filter(user=user).exists()
    assert user_load_for_request(user.pk).get_all_permissions() == set()
