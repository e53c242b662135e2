from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReturnsConfig(AppConfig):
    name = "apps.returns"
    label = "returns"
    verbose_name = _("Returns")

    def ready(self):
        # in ready(): events imports the models, which cannot load before the app registry
        from apps.catalog.hooks import serial_tracking_guard_register
        from apps.returns.events import register
        from apps.returns.selectors import serial_tracking_held_by_returns

        register()  # return.* in the outbox's event catalogue
        # the catalog (below returns) asks whether a product's serial tracking may change
        serial_tracking_guard_register(serial_tracking_held_by_returns)
