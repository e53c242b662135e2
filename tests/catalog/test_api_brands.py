"""GET brands: active brands by name, paginated, cached until a brand changes."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.catalog.factories import BrandFactory

pytestmark = [pytest.mark.django_db]

URL = "/api/v1/brands"


def test_brand_list_shows_active_brands_by_name_paginated(dealer_client):
    client = dealer_client("viewer")
    zeta = BrandFactory(name="Zeta", slug="zeta")
    BrandFactory(name="Hidden", slug="hidden", is_active=False)
    alpha = BrandFactory(name="Alpha", slug="alpha")

    body = client.get(URL).json()

    assert body["count"] == 2 and body["next"] is None and body["previous"] is None
    assert body["results"] == [
        {"id": alpha.pk, "name": "Alpha", "slug": "alpha"},
        {"id": zeta.pk, "name": "Zeta", "slug": "zeta"},
    ]


def test_brand_pages_follow_the_common_pagination(dealer_client):
    client = dealer_client("viewer")
    for n in range(5):
        BrandFactory(name=f"Brand {n}", slug=f"brand-{n}")

    second = client.get(f"{URL}?page=2&page_size=2").json()

    assert second["count"] == 5
    assert [b["name"] for b in second["results"]] == ["Brand 2", "Brand 3"]
    assert client.get(f"{URL}?page_size=0").json()["errors"].keys() == {"page_size"}
    assert client.get(f"{URL}?page=9").status_code == 404


def test_brand_pages_cost_the_same_queries_at_2_and_12_brands(dealer_client):
    client = dealer_client("viewer")
    for n in range(12):
        BrandFactory(name=f"Brand {n:02d}", slug=f"brand-{n}")
    counts = []
    for size in (2, 12):
        cache.clear()  # the rows read from the database each time, not from the cache
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"{URL}?page_size={size}")
        assert len(response.json()["results"]) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_brand_rows_come_from_the_cache_after_the_first_call(dealer_client):
    client = dealer_client("viewer")
    BrandFactory(name="Alpha", slug="alpha")
    client.get(URL)

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL).status_code == 200

    assert [q for q in ctx.captured_queries if "catalog_brand" in q["sql"]] == []


def test_brand_changes_show_at_once(dealer_client):
    client = dealer_client("viewer")
    alpha = BrandFactory(name="Alpha", slug="alpha")
    client.get(URL)

    beta = BrandFactory(name="Beta", slug="beta")
    assert [b["name"] for b in client.get(URL).json()["results"]] == ["Alpha", "Beta"]

    alpha.is_active = False
    alpha.save()
    assert [b["name"] for b in client.get(URL).json()["results"]] == ["Beta"]

    beta.delete()
    assert client.get(URL).json()["results"] == []


def test_brands_need_a_dealer_login(api_client):
    assert api_client.get(URL).status_code == 401
