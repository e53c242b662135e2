"""The request id travels in a context variable so every log line of a request carries it."""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_from(sent: str) -> str:
    """The request id a request goes by: the ``X-Request-ID`` it sent when well-formed, else a
    new one."""
    return sent if _VALID_REQUEST_ID.match(sent) else uuid.uuid4().hex


def get_request_id() -> str:
    return request_id_var.get()


class UTCFormatter(logging.Formatter):
    """The plain text lines (``LOG_FORMAT=plain``) with their time in UTC, marked ``Z``, as the
    JSON lines have it: the server's local time without a zone misled whoever read both."""

    converter = time.gmtime
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"


class RequestIDFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class ClientMistakeFilter(logging.Filter):
    """Django's ``django.security.*`` lines (a foreign ``Host`` header, a form too large, a
    suspicious file name) are what a client sent, answered 400: logged at ERROR with a
    traceback, anyone could fill the logs and page whoever watches them. They stay, as one
    WARNING line without the traceback. So are ``django.request``'s lines of an answer below
    500 (a 403 of the admin logged the PermissionDenied's traceback): the request was refused,
    nothing failed."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django.security.") and record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        elif record.name == "django.request" and _refused(record):
            record.exc_info, record.exc_text = None, None
        return True


def _refused(record: logging.LogRecord) -> bool:
    """A ``django.request`` line of a 4xx answer."""
    status = getattr(record, "status_code", None)
    return isinstance(status, int) and 400 <= status < 500
