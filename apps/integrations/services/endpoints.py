"""Webhook endpoints: create (the secret is shown once), change, delete, rotate the secret,
send a test event; and the manual retry of a dead delivery."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.events import ALL_EVENTS, EVENT_TYPES, event_emit
from apps.core.exceptions import Conflict, NotFound, ValidationError
from apps.core.transactions import after_commit
from apps.integrations.models import WebhookDelivery, WebhookEndpoint
from apps.integrations.services.delivery import deliveries_due_for_endpoint
from apps.integrations.ssrf import UnsafeTarget, check_url
from apps.integrations.tasks import deliveries_queue

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not a secret
URL_MAX = WebhookEndpoint._meta.get_field("url").max_length
DESCRIPTION_MAX = WebhookEndpoint._meta.get_field("description").max_length


def webhook_secret_new() -> str:
    """``whsec_`` and 24 random bytes in base64 (the Standard Webhooks form)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def webhook_url_clean(url: str) -> str:
    """The URL, or ``ValidationError`` on ``url`` (bad, not https in production, private,
    loopback, link-local or reserved address)."""
    url = (url or "").strip()
    if not url:
        raise ValidationError({"url": [_("This field may not be blank.")]})
    if len(url) > URL_MAX:
        raise ValidationError({"url": [_("At most %(max)d characters.") % {"max": URL_MAX}]})
    try:
        check_url(url)
    except UnsafeTarget as exc:
        raise ValidationError({"url": [str(exc)]}, code="unsafe_url") from exc
    return url


def event_types_clean(event_types: Iterable[str], *, api_key=None) -> list[str]:
    """Known, subscribable event types (or ``"*"``: all), each once, in the given order; for a
    key's endpoint, only types whose scope the key holds (``"*"``: all the key may see)."""
    if isinstance(event_types, str) or not isinstance(event_types, Iterable):
        raise ValidationError({"event_types": [_("Must be a list of event types.")]})
    out: list[str] = []
    for name in event_types:
        event = EVENT_TYPES.get(name)
        if name != ALL_EVENTS and (event is None or not event.subscribable):
            raise ValidationError(
                {"event_types": [_("Unknown event type: %(type)s.") % {"type": str(name)[:64]}]}
            )
        if event is not None and event.scope and api_key and not api_key.has_scope(event.scope):
            raise ValidationError(
                {
                    "event_types": [
                        _("%(type)s needs an API key with the %(scope)s scope.")
                        % {"type": name, "scope": event.scope}
                    ]
                },
                code="insufficient_scope",
            )
        if name not in out:
            out.append(name)
    if not out:
        raise ValidationError({"event_types": [_("Subscribe to at least one event type.")]})
    return out


def webhook_endpoint_key_room(*, api_key, endpoint=None, lock: bool = False) -> None:
    """A key keeps at most ``WEBHOOK_ENDPOINTS_PER_KEY`` endpoints: ``Conflict``
    (``too_many_endpoints``) when ``api_key`` has them all (``endpoint``, already one of its
    own, not counted). ``lock``: in a transaction, one key's changes one at a time, so two
    parallel ones cannot both pass the count."""
    if lock:
        type(api_key).objects.select_for_update().filter(pk=api_key.pk).first()
    limit = settings.WEBHOOK_ENDPOINTS_PER_KEY
    others = WebhookEndpoint.objects.filter(api_key=api_key)
    if endpoint is not None and endpoint.pk:
        others = others.exclude(pk=endpoint.pk)
    if others.count() >= limit:
        raise Conflict(
            _("This API key has %(n)d webhook endpoints, the most it may keep: delete one first.")
            % {"n": limit},
            code="too_many_endpoints",
        )


