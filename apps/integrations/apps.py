from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "apps.integrations"
    label = "integrations"
    verbose_name = _("Integrations")

    def ready(self):
        # in ready(): events imports the tasks and models, which cannot load before the app
        # registry
        from apps.integrations import events, payments, work_queues

        events.register()  # webhook.test, and the webhook fan-out of core's outbox
        payments.register()  # the card payment gateways finance asks for by name
        work_queues.register()  # dead webhook deliveries: a back-office queue
