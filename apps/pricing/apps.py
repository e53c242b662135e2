from django.apps import AppConfig
from django.db.models.signals import post_migrate

PRICE_LISTS = [("LIST", "List price"), ("A", "Tier A"), ("B", "Tier B"), ("C", "Tier C")]


def _ensure_price_lists(sender, apps=None, **kwargs):
    """LIST, A, B and C always exist (a data migration makes them; a test database flush
    removes them, and post_migrate runs after it)."""
    from django.apps import apps as global_apps

    PriceList = (apps or global_apps).get_model("pricing", "PriceList")
    for code, name in PRICE_LISTS:
        PriceList.objects.get_or_create(code=code, defaults={"name": name})


class PricingConfig(AppConfig):
    name = "apps.pricing"
    label = "pricing"
    verbose_name = "Pricing"

    def ready(self):
        from apps.pricing import signals  # noqa: F401  (cache invalidation)

        post_migrate.connect(_ensure_price_lists, sender=self, dispatch_uid="pricing-lists")
