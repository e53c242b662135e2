from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "apps.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self):
        # in ready(): events imports the models, which cannot load before the app registry
        from apps.orders.events import register

        register()  # order.* in the outbox's event catalogue
