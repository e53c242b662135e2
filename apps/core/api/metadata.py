"""What ``OPTIONS`` answers for an API view (``REST_FRAMEWORK["DEFAULT_METADATA_CLASS"]``)."""

from __future__ import annotations

import copy

from django.urls import Resolver404, resolve
from rest_framework.exceptions import NotFound, Throttled
from rest_framework.metadata import SimpleMetadata


class Metadata(SimpleMetadata):
    """DRF's description of a view (name, description, renders, parses) and, where the view
    has one serializer for its input, that serializer's fields under ``actions``.

    Many views here validate with serializers of their own (HackSoft-style input and output
    serializers) and a ``GenericAPIView`` without ``serializer_class``: DRF would ask it for a
    serializer and fail with a 500. Those views are described without ``actions``; their
    request bodies are in the OpenAPI schema, which is the contract anyway."""

    def determine_metadata(self, request, view):
        """A URL naming an object (``orders/{number}``) is described only to a caller who may
        see that object: the view's own GET answers first, so another company's or an absent
        object is a 404 for OPTIONS as for every other method."""
        if view.kwargs and _signed_in(request):
            answer = object_answer(request, view)
            if answer == 404:
                raise NotFound()
            if answer == 429:  # the GET asked was over the limit: so is this request
                raise Throttled()
        return super().determine_metadata(request, view)

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


def _signed_in(request) -> bool:
    """A person or a system key: public views (the bank's return) are not asked to GET."""
    user = getattr(request, "user", None)
    return bool(getattr(user, "is_authenticated", False) or getattr(request, "auth", None))


PROBE = "_object_probe"  # marks the GET asked on the caller's behalf (``is_object_probe``)


def is_object_probe(request) -> bool:
    """Whether this request is ``object_answer``'s GET: it asks only whether the caller's
    company has the object, so the caller's role is not what is asked (set by our code on the
    request object, never by a client)."""
    return bool(getattr(getattr(request, "_request", request), PROBE, False))


def object_answer(request, view) -> int | None:
    """The status of a GET of the object the URL names, whatever the caller's role may do
    (``is_object_probe``; not counted against the rate limits): by the shortest URL at or
    above it that names the same object (the same URL parameters) with a GET, so the
    object's own page rather than a document built from it (``invoices/{number}/pdf`` and
    ``orders/{number}/cancel`` ask ``invoices/{number}`` and ``orders/{number}``), else by the
    view's ``object_lookup`` (an object inside another: ``lists/{pk}/items/{item_id}``) or
    ``get_object`` (a generic view serving PATCH and DELETE only; ``Http404`` when absent).
    ``None``: nothing to ask."""
    path = request.path_info.rstrip("/")
    found = None
    while path.count("/") > 1 and view.kwargs:
        try:
            match = resolve(path)
        except Resolver404:
            match = None
        above = getattr(getattr(match, "func", None), "view_class", None)
        if above is not None and hasattr(above, "get") and set(match.kwargs) == set(view.kwargs):
            found = match  # keep climbing: the shortest such URL answers
        path = path.rsplit("/", 1)[0]
    if found is not None:
        asked = copy.copy(request._request)
        asked.method = "GET"
        setattr(asked, PROBE, True)
        return found.func(asked, *found.args, **found.kwargs).status_code
    if hasattr(view, "object_lookup"):  # a view that names its object its own way
        view.object_lookup()  # Http404 -> 404
    elif getattr(view, "queryset", None) is not None and hasattr(view, "get_object"):
        view.get_object()  # Http404 -> 404
    return None
