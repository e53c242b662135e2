"""Addresses of dealer-portal pages in what leaves the site (e-mails, the card payment's
result page): ``DEALER_PORTAL_URL`` (the site's public address) and the portal's path."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings


def portal_link(*parts: str) -> str:
    """The absolute address of the portal page ``parts`` (each quoted as one path segment),
    ending in a slash: ``portal_link("orders", "SO-2026-000001")``."""
    path = "".join(f"{quote(str(part), safe='')}/" for part in parts if part)
    return f"{settings.DEALER_PORTAL_URL.rstrip('/')}/portal/{path}"
