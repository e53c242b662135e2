"""factory-boy factories, named after the models."""

from __future__ import annotations

from decimal import Decimal

import factory
from stdnum.tr import vkn

from apps.accounts.models import Address, Customer, CustomerStatus, DealerRole, Tier, User

DEFAULT_PASSWORD = "Str0ng-Passw0rd!"


def _valid_vkn(n: int) -> str:
    """The n-th valid VKN (check digit computed by python-stdnum)."""
    base = f"{(n * 7919) % 10**9:09d}"
    return base + vkn.calc_check_digit(base)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    code = factory.Sequence(lambda n: f"C{n:05d}")
    name = factory.Sequence(lambda n: f"Dealer {n} Ltd.")
    tax_number = factory.Sequence(lambda n: _valid_vkn(n + 1))
    tax_office = "Kadıköy"
    phone = "+90 216 000 00 00"
    tier = Tier.B
    status = CustomerStatus.ACTIVE
    credit_limit = Decimal("100000.00")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = "Ayşe"
    last_name = "Yılmaz"
    is_active = True

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or DEFAULT_PASSWORD)
        if create:
            self.save(update_fields=["password"])


class DealerUserFactory(UserFactory):
    customer = factory.SubFactory(CustomerFactory)
    role = DealerRole.OWNER

    @factory.post_generation
    def role_group(self, create, extracted, **kwargs):
        if create:
            from apps.accounts.services.users import user_sync_role_group

            user_sync_role_group(user=self)


class StaffUserFactory(UserFactory):
    is_staff = True

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            from django.contrib.auth.models import Group

            self.groups.add(*Group.objects.filter(name__in=extracted))


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    customer = factory.SubFactory(CustomerFactory)
    type = Address.Type.SHIPPING
    title = factory.Sequence(lambda n: f"Depot {n}")
    line1 = "Atatürk Cd. No: 1"
    city = "İstanbul"
    district = "Kadıköy"
    postal_code = "34710"
    country = "TR"
