from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "apps.backoffice"
    label = "backoffice"
    verbose_name = "Back office"

    def ready(self):
        # in ready(): the selectors import the models, which cannot load before the registry
        from apps.backoffice.jobs import register_queue
        from apps.backoffice.selectors import register

        register()  # the domain's work queues (apps.core.work_queues)
        register_queue()  # failed jobs (the job dashboard)
