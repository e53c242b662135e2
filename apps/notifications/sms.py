"""SMS providers behind one small interface: ``backend.send(to=..., text=...)`` returns the
provider's message id or raises ``SmsError``.

``SMS_BACKEND`` picks one: ``console`` (the default: printed to stdout, like Django's console
e-mail backend), ``http`` (JSON ``{to, text, sender}`` POSTed to ``SMS_API_URL`` with
``Authorization: Bearer SMS_API_KEY``: a small gateway of our own, or a provider that takes
that shape), ``netgsm`` (NetGSM's REST v2 API, a Turkish provider: Basic auth
``SMS_API_USER:SMS_API_KEY``, header ``SMS_SENDER``), or the dotted path of a class.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from typing import Any

import urllib3
from django.conf import settings
from django.utils.module_loading import import_string

NETGSM_URL = "https://api.netgsm.com.tr/sms/rest/v2/send"
_DIGITS = re.compile(r"[\s\-().]")


class SmsError(Exception):
    """The provider refused or could not be reached (the notification is retried)."""


def normalize_phone(raw: str) -> str:
    """A Turkish mobile number in E.164 (``+905321234567``) from the usual spellings
    (``0532 123 45 67``, ``532-123-4567``, ``+90 532 ...``); other ``+`` numbers are kept."""
    text = _DIGITS.sub("", raw or "")
    if text.startswith("00"):
        text = "+" + text[2:]
    if text.startswith("+"):
        digits = text[1:]
    elif len(text) == 11 and text.startswith("0"):
        digits = "90" + text[1:]
    elif len(text) == 10:
        digits = "90" + text
    else:
        digits = text
    # ASCII digits only: ``isdigit`` says yes to "٠٥٣٢" too, a number no SMS reaches
    if not (digits.isascii() and digits.isdigit()) or not 8 <= len(digits) <= 15:
        raise ValueError(f"not a phone number: {raw!r}")
    return "+" + digits


class BaseSmsBackend:
    def send(self, *, to: str, text: str) -> str:
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """Writes each message to stdout (development, the demo)."""

    _lock = threading.Lock()
    _counter = 0

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, *, to: str, text: str) -> str:
        with self._lock:
            ConsoleSmsBackend._counter += 1
            number = ConsoleSmsBackend._counter
            self.stream.write(f"SMS to {to} from {settings.SMS_SENDER}:\n{text}\n{'-' * 40}\n")
            self.stream.flush()
        return f"console-{number}"


class HttpSmsBackend(BaseSmsBackend):
    """JSON over HTTPS to ``SMS_API_URL``; any 2xx is accepted, its ``id`` kept."""

    def __init__(self, url: str | None = None, api_key: str | None = None):
        self.url = url or settings.SMS_API_URL
        self.api_key = api_key if api_key is not None else settings.SMS_API_KEY
        if not self.url:
            raise SmsError("SMS_API_URL is not set")

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def payload(self, *, to: str, text: str) -> dict[str, Any]:
        return {"to": to, "text": text, "sender": settings.SMS_SENDER}

    def post(self, body: dict[str, Any]) -> tuple[int, Any]:
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(total=settings.SMS_TIMEOUT_SECONDS), retries=False
        )
        try:
            response = http.request(
                "POST", self.url, body=json.dumps(body).encode(), headers=self.headers()
            )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise SmsError(f"SMS provider unreachable: {exc}") from exc
        finally:
            http.clear()
        try:
            answer = json.loads(response.data or b"null")
        except ValueError:
            answer = response.data[:200].decode("utf-8", "replace")
        return response.status, answer

    def send(self, *, to: str, text: str) -> str:
        status, answer = self.post(self.payload(to=to, text=text))
        if not 200 <= status < 300:
            raise SmsError(f"SMS provider answered {status}: {str(answer)[:200]}")
        if isinstance(answer, dict):
            return str(answer.get("id") or answer.get("message_id") or "")
        return ""


class NetgsmSmsBackend(HttpSmsBackend):
    """NetGSM REST v2: ``{"msgheader", "messages": [{"msg", "no"}], "encoding": "TR"}`` with
    Basic auth; success is ``{"code": "00", "jobid": ...}``."""

    def __init__(self, url: str | None = None, user: str | None = None, api_key=None):
        super().__init__(url=url or settings.SMS_API_URL or NETGSM_URL, api_key=api_key)
        self.user = user if user is not None else settings.SMS_API_USER

    def headers(self) -> dict[str, str]:
        headers = urllib3.make_headers(basic_auth=f"{self.user}:{self.api_key}")
        return {**headers, "Content-Type": "application/json", "Accept": "application/json"}

    def payload(self, *, to: str, text: str) -> dict[str, Any]:
        number = to[3:] if to.startswith("+90") else to.lstrip("+")
        return {
            "msgheader": settings.SMS_SENDER,
            "messages": [{"msg": text, "no": number}],
            "encoding": "TR",
        }

    def send(self, *, to: str, text: str) -> str:
        status, answer = self.post(self.payload(to=to, text=text))
        code = str(answer.get("code")) if isinstance(answer, dict) else None
        if not 200 <= status < 300 or code != "00":
            detail = answer.get("description", "") if isinstance(answer, dict) else answer
            raise SmsError(f"NetGSM refused the message: {status} {code} {str(detail)[:200]}")
        return str(answer.get("jobid", ""))


BACKENDS = {
    "console": ConsoleSmsBackend,
    "http": HttpSmsBackend,
    "netgsm": NetgsmSmsBackend,
}


def get_sms_backend() -> BaseSmsBackend:
    name = settings.SMS_BACKEND
    backend_class = BACKENDS.get(name) or import_string(name)
    return backend_class()
