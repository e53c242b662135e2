"""The JSON renderer of both APIs."""

from __future__ import annotations

from rest_framework import renderers

from apps.core.text import storable_data


class JSONRenderer(renderers.JSONRenderer):
    """DRF's ``JSONRenderer`` that never fails on text UTF-8 cannot encode: a lone surrogate
    that an answer quotes from the input (``"\\ud800" is not a valid choice``) is sent as
    U+FFFD instead of ending the request in a 500."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return super().render(storable_data(data), accepted_media_type, renderer_context)
