"""API keys: created through the service, the secret shown once."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.accounts.admin.common import AuditHistoryMixin, _domain_message
from apps.accounts.models import (
    ApiKey,
    ApiKeyScope,
)
from apps.accounts.services.api_keys import api_key_create, api_key_revoke, parse_networks
from apps.core.exceptions import DomainError
from apps.core.text import capfirst

# --- API keys -------------------------------------------------------------------------------


class ApiKeyCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=capfirst(_("scopes")),
        choices=ApiKeyScope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What the key may do; grant only what the system needs."),
    )
    allowed_ips = forms.CharField(
        label=capfirst(_("allowed IP networks")),
        required=False,
        help_text=_("Comma-separated addresses or CIDR networks; empty = any address."),
    )

    class Meta:
        model = ApiKey
        fields = ("name", "expires_at")

    def clean_expires_at(self):
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError(_("Must be in the future."))
        return expires_at

    def clean_allowed_ips(self) -> list[str]:
        raw = self.cleaned_data.get("allowed_ips") or ""
        values = [part.strip() for part in raw.split(",") if part.strip()]
        try:
            return parse_networks(values)
        except DomainError as exc:
            raise forms.ValidationError(_domain_message(exc)) from exc


class ApiKeyChangeForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ("name",)


@admin.register(ApiKey)
class ApiKeyAdmin(AuditHistoryMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "prefix",
        "scope_list",
        "ip_list",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("revoked_at", "created_at")
    search_fields = ("name", "prefix")
    list_select_related = ("created_by",)
    actions = ("revoke_selected",)
    readonly_fields = (
        "prefix",
        "scope_list",
        "ip_list",
        "expires_at",
        "created_at",
        "created_by",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
    )

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    @admin.display(description=_("allowed IP networks"))
    def ip_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.allowed_ips) or gettext("any")

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = ApiKeyChangeForm if obj is not None else ApiKeyCreateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "scopes", "allowed_ips", "expires_at")
        return ("name", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the batch log keeps pointing at the key

    def save_model(self, request, obj: ApiKey, form, change):
        if change:
            obj.save(update_fields=["name", "updated_at"])
            return
        data = form.cleaned_data
        created, raw = api_key_create(
            name=data["name"],
            scopes=data["scopes"],
            allowed_ips=data["allowed_ips"],
            expires_at=data.get("expires_at"),
            by=request.user,
        )
        for field in ApiKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state = created._state
        # the one and only time the secret is shown: it is not stored anywhere
        self.message_user(
            request,
            format_html(
                "{} <code>{}</code>",
                gettext("Copy the key now, it will not be shown again:"),
                raw,
            ),
            messages.SUCCESS,
        )

    @admin.action(description=_("Revoke selected keys"), permissions=["change"])
    def revoke_selected(self, request, queryset):
        count = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(api_key=api_key, by=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d key revoked.", "%(count)d keys revoked.", count) % {"count": count},
            messages.SUCCESS,
        )
