"""The back office of the integration API: what the ERP sent, batch by batch (read only); the
webhook endpoints (a "send test event" action, the secret shown once), the outbox of events and
every delivery with its attempts (a "retry" action on dead letters)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.accounts.admin.common import AuditHistoryMixin, _domain_message
from apps.accounts.admin.scoping import WHOLE_BOOK, DealerScopedAdminMixin
from apps.core.admin_mixins import ReadOnlyAdminMixin
from apps.core.events import ALL_EVENTS, subscribable_event_types
from apps.core.exceptions import DomainError
from apps.core.models import OutboxEvent
from apps.core.text import capfirst
from apps.integrations.models import (
    BatchLog,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from apps.integrations.services.endpoints import (
    event_types_clean,
    webhook_delivery_retry,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_key_room,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_send_test,
    webhook_endpoint_update,
    webhook_url_clean,
)


def _pretty_json(value) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))


@admin.register(BatchLog)
class BatchLogAdmin(ReadOnlyAdminMixin, DealerScopedAdminMixin, admin.ModelAdmin):
    dealer_scope = WHOLE_BOOK  # a batch carries records (and errors) of any dealer
    list_display = (
        "started_at",
        "resource",
        "api_key",
        "received",
        "created",
        "updated",
        "unchanged",
        "failed",
        "duration_ms",
    )
    list_filter = ("resource",)
    search_fields = ("idempotency_key", "api_key__name", "api_key__prefix")
    date_hierarchy = "started_at"
    list_select_related = ("api_key",)
    show_full_result_count = False
    fields = (
        "resource",
        "api_key",
        "idempotency_key",
        "ip_address",
        "started_at",
        "duration_ms",
        ("received", "created", "updated", "unchanged", "failed"),
        "error_list",
    )
    readonly_fields = fields[:6] + fields[6] + ("error_list",)

    @admin.display(description=_("errors (the first 100)"))
    def error_list(self, obj: BatchLog) -> str:
        if not obj.errors:
            return "-"
        return format_html("<pre>{}</pre>", json.dumps(obj.errors, indent=2, ensure_ascii=False))


# --- webhooks -----------------------------------------------------------------------------------


def _event_type_choices():
    return [(ALL_EVENTS, gettext("all events (*)"))] + [
        (name, name) for name in subscribable_event_types()
    ]


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=2000, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=capfirst(_("event types")),
        choices=_event_type_choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "description", "event_types", "is_active", "api_key")

    def clean_url(self) -> str:
        try:
            return webhook_url_clean(self.cleaned_data.get("url", ""))
        except DomainError as exc:
            raise forms.ValidationError(_domain_message(exc)) from exc

    def clean(self):
        """What the services would refuse, on the form's fields: event types outside the
        chosen key's scopes, a key that has all the endpoints it may keep."""
        cleaned = super().clean()
        api_key = cleaned.get("api_key")
        if api_key is None:
            return cleaned
        if "event_types" in cleaned:
            try:
                event_types_clean(cleaned["event_types"], api_key=api_key)
            except DomainError as exc:
                self.add_error("event_types", _domain_message(exc))
        if api_key.pk != self.instance.api_key_id:
            try:
                webhook_endpoint_key_room(api_key=api_key, endpoint=self.instance)
            except DomainError as exc:
                self.add_error("api_key", _domain_message(exc))
        return cleaned


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(AuditHistoryMixin, admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = (
        "id",
        "url",
        "description",
        "event_type_list",
        "is_active",
        "api_key",
        "disabled_reason",
        "created_at",
    )
    list_filter = ("is_active",)
    search_fields = ("url", "description")
    list_select_related = ("api_key",)
    actions = ("send_test_event", "rotate_secret")
    readonly_fields = ("disabled_reason", "created_at", "created_by", "updated_at")

    @admin.display(description=_("event types"))
    def event_type_list(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.event_types)

    def save_model(self, request, obj: WebhookEndpoint, form, change):
        data = {name: form.cleaned_data[name] for name in WebhookEndpointForm.Meta.fields}
        if change:
            webhook_endpoint_update(endpoint=obj, data=data)
            obj.refresh_from_db()
            return
        created, secret = webhook_endpoint_create(by=request.user, **data)
        for field in WebhookEndpoint._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state = created._state
        self._show_secret(request, created, secret)

    def _show_secret(self, request, endpoint: WebhookEndpoint, secret: str) -> None:
        self.message_user(
            request,
            format_html(
                "{} <code>{}</code>",
                gettext("Signing secret of %(endpoint)s; copy it now, it is not shown again:")
                % {"endpoint": endpoint},
                secret,
            ),
            messages.SUCCESS,
        )

    def delete_model(self, request, obj):
        webhook_endpoint_delete(endpoint=obj)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            webhook_endpoint_delete(endpoint=endpoint)

    @admin.action(description=_("Send a test event"), permissions=["change"])
    def send_test_event(self, request, queryset):
        sent = 0
        for endpoint in queryset:
            try:
                webhook_endpoint_send_test(endpoint=endpoint)
            except DomainError as exc:
                self.message_user(request, f"{endpoint}: {_domain_message(exc)}", messages.ERROR)
            else:
                sent += 1
        if sent:
            self.message_user(
                request,
                ngettext(
                    "A test event is on its way to %(count)d endpoint (see the deliveries).",
                    "A test event is on its way to %(count)d endpoints (see the deliveries).",
                    sent,
                )
                % {"count": sent},
                messages.SUCCESS,
            )

    @admin.action(description=_("Rotate the signing secret"), permissions=["change"])
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            self._show_secret(request, endpoint, webhook_endpoint_rotate_secret(endpoint=endpoint))


@admin.register(OutboxEvent)
class OutboxEventAdmin(DealerScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    dealer_scope = "customer"
    list_display = ("id", "type", "subject", "customer", "created_at", "dispatched_at")
    list_filter = ("type", ("dispatched_at", admin.EmptyFieldListFilter))
    search_fields = ("subject",)
    date_hierarchy = "created_at"
    list_select_related = ("customer",)
    show_full_result_count = False
    fields = (
        "type",
        "subject",
        "customer",
        "endpoint",
        "created_at",
        "dispatched_at",
        "coalesced_into",
        "data_json",
    )
    readonly_fields = fields

    @admin.display(description=_("data"))
    def data_json(self, obj: OutboxEvent) -> str:
        return _pretty_json(obj.data)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ("number", "at", "status_code", "duration_ms", "error", "response_excerpt")
    readonly_fields = fields
    ordering = ("number",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(DealerScopedAdminMixin, admin.ModelAdmin):
    dealer_scope = "event__customer"
    list_display = (
        "id",
        "event_type",
        "endpoint",
        "status",
        "attempt_count",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "event_type", "endpoint")
    search_fields = ("webhook_id", "subject")
    date_hierarchy = "created_at"
    list_select_related = ("endpoint",)
    show_full_result_count = False
    inlines = (WebhookAttemptInline,)
    actions = ("retry_selected",)
    fields = (
        "webhook_id",
        "event_link",
        "event_type",
        "subject",
        "endpoint",
        "status",
        "attempt_count",
        "manual_retries",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "created_at",
        "delivered_at",
        "dead_at",
        "payload",
    )
    readonly_fields = fields

    @admin.display(description=_("event"))
    def event_link(self, obj: WebhookDelivery) -> str:
        return format_html(
            '<a href="../../../outboxevent/{}/change/">#{}</a>', obj.event_id, obj.event_id
        )

    @admin.display(description=_("data"))
    def payload(self, obj: WebhookDelivery) -> str:
        return _pretty_json(obj.event.data)

    def get_queryset(self, request):
        # a deleted endpoint's deliveries are gone with it, as in the API (its pending ones
        # were marked dead; nothing can be sent again)
        return super().get_queryset(request).filter(endpoint__is_deleted=False)

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Retry selected dead deliveries"), permissions=["change"])
    def retry_selected(self, request, queryset):
        retried = 0
        for delivery in queryset.filter(status=WebhookDelivery.Status.DEAD):
            try:
                webhook_delivery_retry(delivery=delivery)
            except DomainError as exc:
                self.message_user(request, f"{delivery}: {_domain_message(exc)}", messages.ERROR)
            else:
                retried += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d dead delivery sent again.",
                "%(count)d dead deliveries sent again.",
                retried,
            )
            % {"count": retried},
            messages.SUCCESS if retried else messages.WARNING,
        )
