"""Deep pages of the dealer catalog start from a cached seek point instead of an ``OFFSET``
over every row before them (``ProductPages._seek``): the same products, page for page, as
the plain offset, in every ordering, with filters, across ties of the sort key."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.catalog import selectors
from tests.catalog.factories import CategoryFactory, ProductFactory

pytestmark = [pytest.mark.django_db]

URL = "/api/v1/products"
STEP = 7  # rows between two seek points in these tests (1000 in production)


@pytest.fixture
def client(dealer_client):
    return dealer_client("viewer")


@pytest.fixture
def small_step(monkeypatch, settings):
    monkeypatch.setattr(selectors, "SEEK_STEP", STEP)
    settings.CATALOG_COUNT_CACHE_SECONDS = 60
    cache.clear()


@pytest.fixture
def catalogue():
    """43 visible products, names repeated (ties broken by id) and one creation time for
    many (ties in ``-created_at``), in two categories; plus hidden ones in between."""
    root = CategoryFactory(name="Root")
    other = CategoryFactory(name="Other")
    hidden = CategoryFactory(name="Hidden", is_active=False)
    for i in range(43):
        ProductFactory(name=f"Widget {i % 9}", category=root if i % 3 else other)
    ProductFactory(name="Widget 4", is_active=False, category=root)
    ProductFactory(name="Widget 5", category=hidden)
    return root


def walk(client, query: str) -> list[list[str]]:
    """Every page of the list, page by page (SKUs), through the API."""
    pages, page = [], 1
    while True:
        response = client.get(f"{URL}?page_size=5&page={page}{query}")
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append([item["sku"] for item in body["results"]])
        if body["next"] is None:
            return pages
        page += 1


@pytest.mark.parametrize(
    "query", ["", "&ordering=name", "&ordering=-name", "&ordering=-created_at", "&category=other"]
)
def test_deep_pages_from_seek_points_are_the_plain_offset_pages(
    client, catalogue, small_step, settings, query
):
    seeking = walk(client, query)

    settings.CATALOG_COUNT_CACHE_SECONDS = 0  # no cache: no seek points, a plain OFFSET
    plain = walk(client, query)

    assert seeking == plain
    flat = [sku for page in seeking for sku in page]
    assert len(flat) == len(set(flat))  # every product once
    assert len(flat) == (15 if "category" in query else 43)


def test_a_deep_page_reads_from_its_seek_point_not_from_the_first_row(
    client, catalogue, small_step
):
    client.get(f"{URL}?page_size=5&page=8")  # fills the seek points (and the count)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"{URL}?page_size=5&page=8")  # rows 35-39
    assert response.status_code == 200 and len(response.json()["results"]) == 5

    ids_query = next(q["sql"] for q in ctx.captured_queries if "LIMIT 5" in q["sql"])
    # seek point 5 is row 35: the page starts there, nothing skipped
    assert "OFFSET" not in ids_query
    assert '"catalog_product"."name" >=' in ids_query


def test_seek_points_expire_with_the_count(client, catalogue, small_step):
    """The seek points are cached as long as the count whose pages they cut: once both
    expired, a product added meanwhile is listed, every product once."""
    walk(client, "")
    ProductFactory(name="Widget 0", category=catalogue)

    cache.clear()  # the count and the seek points expire together
    flat = [sku for page in walk(client, "") for sku in page]

    assert len(flat) == len(set(flat)) == 44


# --- the keyset walk (cursor=) -----------------------------------------------------------------


def cursor_walk(client, query: str, page_size: int = 5) -> list[list[str]]:
    """Every page of a cursor walk, following ``next`` from ``cursor=``."""
    pages, url = [], f"{URL}?cursor=&page_size={page_size}{query}"
    for _ in range(100):  # bounded: 43 products in pages of 5
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["previous"] is None and "count" in body
        pages.append([item["sku"] for item in body["results"]])
        url = body["next"]
        if url is None:
            return pages
        assert "cursor=" in url and "page=" not in url.replace("page_size=", "")
    raise AssertionError("the walk did not end")


@pytest.mark.parametrize(
    "query", ["", "&ordering=name", "&ordering=-name", "&ordering=-created_at", "&category=other"]
)
def test_a_cursor_walk_lists_what_the_pages_list_in_the_same_order(client, catalogue, query):
    walked = [sku for page in cursor_walk(client, query) for sku in page]
    paged = [sku for page in walk(client, query) for sku in page]
    assert walked == paged


def test_a_cursor_walk_neither_skips_nor_repeats_while_products_are_added(client, catalogue):
    first = client.get(f"{URL}?cursor=&page_size=5").json()
    seen = [item["sku"] for item in first["results"]]
    # a product sorting before the cursor's row and one after it appear meanwhile
    ProductFactory(name="AAA before everything", category=catalogue)
    late = ProductFactory(name="Zzz after everything", category=catalogue)
    url = first["next"]
    while url:
        body = client.get(url).json()
        seen += [item["sku"] for item in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 44  # the 43, the late one; the early one is behind
    assert seen[-1] == late.sku


def test_a_cursor_page_reads_an_index_range_with_its_prices(client, catalogue):
    first = client.get(f"{URL}?cursor=&page_size=5").json()
    with CaptureQueriesContext(connection) as ctx:
        body = client.get(first["next"]).json()
    ids_query = next(q["sql"] for q in ctx.captured_queries if "LIMIT 6" in q["sql"])
    assert '"catalog_product"."name" >=' in ids_query and "OFFSET" not in ids_query
    assert len(body["results"]) == 5 and all("price" in item for item in body["results"])
    assert body["count"] == 43


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=bm90LWEtY3Vyc29y", "cursor"),  # base64 of "not-a-cursor"
        ("cursor=%%%", "cursor"),
        ("cursor=&ordering=price", "cursor"),
        ("cursor=&search=widget", "cursor"),
        ("cursor=&page=2", "cursor"),
        ("cursor=&cursor=", "cursor"),
        ("cursor=&page_size=0", "page_size"),
    ],
)
def test_a_bad_cursor_is_a_400_naming_the_field(client, catalogue, query, field):
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def _token(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("data", "ordering"),
    [
        (["name", "a\x00b", 1], ""),  # PostgreSQL refuses NUL in text
        (["name", "\ud800", 1], ""),  # a lone surrogate is not UTF-8
        (["name", "x", 2**63], ""),  # not a bigint
        (["name", "x", True], ""),
        (["name", "x" * 256, 1], ""),
        (["name", "x"], ""),
        ({"name": 1, "x": 2, "y": 3}, ""),
        (["-created_at", "yesterday", 1], "&ordering=-created_at"),
        (["-created_at", "2026-01-01T00:00:00", 1], "&ordering=-created_at"),  # no zone
    ],
)
def test_a_forged_cursor_is_a_400_not_a_500(client, catalogue, data, ordering):
    response = client.get(f"{URL}?cursor={_token(data)}{ordering}")
    assert response.status_code == 400, response.content
    assert "cursor" in response.json()["errors"]


def test_a_cursor_of_another_order_is_refused(client, catalogue):
    token = client.get(f"{URL}?cursor=&page_size=5").json()["next"].split("cursor=")[1]
    token = token.split("&")[0]
    response = client.get(f"{URL}?cursor={token}&ordering=-created_at")
    assert response.status_code == 400 and "cursor" in response.json()["errors"]
