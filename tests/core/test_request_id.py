"""Every response carries X-Request-ID, taken from the request or generated, and logs carry it."""

import io
import json
import logging
import re

import pytest

from apps.core.logging import RequestIDFilter

pytestmark = [pytest.mark.urls("tests.core.urls")]


def test_request_id_from_the_request_is_returned(client):
    response = client.get("/health/live", HTTP_X_REQUEST_ID="edge-7f3a.42")
    assert response["X-Request-ID"] == "edge-7f3a.42"


def test_request_id_is_generated_when_absent(client):
    first = client.get("/health/live")["X-Request-ID"]
    second = client.get("/health/live")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_malformed_request_id_is_replaced(client):
    response = client.get("/health/live", HTTP_X_REQUEST_ID="bad id\nwith newline" + "x" * 300)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_log_lines_are_json_with_the_request_id(client, settings):
    from pythonjsonlogger.json import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIDFilter())
    handler.setFormatter(
        JsonFormatter(
            **{k: v for k, v in settings.LOGGING["formatters"]["json"].items() if k != "()"}
        )
    )
    logger = logging.getLogger("tests.views")
    logger.addHandler(handler)
    try:
        client.get("/api/test/log", HTTP_X_REQUEST_ID="trace-123")
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["request_id"] == "trace-123"
    assert line["message"] == "something worth a line"
    assert line["level"] == "WARNING"
    assert "time" in line
