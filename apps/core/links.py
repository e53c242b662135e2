"""Addresses of pages in what leaves the site (e-mails, the card payment's result page):
``DEALER_PORTAL_URL`` (the site's public address) and the page's path, a dealer-portal page's
or a back-office page's."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.urls import reverse


def portal_link(*parts: str) -> str:
    """The absolute address of the portal page ``parts`` (each quoted as one path segment),
    ending in a slash: ``portal_link("orders", "SO-2026-000001")``."""
    path = "".join(f"{quote(str(part), safe='')}/" for part in parts if part)
    return f"{settings.DEALER_PORTAL_URL.rstrip('/')}/portal/{path}"


def back_office_link(url_name: str, *args) -> str:
    """The absolute address of a back-office (admin) page for staff e-mails, on the site's
    public address: ``back_office_link("admin:orders_order_change", order.pk)``."""
    return f"{settings.DEALER_PORTAL_URL.rstrip('/')}{reverse(url_name, args=args)}"
