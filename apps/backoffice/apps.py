from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    name = "apps.backoffice"
    label = "backoffice"
    verbose_name = _("Back office")

    def ready(self):
        # in ready(): the selectors import the models, which cannot load before the registry
        from apps.backoffice.jobs import register_queue
        from apps.backoffice.selectors import register

        register()  # the domain's work queues (apps.core.work_queues)
        register_queue()  # failed jobs (the job dashboard)

        from django.contrib import admin

        # no app list beside every page: the tables get the width (the start page lists the
        # apps, the breadcrumbs lead back to it)
        admin.site.enable_nav_sidebar = False
