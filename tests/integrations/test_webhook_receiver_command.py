"""``manage.py webhook_receiver``, the loopback receiver of the demo and of trying an endpoint:
a real process; hostile and odd requests are answered, never crash or hold it."""

from __future__ import annotations

import json
import socket
import time

import pytest
from standardwebhooks.webhooks import Webhook

from tests.integrations.receiver import receiver_command

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def receiver(tmp_path):
    log = tmp_path / "hooks.log"
    with receiver_command(log, "--secret", SECRET) as (port, process):
        yield port, log, process


def _raw(port: int, request: bytes, *, close_after_send: bool = False) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=15) as conn:
        conn.sendall(request)
        if close_after_send:
            conn.shutdown(socket.SHUT_WR)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = conn.recv(4096)
            if not chunk:
                break
            answer += chunk
        return answer


def _signed(body: bytes, webhook_id: str) -> bytes:
    stamp = str(int(time.time()))
    signature = Webhook(SECRET).sign(webhook_id, _when(stamp), body.decode())
    head = (
        f"POST /hooks HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
        f"webhook-id: {webhook_id}\r\nwebhook-timestamp: {stamp}\r\n"
        f"webhook-signature: {signature}\r\n\r\n"
    )
    return head.encode() + body


def _when(stamp: str):
    import datetime

    return datetime.datetime.fromtimestamp(int(stamp), tz=datetime.UTC)


def test_the_receiver_answers_odd_requests_and_logs_what_it_took(receiver):
    port, log, process = receiver
    for length in ("abc", "1e3", "9" * 5000, "-5"):
        answer = _raw(port, f"POST /hooks HTTP/1.1\r\nContent-Length: {length}\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.1 400"), (length, answer[:80])
    assert _raw(port, b"POST /hooks HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n").startswith(
        b"HTTP/1.1 413"
    )
    # a body cut short: the sender went away; the receiver goes on
    _raw(port, b"POST /hooks HTTP/1.1\r\nContent-Length: 100\r\n\r\n{}", close_after_send=True)
    # signed, but not an event object: taken and logged with an unknown type
    assert _raw(port, _signed(b"[1, 2]", "msg_list")).startswith(b"HTTP/1.1 204")
    assert _raw(port, _signed(b'{"type": {"x": 1}}', "msg_obj")).startswith(b"HTTP/1.1 204")
    event = json.dumps({"type": "order.created", "data": {}}).encode()
    assert _raw(port, _signed(event, "msg_ok")).startswith(b"HTTP/1.1 204")
    assert _raw(port, _signed(event, "msg_ok")).startswith(b"HTTP/1.1 204")  # a repeat
    forged = _signed(event, "msg_forged").replace(b"v1,", b"v1,AAAA")
    assert _raw(port, forged).startswith(b"HTTP/1.1 401")
    lines = log.read_text().splitlines()
    assert [line.split()[2:] for line in lines] == [
        ["?", "msg_list", "signature", "ok"],
        ["?", "msg_obj", "signature", "ok"],
        ["order.created", "msg_ok", "signature", "ok"],
        ["order.created", "msg_ok", "repeat,", "already", "taken"],
        ["REFUSED", "msg_forged", "/hooks:", "bad", "signature", "or", "timestamp"],
    ]
    assert process.poll() is None
    process.terminate()
    process.wait(timeout=10)
    assert b"Traceback" not in process.stderr.read()
