"""GET categories: the active tree, nested, from one query, cached until the catalog changes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import User
from apps.catalog.models import Category
from tests.catalog.factories import CategoryFactory

pytestmark = [pytest.mark.django_db]

URL = "/api/v1/categories"


def names(nodes):
    return [(node["name"], names(node["children"])) for node in nodes]


def test_tree_is_nested_with_siblings_by_sort_order_then_name(dealer_client):
    client = dealer_client("viewer")
    tools = CategoryFactory(name="Tools", sort_order=2)
    electrical = CategoryFactory(name="Electrical", sort_order=1)
    cables = CategoryFactory(name="cables", parent=electrical)
    CategoryFactory(name="Switches", parent=electrical)
    CategoryFactory(name="Breakers", parent=electrical)
    CategoryFactory(name="Power cables", parent=cables)
    CategoryFactory(name="Drills", parent=tools)

    response = client.get(URL)

    assert response.status_code == 200
    assert names(response.json()) == [
        (
            "Electrical",
            [
                ("Breakers", []),
                ("cables", [("Power cables", [])]),
                ("Switches", []),
            ],
        ),
        ("Tools", [("Drills", [])]),
    ]
    node = response.json()[0]
    assert set(node) == {"id", "name", "slug", "children"}
    assert node["id"] == electrical.pk and node["slug"] == electrical.slug


def test_inactive_categories_are_hidden_with_their_sub_categories(dealer_client):
    client = dealer_client("viewer")
    root = CategoryFactory(name="Root")
    hidden = CategoryFactory(name="Hidden", parent=root, is_active=False)
    CategoryFactory(name="Under hidden", parent=hidden)
    CategoryFactory(name="Shown", parent=root)

    assert names(client.get(URL).json()) == [("Root", [("Shown", [])])]


def test_tree_is_built_from_one_query_and_then_served_from_the_cache(dealer_client):
    client = dealer_client("viewer")
    parent = CategoryFactory(name="A")
    for n in range(5):
        child = CategoryFactory(name=f"A{n}", parent=parent)
        CategoryFactory(name=f"A{n}x", parent=child)

    with CaptureQueriesContext(connection) as first:
        assert client.get(URL).status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert client.get(URL).status_code == 200

    tree_queries = [q for q in first.captured_queries if "catalog_category" in q["sql"]]
    assert len(tree_queries) == 1
    assert [q for q in second.captured_queries if "catalog_category" in q["sql"]] == []
    assert len(second.captured_queries) == 1  # authentication only


def test_a_new_category_shows_up_right_after_creation(dealer_client):
    client = dealer_client("viewer")
    parent = CategoryFactory(name="Lighting")
    assert names(client.get(URL).json()) == [("Lighting", [])]  # now cached

    CategoryFactory(name="LED", parent=parent)

    assert names(client.get(URL).json()) == [("Lighting", [("LED", [])])]


def test_a_renamed_deactivated_or_deleted_category_shows_at_once(dealer_client):
    client = dealer_client("viewer")
    first = CategoryFactory(name="First")
    second = CategoryFactory(name="Second")
    client.get(URL)

    first.name = "Renamed"
    first.save()  # e.g. the admin: a post_save receiver bumps the catalog version
    assert names(client.get(URL).json()) == [("Renamed", []), ("Second", [])]

    Category.objects.filter(pk=second.pk).first().delete()
    assert names(client.get(URL).json()) == [("Renamed", [])]

    first.is_active = False
    first.save()
    assert client.get(URL).json() == []


def test_categories_need_a_dealer_login(api_client, dealer_client):
    assert api_client.get(URL).status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert api_client.get(URL).status_code == 401


def test_a_deactivated_dealer_user_is_refused(dealer_client):
    client = dealer_client("viewer")
    User.objects.filter(pk=client.user.pk).update(is_active=False)
    assert client.get(URL).status_code == 401
