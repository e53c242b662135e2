from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "apps.returns"
    label = "returns"
    verbose_name = "Returns"

    def ready(self):
        # in ready(): events imports the models, which cannot load before the app registry
        from apps.returns.events import register

        register()  # return.* in the outbox's event catalogue
