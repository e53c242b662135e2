"""SMS behind a provider interface: the console provider (default), a generic JSON provider
and NetGSM's REST v2 API, each tested against a real HTTP server on loopback; the log."""

from __future__ import annotations

import base64
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.notifications.models import Notification
from apps.notifications.services import sms_notify
from apps.notifications.sms import (
    ConsoleSmsBackend,
    HttpSmsBackend,
    NetgsmSmsBackend,
    SmsError,
    normalize_phone,
)

pytestmark = [pytest.mark.django_db]


class Provider:
    """A loopback HTTP server answering each POST with ``answer`` (status, JSON)."""

    def __init__(self, answer):
        self.answer = answer
        self.requests: list[tuple[dict, dict]] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                provider.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status, payload = provider.answer
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider():
    made = []

    def make(answer=(200, {"id": "m-1"})):
        made.append(Provider(answer))
        return made[-1]

    yield make
    for server in made:
        server.stop()


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("0532 123 45 67", "+905321234567"),
        ("532-123-4567", "+905321234567"),
        ("+90 (532) 123 45 67", "+905321234567"),
        ("0090 532 123 4567", "+905321234567"),
        ("+49 151 2345678", "+491512345678"),
    ],
)
def test_phone_numbers_are_normalised(raw, e164):
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize("raw", ["", "abc", "12", "+90 532 123 45 67 89 01 23"])
def test_non_numbers_are_refused(raw):
    with pytest.raises(ValueError):
        normalize_phone(raw)


def test_the_console_provider_prints_the_message(settings):
    stream = io.StringIO()
    message_id = ConsoleSmsBackend(stream=stream).send(to="+905321234567", text="Kod: 123456")
    assert message_id.startswith("console-")
    assert "SMS to +905321234567" in stream.getvalue() and "Kod: 123456" in stream.getvalue()


def test_the_http_provider_posts_json_with_the_key(provider, settings):
    server = provider()
    settings.SMS_SENDER = "ACME"
    backend = HttpSmsBackend(url=server.url, api_key="secret-key")

    assert backend.send(to="+905321234567", text="Siparişiniz yolda") == "m-1"

    ((headers, body),) = server.requests
    assert headers["authorization"] == "Bearer secret-key"
    assert body == {"to": "+905321234567", "text": "Siparişiniz yolda", "sender": "ACME"}


def test_the_http_provider_raises_on_a_refusal(provider):
    server = provider(answer=(422, {"error": "bad number"}))
    with pytest.raises(SmsError, match="422"):
        HttpSmsBackend(url=server.url, api_key="k").send(to="+905321234567", text="x")


def test_an_unreachable_provider_raises(settings):
    from tests.conftest import closed_port

    settings.SMS_TIMEOUT_SECONDS = 2
    with pytest.raises(SmsError, match="unreachable"):
        HttpSmsBackend(url=f"http://127.0.0.1:{closed_port()}/", api_key="k").send(
            to="+905321234567", text="x"
        )


def test_netgsm_gets_its_rest_v2_body_and_basic_auth(provider, settings):
    server = provider(
        answer=(200, {"code": "00", "jobid": "17377215342605050417149344", "description": "queued"})
    )
    settings.SMS_SENDER = "ACMEBAYI"
    backend = NetgsmSmsBackend(url=server.url, user="8503001234", api_key="pw")

    assert backend.send(to="+905321234567", text="Kod: 1") == "17377215342605050417149344"

    ((headers, body),) = server.requests
    assert headers["authorization"] == "Basic " + base64.b64encode(b"8503001234:pw").decode()
    assert body == {
        "msgheader": "ACMEBAYI",
        "messages": [{"msg": "Kod: 1", "no": "5321234567"}],
        "encoding": "TR",
    }


def test_netgsm_error_codes_raise(provider):
    server = provider(answer=(406, {"code": "40", "description": "msgheader not defined"}))
    with pytest.raises(SmsError, match="40"):
        NetgsmSmsBackend(url=server.url, user="u", api_key="p").send(to="+905321234567", text="x")


def test_sms_notify_sends_through_the_configured_provider_and_logs_it(
    provider, settings, django_capture_on_commit_callbacks
):
    server = provider(answer=(200, {"id": "abc-42"}))
    settings.SMS_BACKEND = "http"
    settings.SMS_API_URL, settings.SMS_API_KEY = server.url, "k"

    with django_capture_on_commit_callbacks(execute=True):
        sms_notify(template="otp", to="0532 123 45 67", context={"code": "482913", "minutes": 5})

    ((_headers, body),) = server.requests
    assert body["to"] == "+905321234567" and "482913" in body["text"]
    log = Notification.objects.get()
    assert (log.channel, log.to, log.status, log.provider_id) == (
        "sms",
        "+905321234567",
        "sent",
        "abc-42",
    )
    assert log.context == {}  # the code is not kept


def test_a_provider_refusal_is_logged_as_failed(
    provider, settings, django_capture_on_commit_callbacks
):
    server = provider(answer=(500, {"error": "down"}))
    settings.SMS_BACKEND = "http"
    settings.SMS_API_URL = server.url

    with django_capture_on_commit_callbacks(execute=True):
        sms_notify(template="otp", to="05321234567", context={"code": "1", "minutes": 5})

    log = Notification.objects.get()
    assert log.status == "failed" and "500" in log.error
