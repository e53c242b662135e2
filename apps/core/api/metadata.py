"""What ``OPTIONS`` answers for an API view (``REST_FRAMEWORK["DEFAULT_METADATA_CLASS"]``)."""

from __future__ import annotations

from rest_framework.metadata import SimpleMetadata


class Metadata(SimpleMetadata):
    """DRF's description of a view (name, description, renders, parses) and, where the view
    has one serializer for its input, that serializer's fields under ``actions``.

    Many views here validate with serializers of their own (HackSoft-style input and output
    serializers) and a ``GenericAPIView`` without ``serializer_class``: DRF would ask it for a
    serializer and fail with a 500. Those views are described without ``actions``; their
    request bodies are in the OpenAPI schema, which is the contract anyway."""

    def determine_actions(self, request, view):
        if not has_serializer(view):
            return {}
        return super().determine_actions(request, view)


def has_serializer(view) -> bool:
    """Whether ``view.get_serializer()`` can build a serializer (DRF asserts when a generic
    view names none)."""
    try:
        return view.get_serializer_class() is not None
    except AssertionError:
        return False
