"""``retry_webhooks [--endpoint ID] [--since ISO-8601]``: send dead deliveries again (with the
same webhook-id) and print how many."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from apps.core.commands import OneLineErrorsCommand
from apps.core.exceptions import DomainError
from apps.integrations.models import WebhookDelivery, WebhookEndpoint
from apps.integrations.services.endpoints import webhook_delivery_retry


def _since(raw: str):
    """The time of ``--since``: an ISO 8601 date or time that exists (``2026-02-30`` does not),
    UTC without an offset; anything else is a one-line ``CommandError``, an empty value too (a
    script's unset variable must not mean "every dead delivery")."""
    refused = CommandError(f"--since: not an ISO 8601 date or time: {raw!r}")
    try:
        moment = parse_datetime(raw.strip())
        if moment is None:
            day = parse_date(raw.strip())
            if day is None:
                raise refused
            moment = datetime(day.year, day.month, day.day)
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)  # a time that has no UTC (year 10000) is refused here
    except (ValueError, OverflowError):  # well-formed but impossible: month 13, hour 25
        raise refused from None


class Command(OneLineErrorsCommand):
    help = "Send dead webhook deliveries again (same webhook-id); prints how many."

    def add_arguments(self, parser):
        parser.add_argument("--endpoint", type=int, help="only deliveries to this endpoint id")
        parser.add_argument(
            "--since",
            help="only deliveries dead-lettered at or after this time (ISO 8601, UTC if no "
            "offset), e.g. 2026-11-25 or 2026-11-25T08:00:00Z",
        )

    def handle(self, *args, endpoint=None, since=None, **options):
        # a deleted endpoint's dead deliveries are gone with it (the API lists none of them)
        deliveries = WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.DEAD, endpoint__is_deleted=False
        )
        if endpoint is not None:
            if not WebhookEndpoint.objects.filter(pk=endpoint).exists():
                raise CommandError(f"--endpoint: no webhook endpoint {endpoint}")
            deliveries = deliveries.filter(endpoint_id=endpoint)
        if since is not None:
            deliveries = deliveries.filter(dead_at__gte=_since(since))
        retried, refused = 0, 0
        for delivery in deliveries.order_by("event_id", "id").iterator(chunk_size=500):
            try:
                webhook_delivery_retry(delivery=delivery)
            except DomainError as exc:
                refused += 1
                self.stderr.write(f"delivery {delivery.pk}: {exc}")
            else:
                retried += 1
        # how many were sent again: the first line, its number first (a script reads it)
        noun = "delivery" if retried == 1 else "deliveries"
        self.stdout.write(f"{retried} dead {noun} sent again.")
        if refused:
            noun = "delivery" if refused == 1 else "deliveries"
            self.stdout.write(f"{refused} dead {noun} could not be retried.")
