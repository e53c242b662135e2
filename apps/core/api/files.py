"""A file the API hands out (an invoice's PDF, a return's photo, a statement): read or
rendered, then sent with the headers every download carries. The storage down is a 503
with ``Retry-After``, a stored file gone a 404: never a 500."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpResponse
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound

from apps.core.exceptions import ServiceUnavailable
from apps.core.files import FileMissing, FileUnavailable


def produced(make: Callable[..., bytes], *args) -> bytes:
    """``make(*args)``'s bytes (``stored_bytes`` of a file, a rendered PDF)."""
    try:
        return make(*args)
    except FileMissing:
        raise NotFound(_("The file of this document is missing; we have been told.")) from None
    except FileUnavailable:
        raise ServiceUnavailable() from None


def file_response(
    content: bytes, content_type: str, filename: str, *, inline: bool = False
) -> HttpResponse:
    """The bytes as a download (``inline``: shown in the browser, as a photo), private to
    the one who asked: no cache keeps it."""
    response = HttpResponse(content, content_type=content_type)
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
