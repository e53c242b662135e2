from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_role_groups(sender, apps=None, **kwargs):
    """After every migrate (and test-database flush): role groups that do not exist are
    created with their permissions, and Super Admin receives permissions added since. Groups
    that exist are left as staff adjusted them in the admin."""
    from django.apps import apps as global_apps

    # here, not at the top: apps.py loads before the app registry, and roles imports the models
    from apps.accounts.roles import ensure_role_groups

    # post_migrate is sent once per app, and each app's permissions are created by its own
    # signal: wait for the last one, so that a group created now gets every app's permissions
    last = [c for c in global_apps.get_app_configs() if c.models_module is not None][-1]
    if sender is not None and sender.label != last.label:
        return

    ensure_role_groups(apps or global_apps)


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        # in ready(): these modules import models, which cannot load before the app registry
        from apps.accounts import events, signals  # noqa: F401 - signals connects the receivers

        events.register()  # customer.* in core's event catalogue

        post_migrate.connect(_ensure_role_groups, dispatch_uid="accounts-role-groups")