@transaction.atomic
def webhook_endpoint_create(
    *,
    url: str,
    event_types: Iterable[str],
    description: str = "",
    is_active: bool = True,
    api_key=None,
    by=None,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (returned once; stored for signing). A key keeps at most
    ``WEBHOOK_ENDPOINTS_PER_KEY`` endpoints (409 ``too_many_endpoints``)."""
    # the body first: a bad one is a 400 naming its field, whether or not the key has room
    url = webhook_url_clean(url)
    event_types = event_types_clean(event_types, api_key=api_key)
    if api_key is not None:
        webhook_endpoint_key_room(api_key=api_key, lock=True)
    endpoint = WebhookEndpoint(
        url=url,
        event_types=event_types,
        description=(description or "").strip()[:DESCRIPTION_MAX],
        is_active=is_active,
        api_key=api_key,
        secret=webhook_secret_new(),
        created_by=by if getattr(by, "pk", None) else None,
    )
    endpoint.save()
    return endpoint, endpoint.secret


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, data: dict[str, Any]) -> WebhookEndpoint:
    """Change ``url``, ``event_types``, ``description``, ``is_active`` (and, from the admin,
    ``api_key``). Activating an endpoint clears why it was disabled; its pending deliveries
    then go out."""
    endpoint = _locked(endpoint)
    if "url" in data:
        endpoint.url = webhook_url_clean(data["url"])
    if "api_key" in data:
        if data["api_key"] is not None and data["api_key"].pk != endpoint.api_key_id:
            webhook_endpoint_key_room(api_key=data["api_key"], endpoint=endpoint, lock=True)
        endpoint.api_key = data["api_key"]
        if "event_types" not in data:  # the types it has must suit the new key too
            endpoint.event_types = event_types_clean(endpoint.event_types, api_key=endpoint.api_key)
    if "event_types" in data:
        endpoint.event_types = event_types_clean(data["event_types"], api_key=endpoint.api_key)
    if "description" in data:
        endpoint.description = (data["description"] or "").strip()[:DESCRIPTION_MAX]
    if "is_active" in data:
        endpoint.is_active = bool(data["is_active"])
        if endpoint.is_active:
            endpoint.disabled_reason = ""
    endpoint.save()
    if endpoint.is_active:
        after_commit(lambda: _kick_endpoint(endpoint.pk), name="kick webhook endpoint")
    return endpoint


def _locked(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """The endpoint read again under its lock; deleted meanwhile: 404 (it was a 500)."""
    found = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint.pk).first()
    if found is None:
        raise NotFound()
    return found


def _kick_endpoint(endpoint_id: int) -> None:
    deliveries_queue(deliveries_due_for_endpoint(endpoint_id=endpoint_id))


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Soft delete: nothing more is sent to it; its pending deliveries become dead (kept, with
    their attempts, for the record)."""
    endpoint = WebhookEndpoint.all_objects.select_for_update().get(pk=endpoint.pk)
    now = timezone.now()
    endpoint.is_active = False
    endpoint.is_deleted = True
    endpoint.deleted_at = now
    endpoint.save(update_fields=["is_active", "is_deleted", "deleted_at", "updated_at"])
    WebhookDelivery.objects.filter(endpoint=endpoint, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.DEAD,
        dead_at=now,
        next_attempt_at=None,
        last_error="endpoint deleted",
    )


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """A new secret (returned once); deliveries from now on are signed with it."""
    endpoint = _locked(endpoint)
    endpoint.secret = webhook_secret_new()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint.secret


@transaction.atomic
def webhook_endpoint_send_test(*, endpoint: WebhookEndpoint):
    """A ``webhook.test`` event for this endpoint only, through the normal delivery path. Asked
    under the endpoint's lock: a test raced with a delete was left pending on the deleted
    endpoint for ever."""
    endpoint = _locked(endpoint)
    if not endpoint.is_active:
        raise Conflict(_("This endpoint is disabled: activate it first."), code="endpoint_disabled")
    # a subject of its own: deliveries of one subject keep their order, so one test told to
    # come back in an hour (``Retry-After``) held every later test of the endpoint with it
    return event_emit(
        "webhook.test",
        {"endpoint": endpoint.pk, "message": "This is a test event."},
        subject=f"webhook.test:{endpoint.pk}:{uuid.uuid4().hex[:12]}",
        endpoint=endpoint,
    )


@transaction.atomic
def webhook_delivery_retry(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a dead delivery again, with the same ``webhook-id`` and a fresh retry schedule;
    ``Conflict`` (409) for a delivery that is not dead."""
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status != WebhookDelivery.Status.DEAD:
        raise Conflict(
            _("Only a dead delivery can be retried; this one is %(status)s.")
            % {"status": delivery.get_status_display()},
            code="not_dead",
        )
    endpoint = WebhookEndpoint.all_objects.get(pk=delivery.endpoint_id)
    if endpoint.is_deleted:
        raise Conflict(_("The endpoint of this delivery was deleted."), code="endpoint_deleted")
    if not endpoint.is_active:
        raise Conflict(
            _("The endpoint of this delivery is disabled: activate it first."),
            code="endpoint_disabled",
        )
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.cycle_attempts = 0
    delivery.manual_retries += 1
    delivery.next_attempt_at = timezone.now()
    delivery.dead_at = None
    delivery.save(
        update_fields=["status", "cycle_attempts", "manual_retries", "next_attempt_at", "dead_at"]
    )

    def send():
        deliveries_queue([delivery.pk])

    after_commit(send, name="send webhook delivery again")
    return delivery
