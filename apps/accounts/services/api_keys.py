"""API keys for systems. The secret is shown once; only its SHA-256 is stored."""

from __future__ import annotations

import ipaddress
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.authentication import API_KEY_PREFIX, hash_api_key
from apps.accounts.models import ApiKey, ApiKeyScope, User
from apps.core.exceptions import ValidationError


def parse_scopes(scopes: list[str] | None) -> list[str]:
    """No scopes given = every scope (API.md)."""
    if not scopes:
        return list(ApiKeyScope.values)
    unknown = sorted(set(scopes) - set(ApiKeyScope.values))
    if unknown:
        raise ValidationError(
            {"scopes": [_("Unknown scope: %(scope)s.") % {"scope": s} for s in unknown]}
        )
    return sorted(set(scopes))


def parse_networks(networks: list[str] | None) -> list[str]:
    parsed = []
    for value in networks or []:
        try:
            parsed.append(str(ipaddress.ip_network(value.strip(), strict=False)))
        except ValueError as exc:
            raise ValidationError(
                {"allowed_ips": [_("Not an IP address or CIDR network: %(v)s") % {"v": value}]}
            ) from exc
    return parsed


@transaction.atomic
def api_key_create(
    *,
    name: str,
    scopes: list[str] | None = None,
    allowed_ips: list[str] | None = None,
    by: User | None = None,
    expires_at=None,
) -> tuple[ApiKey, str]:
    """Returns the key row and the raw key, which is never stored and cannot be shown again."""
    if not name or not name.strip():
        raise ValidationError({"name": [_("A key needs a name.")]})
    if expires_at is not None and expires_at <= timezone.now():
        # a key born expired would be shown once and never work
        raise ValidationError({"expires_at": [_("Must be in the future.")]})
    prefix = secrets.token_hex(4)
    while ApiKey.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(4)
    raw = f"{API_KEY_PREFIX}{prefix}.{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        name=name.strip(),
        prefix=prefix,
        hashed_key=hash_api_key(raw),
        scopes=parse_scopes(scopes),
        allowed_ips=parse_networks(allowed_ips),
        expires_at=expires_at,
        created_by=by,
    )
    return api_key, raw


def api_key_revoke(*, api_key: ApiKey, by: User | None = None) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
    return api_key
