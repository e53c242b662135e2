from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "apps.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"

    def ready(self):
        from apps.campaigns import signals  # noqa: F401 - connects the cache invalidation
