"""A net for integration endpoints added later: every view under /api/integration/v1/ (but
the public index) takes an X-API-Key only and names the scope each of its methods needs, and
answers 401 without a key."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from apps.accounts.authentication import ApiKeyAuthentication
from apps.accounts.permissions import HasApiKeyScope
from apps.integrations.api.base import IntegrationAPIView

PUBLIC = {"IntegrationApiRootView": "the index of the API: links to its schema and docs"}
METHODS = ("get", "post", "put", "patch", "delete")


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def integration_routes():
    return [
        (route, getattr(callback, "view_class", None) or getattr(callback, "cls", None))
        for route, callback in _walk(get_resolver().url_patterns)
        if route.startswith("api/integration/v1/")
    ]


def test_every_integration_view_needs_an_api_key_and_names_its_scopes():
    offenders = []
    for route, view in integration_routes():
        if view.__name__ in PUBLIC:
            continue
        methods = [m.upper() for m in METHODS if hasattr(view, m)]
        scopes = getattr(view, "required_scopes", {})
        if (
            not issubclass(view, IntegrationAPIView)
            or view.authentication_classes != [ApiKeyAuthentication]
            or HasApiKeyScope not in view.permission_classes
            or any(m not in scopes and "*" not in scopes for m in methods)
        ):
            offenders.append((route, view.__name__))
    assert offenders == []


@pytest.mark.django_db
def test_every_integration_route_answers_401_without_a_key(api_client):
    for route, view in integration_routes():
        if view.__name__ in PUBLIC:
            continue
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", "1", route)
        for method in (m for m in METHODS if hasattr(view, m)):
            response = getattr(api_client, method)(path, {}, format="json")
            assert response.status_code == 401, (method, path, response.status_code)


def test_celery_beat_runs_the_webhook_sweeper_every_few_seconds():
    from config.celery import app

    entry = app.conf.beat_schedule["integrations-webhooks-sweep"]
    assert entry["task"] == "integrations.webhooks_sweep"
    assert 0 < entry["schedule"] <= 10


@pytest.mark.django_db
def test_a_method_a_route_does_not_serve_answers_405_even_with_every_scope(integration_client):
    client = integration_client()  # all scopes
    checked = 0
    for route, view in integration_routes():
        if view.__name__ in PUBLIC:
            continue
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", "1", route)
        for method in (m for m in METHODS if not hasattr(view, m)):
            response = getattr(client, method)(path, {}, format="json")
            assert response.status_code == 405, (method, path, response.content)
            assert response.json()["code"] == "method_not_allowed"
            checked += 1
    assert checked > 20
