from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "apps.catalog"
    label = "catalog"
    verbose_name = "Catalog"

    def ready(self):
        # in ready(): these modules import models, which cannot load before the app registry
        from apps.catalog import events
        from apps.catalog.signals import connect_receivers

        connect_receivers()
        events.register()  # product.updated in core's event catalogue
