from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "apps.orders"
    label = "orders"
    verbose_name = _("Orders")

    def ready(self):
        # in ready(): events imports the models, which cannot load before the app registry
        from apps.orders.events import register

        register()  # order.* in the outbox's event catalogue
