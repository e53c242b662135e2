"""Two writers of one company user or one address, one after the other on what the other left
(the race sweep's findings): each service reads its object again under a lock, so a writer
holding a copy read before another's change cannot undo it. Shown by the interleaving that
broke: a copy read, another request's change committed, then the copy's change."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.accounts.models import Address, User
from apps.accounts.services import addresses as address_services
from apps.accounts.services import users as user_services
from apps.core.exceptions import NotFound
from tests.factories import AddressFactory, CustomerFactory, DealerUserFactory

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def company():
    customer = CustomerFactory()
    owner = DealerUserFactory(customer=customer, role="owner")
    return customer, owner


def test_a_removed_user_is_not_brought_back_by_a_change_read_before_the_removal(company):
    """A DELETE raced with a PATCH of the same user: both answered, and the PATCH's save of
    its copy (is_deleted false, active) let the removed user sign in again."""
    customer, owner = company
    member = DealerUserFactory(customer=customer, role="purchasing", password="Parola-2026!")
    stale = User.objects.get(pk=member.pk)  # the PATCH's copy, read first

    user_services.user_remove_from_company(user=User.objects.get(pk=member.pk), by=owner)
    with pytest.raises(NotFound):
        user_services.user_update_for_company(user=stale, by=owner, first_name="Renamed")

    member.refresh_from_db()
    assert member.is_deleted and not member.is_active and member.first_name != "Renamed"
    from rest_framework.test import APIClient

    refused = APIClient().post(
        "/api/v1/auth/token", {"email": member.email, "password": "Parola-2026!"}, format="json"
    )
    assert refused.status_code == 401


def test_a_deactivation_and_another_change_of_one_user_both_hold(company):
    customer, owner = company
    member = DealerUserFactory(customer=customer, role="purchasing")
    stale = User.objects.get(pk=member.pk)
    user_services.user_update_for_company(
        user=User.objects.get(pk=member.pk), by=owner, is_active=False
    )
    user_services.user_update_for_company(user=stale, by=owner, order_limit=Decimal("10.00"))
    member.refresh_from_db()
    assert not member.is_active and member.order_limit == Decimal("10.00")


def test_removing_a_user_twice_answers_404_the_second_time(company, dealer_client):
    customer, owner = company
    client = dealer_client(customer=customer)
    member = DealerUserFactory(customer=customer, role="viewer")
    stale = User.objects.get(pk=member.pk)
    assert client.delete(f"/api/v1/company/users/{member.pk}").status_code == 204
    with pytest.raises(NotFound):
        user_services.user_remove_from_company(user=stale, by=owner)


def test_a_deleted_address_is_not_brought_back_by_a_change_read_before_the_delete(company):
    customer, _owner = company
    address = AddressFactory(customer=customer, type=Address.Type.SHIPPING, is_default=True)
    other = AddressFactory(customer=customer, type=Address.Type.SHIPPING, is_default=False)
    stale = Address.objects.get(pk=address.pk)

    address_services.address_delete(address=Address.objects.get(pk=address.pk), by=None)
    with pytest.raises(NotFound):
        address_services.address_update(address=stale, data={"title": "patched"}, by=None)

    assert not Address.objects.filter(pk=address.pk).exists()  # still deleted
    assert Address.objects.get(pk=other.pk).is_default  # the type kept a default


def test_two_changes_of_one_address_both_hold(company):
    """Two PATCHes (title, city) of one address at once kept only one of them."""
    customer, _owner = company
    address = AddressFactory(customer=customer, type=Address.Type.BILLING, is_default=True)
    stale = Address.objects.get(pk=address.pk)
    address_services.address_update(
        address=Address.objects.get(pk=address.pk), data={"title": "New title"}, by=None
    )
    address_services.address_update(address=stale, data={"city": "Bursa"}, by=None)
    address.refresh_from_db()
    assert (address.title, address.city) == ("New title", "Bursa")


def test_a_default_passed_on_meanwhile_is_not_lost(company):
    """Deletes raced with "set default" PATCHes left a type with addresses and no default:
    each read "was the default" before the lock."""
    customer, _owner = company
    first = AddressFactory(customer=customer, type=Address.Type.SHIPPING, is_default=True)
    second = AddressFactory(customer=customer, type=Address.Type.SHIPPING, is_default=False)
    third = AddressFactory(customer=customer, type=Address.Type.SHIPPING, is_default=False)
    stale_second = Address.objects.get(pk=second.pk)  # read while not the default
    # second made the default, then deleted on a copy that still says "not the default"
    address_services.address_update(
        address=Address.objects.get(pk=second.pk), data={"is_default": True}, by=None
    )
    address_services.address_delete(address=stale_second, by=None)
    defaults = Address.objects.filter(customer=customer, type="shipping", is_default=True)
    assert list(defaults.values_list("pk", flat=True)) in ([first.pk], [third.pk])


def test_the_api_answers_404_for_a_user_removed_meanwhile(company, dealer_client):
    customer, _owner = company
    client = dealer_client(customer=customer)
    member = DealerUserFactory(customer=customer, role="viewer")
    User.objects.filter(pk=member.pk).update(is_deleted=True, is_active=False)
    assert (
        client.patch(
            f"/api/v1/company/users/{member.pk}", {"first_name": "X"}, format="json"
        ).status_code
        == 404
    )
