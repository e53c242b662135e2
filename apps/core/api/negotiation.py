"""Content negotiation of both APIs: an answer whatever the ``Accept`` header says.

DRF answers 406 when no renderer of an endpoint matches ``Accept``. A client that asks for
``application/pdf`` on an endpoint that answers a PDF file (an invoice, a statement) got
406, and so did one sending ``Accept: text/xml`` for the XML. An endpoint's renderers are what
it can answer: when none matches, it answers with its first (JSON), as HTTP allows a server
to. ``?format=`` is not DRF's renderer pick either (``URL_FORMAT_OVERRIDE`` is off): it is the
statement's own parameter, and elsewhere an unknown one is ignored, not a 404.
"""

from __future__ import annotations

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation


class LenientContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type
