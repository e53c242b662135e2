"""Roles are Django groups holding Django permissions. This table is the one definition;
data migrations call ``sync_role_groups`` so the groups exist (and can be adjusted in the admin).

Later apps add their permissions here and call ``sync_role_groups`` from a data migration.
"""

from __future__ import annotations

from apps.accounts.models import DealerRole

DEALER_ROLE_GROUPS = {
    DealerRole.OWNER: "Dealer Owner",
    DealerRole.PURCHASING: "Dealer Purchasing",
    DealerRole.FINANCE: "Dealer Finance",
    DealerRole.VIEWER: "Dealer Viewer",
}

_DEALER_READ = ["accounts.view_customer", "accounts.view_address"]
# placing orders (the cart too) and cancelling them, and returning what came; approving others'
# orders is the owner's
_DEALER_BUY = [
    "orders.view_order",
    "orders.place_order",
    "orders.cancel_order",
    "returns.view_returnrequest",
    "returns.add_returnrequest",
    "quotes.view_quote",
    "quotes.add_quote",
]
# the back office's return screens (the request, its lines, photos and history)
_RETURN_DESK = [
    "returns.view_returnrequest",
    "returns.view_returnline",
    "returns.view_returnphoto",
    "returns.view_returnstatuschange",
]
# the back office's order screens: see, and move through fulfilment (approve/reject credit
# is the Finance Manager's)
_ORDER_DESK = [
    "orders.view_order",
    "orders.change_order",
    "orders.view_orderline",
    "orders.view_orderstatuschange",
    "orders.cancel_order",
    "orders.manage_fulfilment",
]

ALL = "*"
SUPER_ADMIN_GROUP = "Super Admin"  # holds every permission; manages staff accounts
_CRUD = ("add", "change", "view")
_CATALOG_MODELS = ("product", "category", "brand", "attributedefinition", "productimage")
_PRICING = [
    *[f"pricing.{action}_{model}" for model in ("price", "specialprice") for action in _CRUD],
    "pricing.delete_price",
    "pricing.delete_specialprice",
    "pricing.view_pricelist",
    "pricing.view_pricechange",
    *[f"campaigns.{action}_campaign" for action in _CRUD],
]
_MARKETING = [
    f"campaigns.{action}_{model}"
    for model in ("banner", "collection", "collectionitem")
    for action in (*_CRUD, "delete")
]

