"""Create an API key for a system (the ERP connector) and print it once.

The key is alone on the last line of stdout, so a script can take it with ``tail -n 1``.
"""

from __future__ import annotations

from django.core.management.base import CommandError

from apps.accounts.models import ApiKey, ApiKeyScope
from apps.accounts.services.api_keys import api_key_create, parse_networks, parse_scopes
from apps.core.commands import OneLineErrorsCommand
from apps.core.exceptions import DomainError
from apps.core.text import check_text


def error_line(exc: DomainError) -> str:
    """A service error as one line: ``field: message; field: message``."""
    parts = []
    for field, messages in (exc.errors or {}).items():
        if isinstance(messages, (list, tuple)):
            text = " ".join(str(m) for m in messages)
        else:
            text = str(messages)
        parts.append(text if field == "non_field_errors" else f"{field}: {text}")
    line = "; ".join(parts) or str(exc.detail)
    return " ".join(line.split())  # never more than one line


def text_option(value: str, option: str, *, max_length: int) -> str:
    """An option's text, trimmed, as the database can hold it (a one-line error otherwise:
    argv bytes that are not UTF-8 arrive as lone surrogates)."""
    text = value.strip()
    if not text:
        raise CommandError(f"{option} is empty")
    if len(text) > max_length:
        raise CommandError(f"{option} is longer than {max_length} characters")
    try:
        check_text(text)
    except ValueError as exc:
        raise CommandError(f"{option}: {exc}") from None
    if not text.isprintable():  # a line break or another control character in a name
        raise CommandError(f"{option}: control characters (such as a line break) are not allowed")
    return text


def comma_list(value: str, option: str) -> list[str]:
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        # an empty value is a script's mistake ($VAR unset), not a request for the widest key
        raise CommandError(f"{option} is empty: leave the option out instead")
    return items


class Command(OneLineErrorsCommand):
    help = (
        "Create an API key for the integration API and print it once, alone on the last line. "
        "Without --scopes the key has every scope; without --allowed-ips any address may use it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="who uses the key, e.g. 'LOGO connector'")
        parser.add_argument(
            "--scopes",
            help="comma-separated scopes (default: all): " + ", ".join(ApiKeyScope.values),
        )
        parser.add_argument(
            "--allowed-ips",
            help="comma-separated addresses or CIDR networks the key may be used from",
        )

    def handle(self, *args, name, scopes, allowed_ips, **options):
        scope_list = comma_list(scopes, "--scopes") if scopes is not None else None
        ip_list = comma_list(allowed_ips, "--allowed-ips") if allowed_ips is not None else None
        name = text_option(name, "--name", max_length=ApiKey._meta.get_field("name").max_length)
        try:
            # checked before anything touches the database
            parse_scopes(scope_list)
            parse_networks(ip_list)
            api_key, raw = api_key_create(name=name, scopes=scope_list, allowed_ips=ip_list)
        except DomainError as exc:
            raise CommandError(error_line(exc)) from exc
        networks = ", ".join(api_key.allowed_ips) or "any address"
        self.stdout.write(
            f"Created API key {api_key.name!r} (prefix {api_key.prefix}); "
            f"scopes: {', '.join(api_key.scopes)}; allowed from: {networks}."
        )
        self.stdout.write("Store the key now: it is not shown again.")
        self.stdout.write(raw)
