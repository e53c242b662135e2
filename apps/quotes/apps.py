from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuotesConfig(AppConfig):
    name = "apps.quotes"
    label = "quotes"
    verbose_name = _("Quotes")

    def ready(self):
        # in ready(): events imports the models, which cannot load before the app registry
        from apps.quotes.events import register

        register()  # quote.* in the outbox's event catalogue
