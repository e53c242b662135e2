"""Pagination of API.md: ?page=N&page_size=M (max 100), {count, next, previous, results}."""

import pytest

pytestmark = [pytest.mark.urls("tests.core.urls")]

URL = "/api/test/numbers"


def test_default_page_has_the_documented_shape(api_client):
    body = api_client.get(URL).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 250
    assert body["results"] == list(range(1, 21))
    assert body["previous"] is None
    assert "page=2" in body["next"]


def test_page_size_up_to_100_is_honoured(api_client):
    body = api_client.get(URL, {"page_size": 100, "page": 3}).json()
    assert body["results"] == list(range(201, 251))
    assert body["next"] is None


@pytest.mark.parametrize("value", ["0", "101", "x", "-1", "1.5", "²", "٣", "１"])
def test_bad_page_size_answers_400_naming_the_field(api_client, value):
    response = api_client.get(URL, {"page_size": value})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["page_size"]


@pytest.mark.parametrize("value", ["0", "x", "-3", "²", "٣", "１"])
def test_bad_page_answers_400_naming_the_field(api_client, value):
    response = api_client.get(URL, {"page": value})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["page"]


def test_page_beyond_the_end_answers_404(api_client):
    response = api_client.get(URL, {"page": 99})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_pagination_messages_are_translated(api_client):
    response = api_client.get(URL, {"page_size": "500"}, HTTP_ACCEPT_LANGUAGE="tr")
    assert response.json()["errors"]["page_size"] == ["1 ile 100 arasında bir tam sayı olmalıdır."]


def test_a_repeated_page_parameter_answers_400_naming_it(api_client):
    response = api_client.get(f"{URL}?page=1&page=2")
    assert response.status_code == 400
    assert response.json()["code"] == "repeated_parameter"
    assert list(response.json()["errors"]) == ["page"]
