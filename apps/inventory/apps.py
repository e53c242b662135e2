from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "apps.inventory"
    label = "inventory"
    verbose_name = _("Inventory")

    def ready(self):
        # in ready(): these modules import the models, which cannot load before the app registry
        from apps.catalog.hooks import serial_tracking_guard_register, stock_provider_register
        from apps.inventory import events, selectors

        events.register()  # stock.changed in core's event catalogue
        # the catalog (below inventory) shows stock through this hook
        stock_provider_register(
            available_subquery=selectors.available_subquery,
            in_stock_condition=selectors.in_stock_condition,
            stock_display=selectors.stock_display,
        )
        serial_tracking_guard_register(selectors.serial_tracking_held_by_stock)
