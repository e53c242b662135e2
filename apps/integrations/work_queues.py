"""The integrations' work queue of the back office (``apps.core.work_queues``): dead webhook
deliveries, for staff to look at and send again."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.work_queues import WorkQueue, register_work_queue
from apps.integrations.models import WebhookDelivery


def register() -> None:
    register_work_queue(
        WorkQueue(
            "webhooks",
            _("Dead webhook deliveries"),
            "integrations.view_webhookdelivery",
            WebhookDelivery,
            "event__customer",
            # a deleted endpoint's are gone with it (nothing can be done with them)
            Q(status=WebhookDelivery.Status.DEAD, endpoint__is_deleted=False),
            "admin:integrations_webhookdelivery_changelist|status__exact=dead",
            order=35,
        )
    )
