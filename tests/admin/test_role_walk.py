"""Every staff role walked through every admin screen (issue "Back office": "every admin screen
obeys the staff roles ...; a test walks each role through the admin and asserts what it can and
cannot open or change").

The policy is the role table (``apps/accounts/roles.py``: each role's Django permissions) and the
screens' reach (super-admin-only screens, screens mixing every dealer's rows): for every
registered admin and every staff role this walk opens the list, the add page, one row's change
page and its delete page, and posts a change, and asserts the answer the policy gives:

- the list and the row open (200) only with the model's view or change permission, else 403;
- the add page opens only with the add permission (and only where the screen lets anyone add);
- the change page offers "Save" only with the change permission, and a change posted without it
  is refused (403) and changes nothing;
- the delete page opens only with the delete permission.

What a screen refuses even a super admin (ledger entries are never edited, the audit log is
read-only) it refuses every role. A model registered later without a row maker fails the first
test, so no screen escapes the walk.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import RequestFactory

from apps.accounts.admin.scoping import SUPER_ADMIN, WHOLE_BOOK, DealerScopedAdminMixin
from apps.accounts.roles import ALL, GROUP_PERMISSIONS, STAFF_GROUPS
from tests.admin.test_staff_scoping import OBJECT_MAKERS, build_world, client_for, label
from tests.catalog.factories import StockLevelFactory
from tests.factories import StaffUserFactory

pytestmark = [pytest.mark.django_db]


def _api_key(world, customer):
    from apps.accounts.services.api_keys import api_key_create

    return api_key_create(name="ERP connector")[0]


def _webhook_endpoint(world, customer):
    from apps.integrations.services.endpoints import webhook_endpoint_create

    return webhook_endpoint_create(url="http://127.0.0.1:9/hooks", event_types=["*"])[0]


def _price(world, customer):
    from apps.pricing.models import Price, PriceList

    return Price.objects.create(
        price_list=PriceList.objects.get(code="LIST"), product=world.product, amount="100"
    )


# rows of the screens that hold no dealer's data (the same row serves every role)
SHARED_MAKERS = {
    "auth.group": lambda world, customer: Group.objects.get(name="Content Manager"),
    "accounts.apikey": _api_key,
    "integrations.webhookendpoint": _webhook_endpoint,
    "catalog.product": lambda world, customer: world.product,
    "catalog.category": lambda world, customer: world.product.category,
    "catalog.brand": lambda world, customer: world.product.brand,
    "inventory.warehouse": lambda world, customer: world.warehouse,
    "inventory.stocklevel": lambda world, customer: StockLevelFactory(
        product=world.product, warehouse=world.warehouse
    ),
    "pricing.pricelist": lambda world, customer: _price_list(),
    "pricing.price": _price,
}


# screens whose change permission another permission also grants, by design
CHANGED_ALSO_WITH = {
    # holders of pricing.change_price edit a list's quantity breaks (its prices) on the list's
    # page, read-only on the list's own fields
    "pricing.pricelist": "pricing.change_price",
}


def _price_list():
    from apps.pricing.models import PriceList

    return PriceList.objects.get(code="LIST")


@pytest.fixture(name="world")
def _world(db):
    return build_world()


def registered():
    return sorted(admin.site._registry.items(), key=lambda item: label(item[0]))


def granted(role: str, perm: str) -> bool:
    perms = GROUP_PERMISSIONS[role]
    return perms == ALL or perm in perms


def reach(model_admin, role: str) -> bool:
    """May the role open this screen at all (before model permissions)?"""
    scope = (
        getattr(model_admin, "dealer_scope", "")
        if isinstance(model_admin, DealerScopedAdminMixin)
        else ""
    )
    if scope == SUPER_ADMIN:
        return role == "Super Admin"
    if scope == WHOLE_BOOK:
        return granted(role, "accounts.view_all_customers")
    return True


class Superuser:
    """What the screen allows anyone at all (a superuser passes every permission)."""

    def __init__(self):
        self.request = RequestFactory().get("/admin/")
        self.request.user = StaffUserFactory(is_superuser=True)

    def allows(self, model_admin, action: str, obj=None) -> bool:
        if action == "add":
            return model_admin.has_add_permission(self.request)
        return getattr(model_admin, f"has_{action}_permission")(self.request, obj)


def test_every_admin_screen_has_a_row_for_the_walk():
    missing = [
        label(model)
        for model, _a in registered()
        if label(model) not in OBJECT_MAKERS and label(model) not in SHARED_MAKERS
    ]
    assert missing == [], "add a row maker (OBJECT_MAKERS or SHARED_MAKERS) for these screens"


def url_of(model, suffix: str) -> str:
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/{suffix}"


@pytest.mark.parametrize("role", STAFF_GROUPS)
def test_each_role_opens_adds_changes_and_deletes_exactly_what_its_permissions_allow(role, world):
    client = client_for(role, world)
    anyone = Superuser()
    offences = []
    for model, model_admin in registered():
        model_label = label(model)
        app, name = model._meta.app_label, model._meta.model_name
        maker = OBJECT_MAKERS.get(model_label)
        obj = (
            world.objects[(model_label, "mine")]
            if maker
            else SHARED_MAKERS[model_label](world, world.mine)
        )
        may = reach(model_admin, role)
        can = {
            action: may and granted(role, f"{app}.{action}_{name}")
            for action in ("view", "add", "change", "delete")
        }
        also = CHANGED_ALSO_WITH.get(model_label)
        can["change"] = can["change"] or bool(may and also and granted(role, also))
        can["view"] = can["view"] or can["change"]
        can["add"] = can["add"] and anyone.allows(model_admin, "add")
        can["change"] = can["change"] and anyone.allows(model_admin, "change", obj)
        can["delete"] = can["delete"] and anyone.allows(model_admin, "delete", obj)

        def expect(url, status, wanted, method="get", data=None):
            if status != wanted:
                offences.append(f"{role} · {method.upper()} {url}: {status}, expected {wanted}")

        listing = url_of(model, "")
        expect(listing, client.get(listing).status_code, 200 if can["view"] else 403)
        add = url_of(model, "add/")
        expect(add, client.get(add).status_code, 200 if can["add"] else 403)
        change = url_of(model, f"{obj.pk}/change/")
        page = client.get(change)
        expect(change, page.status_code, 200 if can["view"] else 403)
        if page.status_code == 200:
            offers_save = 'name="_save"' in page.content.decode()
            if offers_save != can["change"]:
                offences.append(
                    f"{role} · {change}: Save {'offered' if offers_save else 'missing'}"
                )
        if not can["change"]:
            before = type(obj)._base_manager.filter(pk=obj.pk).values().first()
            posted = client.post(change, {"_save": "Save"})
            expect(change, posted.status_code, 403, method="post")
            after = type(obj)._base_manager.filter(pk=obj.pk).values().first()
            if before != after:
                offences.append(f"{role} · POST {change}: the row changed")
        delete = url_of(model, f"{obj.pk}/delete/")
        expect(delete, client.get(delete).status_code, 200 if can["delete"] else 403)
    assert offences == [], "\n".join(offences)