GROUP_PERMISSIONS: dict[str, list[str] | str] = {
    # dealer roles
    "Dealer Owner": [
        *_DEALER_READ,
        "accounts.manage_company_users",
        "accounts.manage_company_addresses",
        *_DEALER_BUY,
        "orders.approve_order",
        "finance.view_ledgerentry",
        "finance.answer_balanceconfirmation",
        "finance.add_cardpayment",
    ],
    # purchasing pays its card orders (not invoices or the account: that needs the ledger)
    "Dealer Purchasing": [
        *_DEALER_READ,
        "accounts.manage_company_addresses",
        *_DEALER_BUY,
        "finance.add_cardpayment",
    ],
    "Dealer Finance": [
        *_DEALER_READ,
        "orders.view_order",
        "quotes.view_quote",
        "returns.view_returnrequest",
        "finance.view_ledgerentry",
        "finance.answer_balanceconfirmation",
        "finance.add_cardpayment",
    ],
    "Dealer Viewer": [
        *_DEALER_READ,
        "orders.view_order",
        "quotes.view_quote",
        "finance.view_ledgerentry",
        "returns.view_returnrequest",
    ],
    # staff roles
    "Super Admin": ALL,
    "Sales Manager": [
        # model-level access to the customer screens; *which* customers is decided per
        # object (django-guardian), since they lack accounts.view_all_customers
        "accounts.view_customer",
        "accounts.change_customer",
        "accounts.view_address",
        "accounts.view_user",
        "catalog.view_product",
        "inventory.view_stocklevel",
        *_PRICING,
        "orders.view_order",
        "orders.view_orderline",
        "orders.view_orderstatuschange",
        "finance.view_ledgerentry",
        "finance.view_invoice",
        "finance.view_payment",
        "finance.view_balanceconfirmation",
        "finance.view_cardpayment",
        "finance.view_cardrefund",
        *_RETURN_DESK,
        # quotes of their own dealers (scoped like every dealer screen)
        "quotes.view_quote",
        "quotes.view_quoteline",
        "quotes.view_quoteversion",
        "quotes.answer_quote",
    ],
    "Finance Manager": [
        "accounts.view_customer",
        "accounts.change_customer",
        "accounts.view_all_customers",
        "accounts.change_credit_limit",
        "accounts.view_creditlimitchange",
        "orders.view_order",
        "orders.change_order",
        "orders.view_orderline",
        "orders.view_orderstatuschange",
        "orders.approve_credit",
        "orders.cancel_order",
        "inventory.view_stockmovement",
        "finance.view_ledgerentry",
        "finance.add_ledgerentry",
        "finance.adjust_ledger",
        "finance.view_invoice",
        "finance.view_payment",
        "finance.view_balanceconfirmation",
        "finance.add_balanceconfirmation",
        "finance.view_cardpayment",
        "finance.view_cardrefund",
        "finance.refund_cardpayment",
        *_RETURN_DESK,
        "returns.credit_returnrequest",
        "accounts.view_address",
        "accounts.view_user",
    ],
    "Customer Service": [
        "accounts.view_customer",
        "accounts.change_customer",
        "accounts.view_all_customers",
        "accounts.approve_customer",
        "accounts.view_address",
        "accounts.add_address",
        "accounts.change_address",
        "accounts.view_user",
        "accounts.change_user",
        "accounts.view_authevent",
        "notifications.view_notification",
        "catalog.view_product",
        "inventory.view_stocklevel",
        "inventory.view_stockmovement",
        *_ORDER_DESK,
        *_RETURN_DESK,
        "returns.decide_returnrequest",
        "returns.receive_returnrequest",
    ],
    "Content Manager": [
        # banners and collections may be aimed at any dealer (no dealer is assigned to them)
        "accounts.view_all_customers",
        *[f"catalog.{action}_{model}" for model in _CATALOG_MODELS for action in _CRUD],
        "inventory.view_stocklevel",
        "inventory.view_warehouse",
        *_MARKETING,
    ],
}

STAFF_GROUPS = [name for name in GROUP_PERMISSIONS if not name.startswith("Dealer ")]


def _create_permissions(apps) -> None:
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        stub = getattr(app_config, "models_module", None) is None  # historical configs
        if stub:
            app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        if stub:
            app_config.models_module = None


def _permissions(apps, dotted_names):
    Permission = apps.get_model("auth", "Permission")
    found = []
    for dotted in dotted_names:
        app_label, codename = dotted.split(".")
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if permission is not None:  # an app not migrated yet adds it on its own sync
            found.append(permission)
    return found


def sync_role_groups(apps, schema_editor=None) -> None:
    """Create every role group and give it exactly its permissions (a data migration).

    Works inside migrations (``apps`` is the historical registry) and outside them.
    """
    _create_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        if perms == ALL:
            group.permissions.set(Permission.objects.all())
            continue
        group.permissions.set(_permissions(apps, perms))


def grant_new_permissions(apps, schema_editor=None) -> None:
    """For a later app's data migration: create its permissions and add them to the groups the
    table gives them to, without taking away what staff adjusted by hand."""
    _create_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        if perms == ALL:
            group.permissions.add(*Permission.objects.all())
        else:
            group.permissions.add(*_permissions(apps, perms))


def ensure_role_groups(apps) -> None:
    """Create the role groups that are missing; give Super Admin every permission.
    Existing groups keep the permissions staff gave them."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    existing = set(Group.objects.filter(name__in=GROUP_PERMISSIONS).values_list("name", flat=True))
    for name, perms in GROUP_PERMISSIONS.items():
        if name in existing:
            continue
        group = Group.objects.create(name=name)
        if perms != ALL:
            group.permissions.set(_permissions(apps, perms))
    super_admin = Group.objects.get(name="Super Admin")
    super_admin.permissions.add(*Permission.objects.exclude(group=super_admin))
