"""Where a webhook may go: no private, loopback, link-local (cloud metadata), reserved or
multicast address, ever (loopback only with ``WEBHOOK_ALLOW_LOOPBACK``), https only when
``WEBHOOK_REQUIRE_HTTPS`` (on in production).

The host name is resolved and *every* address it resolves to is checked, when the endpoint is
saved and again before each delivery; the delivery then connects to the address it checked
(so a DNS answer that changes in between, "DNS rebinding", cannot steer it inside).

Before a delivery the resolution may come from a per-process cache (``check_url(url,
resolve_ttl=...)``, ``WEBHOOK_DNS_CACHE_SECONDS``): a DNS change reaches the deliveries at
most that many seconds later. The addresses are checked again on every call (the rules and
the settings apply at once); only the DNS answer is reused, and the request still goes to an
address that was checked. Saving an endpoint always resolves afresh.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import time
from urllib.parse import urlsplit

import idna
from django.conf import settings
from django.utils.translation import gettext as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeTarget(Exception):
    """The URL may not be called; the message says why (translated)."""


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv4-mapped (``::ffff:10.0.0.1``), NAT64 or 6to4
    (``2002:7f00:1::``: a relay routes it to 127.0.0.1) IPv6 address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address.sixtofour is not None:
            return address.sixtofour
    return address


def address_refusal(address: IPAddress) -> str | None:
    """Why a webhook may not go to ``address``, or ``None`` when it may."""
    address = _embedded_ipv4(address)
    if address.is_loopback:
        if settings.WEBHOOK_ALLOW_LOOPBACK:
            return None
        return _("%(ip)s is a loopback address.") % {"ip": address}
    if address.is_link_local:
        return _("%(ip)s is a link-local address (such as cloud metadata).") % {"ip": address}
    if address.is_multicast:
        return _("%(ip)s is a multicast address.") % {"ip": address}
    if address.is_unspecified or address.is_reserved or getattr(address, "is_site_local", False):
        # (fec0::/10, IPv6's deprecated site-local: private where it is still routed)
        return _("%(ip)s is a reserved address.") % {"ip": address}
    if address.is_private or not address.is_global:
        return _("%(ip)s is a private address.") % {"ip": address}
    return None


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise UnsafeTarget(
            _("The host %(host)s cannot be resolved.") % {"host": host[:100]}
        ) from exc
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        text = str(sockaddr[0]).split("%", 1)[0]  # an IPv6 zone
        address = ipaddress.ip_address(text)
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeTarget(_("The host %(host)s cannot be resolved.") % {"host": host[:100]})
    return addresses


# (host, port) -> (resolved at, addresses), per process; cleared when it grows past the cap
_RESOLVED: dict[tuple[str, int], tuple[float, list[IPAddress]]] = {}
_RESOLVED_MAX = 1024


def _resolve_cached(host: str, port: int, ttl: float) -> list[IPAddress]:
    now = time.monotonic()
    key = (host.lower(), port)
    hit = _RESOLVED.get(key)
    if hit is not None and now - hit[0] < ttl:
        return hit[1]
    addresses = _resolve(host, port)  # a failure is not cached
    if len(_RESOLVED) >= _RESOLVED_MAX:
        _RESOLVED.clear()
    _RESOLVED[key] = (now, addresses)
    return addresses


def resolve_cache_clear() -> None:
    _RESOLVED.clear()


os.register_at_fork(after_in_child=resolve_cache_clear)


def check_url(url: str, *, resolve_ttl: float = 0) -> tuple[str, int, list[IPAddress]]:
    """``(host, port, addresses)`` of a URL a webhook may be sent to; ``UnsafeTarget``
    otherwise. Every address the host resolves to must be allowed. ``resolve_ttl`` > 0 reuses
    this process's DNS answer for the host up to that many seconds (the check itself runs
    every time).

    A URL with a space or a control character anywhere (CR/LF, tab, NUL, DEL, C1) is refused
    first: ``urlsplit`` would silently drop some of them, and the stored URL would then differ
    from the one checked (and could carry a header into a request or a log line)."""
    if any(char.isspace() or not char.isprintable() for char in url):
        raise UnsafeTarget(_("The URL may not contain spaces or control characters."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(_("Enter a valid URL.")) from exc
    if port == 0:  # nothing listens there: every delivery would fail until dead-lettered
        raise UnsafeTarget(_("Enter a valid URL."))
    scheme = parts.scheme.lower()
    if scheme != "https" and (settings.WEBHOOK_REQUIRE_HTTPS or scheme != "http"):
        if settings.WEBHOOK_REQUIRE_HTTPS:
            raise UnsafeTarget(_("The URL must start with https://."))
        raise UnsafeTarget(_("The URL must start with https:// or http://."))
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget(
            _("Put no user name or password in the URL: the signature authenticates us.")
        )
    host = parts.hostname
    if host and not host.isascii():
        # an internationalised name (``işyeri.com.tr``) in its ASCII form, the one DNS and the
        # Host header carry: sent as typed, the header could not be encoded and the send failed.
        # IDNA 2008 with UTS 46, as browsers: Python's own codec (IDNA 2003) wrote ``faß.de``
        # as ``fass.de``, another owner's domain
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise UnsafeTarget(_("Enter a valid URL.")) from exc
    if not host:
        raise UnsafeTarget(_("Enter a valid URL."))
    port = port or (443 if scheme == "https" else 80)
    if resolve_ttl > 0:
        addresses = _resolve_cached(host, port, resolve_ttl)
    else:
        addresses = _resolve(host, port)
    for address in addresses:
        refusal = address_refusal(address)
        if refusal:
            raise UnsafeTarget(refusal)
    return host, port, addresses
