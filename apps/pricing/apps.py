from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

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
    verbose_name = _("Pricing")

    def ready(self):
        # in ready(): these modules import models, which cannot load before the app registry
        from apps.campaigns.previews import price_explainer_register
        from apps.catalog.hooks import price_provider_register, products_written_register
        from apps.pricing import engine, events, signals  # noqa: F401  (signals: cache invalidation)
        from apps.pricing.index import price_filter, price_index_refresh, price_ordered_ids
        from apps.pricing.selectors import price_explain

        events.register()  # price.changed in core's event catalogue
        price_explainer_register(price_explain)  # the campaign admin's "Preview a price"
        # the catalog (below pricing) shows prices and sorts by them through this hook
        price_provider_register(
            price_resolve_many=engine.price_resolve_many,
            price_filter=price_filter,
            price_ordered_ids=price_ordered_ids,
        )
        # the ERP product feed rewrites products with bulk SQL: their index rows follow
        products_written_register(price_index_refresh)

        post_migrate.connect(_ensure_price_lists, sender=self, dispatch_uid="pricing-lists")
