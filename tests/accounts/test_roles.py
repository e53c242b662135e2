"""Roles are groups with Django permissions, created by a data migration; a Sales Manager sees
only the customers assigned to them (django-guardian object permissions)."""

import pytest
from django.contrib.auth.models import Group

from apps.accounts.roles import GROUP_PERMISSIONS
from apps.accounts.selectors import customer_list_for_staff
from apps.accounts.services.customers import customer_assign_sales_rep
from tests.factories import CustomerFactory, DealerUserFactory, StaffUserFactory

pytestmark = [pytest.mark.django_db]


def test_every_role_group_exists_with_its_permissions():
    for name, perms in GROUP_PERMISSIONS.items():
        group = Group.objects.get(name=name)
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        if perms == "*":
            assert len(granted) > 40
        else:
            assert granted == set(perms)


@pytest.mark.parametrize(
    ("role", "manage_users", "manage_addresses"),
    [
        ("owner", True, True),
        ("purchasing", False, True),
        ("finance", False, False),
        ("viewer", False, False),
    ],
)
def test_dealer_role_capabilities(role, manage_users, manage_addresses):
    user = DealerUserFactory(role=role)
    assert user.has_perm("accounts.view_customer")
    assert user.has_perm("accounts.manage_company_users") is manage_users
    assert user.has_perm("accounts.manage_company_addresses") is manage_addresses


def test_sales_manager_sees_only_assigned_customers():
    manager = StaffUserFactory(groups=["Sales Manager"])
    colleague = StaffUserFactory(groups=["Sales Manager"])
    mine, theirs, nobodys = CustomerFactory(), CustomerFactory(), CustomerFactory()
    customer_assign_sales_rep(customer=mine, rep=manager, by=None)
    customer_assign_sales_rep(customer=theirs, rep=colleague, by=None)

    assert list(customer_list_for_staff(user=manager)) == [mine]
    assert list(customer_list_for_staff(user=colleague)) == [theirs]
    assert nobodys not in customer_list_for_staff(user=manager)


def test_reassigning_moves_the_visibility():
    first = StaffUserFactory(groups=["Sales Manager"])
    second = StaffUserFactory(groups=["Sales Manager"])
    customer = CustomerFactory()
    customer_assign_sales_rep(customer=customer, rep=first, by=None)
    customer_assign_sales_rep(customer=customer, rep=second, by=None)
    assert customer not in customer_list_for_staff(user=first)
    assert customer in customer_list_for_staff(user=second)


@pytest.mark.parametrize("group", ["Finance Manager", "Customer Service", "Super Admin"])
def test_other_staff_roles_see_every_customer(group):
    user = StaffUserFactory(groups=[group])
    CustomerFactory.create_batch(3)
    assert customer_list_for_staff(user=user).count() == 3


def test_dealers_see_no_customers_through_the_staff_selector():
    dealer = DealerUserFactory()
    assert customer_list_for_staff(user=dealer).count() == 0


def test_only_staff_can_be_a_sales_rep():
    from apps.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        customer_assign_sales_rep(customer=CustomerFactory(), rep=DealerUserFactory(), by=None)
