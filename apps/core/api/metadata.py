"""What ``OPTIONS`` answers for an API view (``REST_FRAMEWORK["DEFAULT_METADATA_CLASS"]``)."""

from __future__ import annotations

import copy

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import Resolver404, resolve
from rest_framework import exceptions, serializers
from rest_framework.exceptions import NotFound, Throttled
from rest_framework.metadata import SimpleMetadata
from rest_framework.request import clone_request


class Metadata(SimpleMetadata):
    """DRF's description of a view (name, description, renders, parses) and, under
    ``actions``, the fields a POST or PUT takes.

    Many views here validate with serializers of their own (HackSoft-style input and output
    serializers): ``serializer_class`` is what they answer (``POST orders`` answers an order
    but takes ``items``), and some generic views name none (DRF would fail with a 500). So a
    method's body is the one its OpenAPI schema declares (``@extend_schema(request=...)``),
    the contract clients are generated from; a method that declares none is described by
    ``serializer_class`` as DRF does, or without fields when the view has none."""

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
        metadata = super().determine_metadata(request, view)
        if "actions" not in metadata and not hasattr(view, "get_serializer"):
            # DRF describes the bodies of generic views only: a plain APIView (sign-in, the
            # price quote, the ERP's batches) is described by its schema's declared body
            actions = self.determine_actions(request, view)
            if actions:
                metadata["actions"] = actions
        return metadata

    def determine_actions(self, request, view):
        """DRF's: each of PUT and POST that the caller may use, with its body's fields."""
        actions = {}
        for method in {"PUT", "POST"} & set(view.allowed_methods):
            view.request = clone_request(request, method)
            try:
                view.check_permissions(view.request)
                if method == "PUT" and hasattr(view, "get_object"):
                    view.get_object()
                body = request_body(view, method)
            except (exceptions.APIException, PermissionDenied, Http404):
                continue
            finally:
                view.request = request
            if body is not NOTHING:
                actions[method] = self.get_serializer_info(body) if body is not None else {}
        return actions


NOTHING = object()  # a method whose body cannot be described


def request_body(view, method: str):
    """The serializer of ``method``'s request body: the one ``@extend_schema(request=...)``
    declares on the view's method (``None``: no body), else the view's ``serializer_class``;
    ``NOTHING`` when neither says (or the schema names a type that is not a serializer)."""
    # the schema module imports DRF's views, which import this module (their metadata class)
    from apps.core.schema import UNDECLARED

    handler = getattr(view, method.lower(), None)
    schema_class = getattr(handler, "kwargs", {}).get("schema")
    declared = NOTHING
    if schema_class is not None:
        schema = schema_class()
        schema.view, schema.method = view, method
        if hasattr(schema, "declared_request"):
            declared = schema.declared_request()
    if declared is NOTHING or declared is UNDECLARED:
        return view.get_serializer() if has_serializer(view) else NOTHING
    if isinstance(declared, dict):  # one per media type: they take the same fields
        declared = next(iter(declared.values()), None)
    if isinstance(declared, type) and issubclass(declared, serializers.BaseSerializer):
        context = (
            view.get_serializer_context()
            if hasattr(view, "get_serializer_context")
            else {"request": view.request, "view": view}
        )
        return declared(context=context)
    if declared is None or isinstance(declared, serializers.BaseSerializer):
        return declared
    return NOTHING


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
