from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "apps.catalog"
    label = "catalog"
    verbose_name = _("Catalog")

    def ready(self):
        # in ready(): these modules import models, which cannot load before the app registry
        from apps.catalog import events
        from apps.catalog.signals import connect_receivers

        connect_receivers()
        events.register()  # product.updated in core's event catalogue
