"""List endpoints run a fixed number of queries whatever the page size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import AddressFactory, DealerUserFactory

pytestmark = [pytest.mark.django_db]


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), len(response.json()["results"])


@pytest.mark.parametrize(
    ("url", "make"),
    [
        ("/api/v1/company/users", lambda c: DealerUserFactory(customer=c, role="viewer")),
        ("/api/v1/company/addresses", lambda c: AddressFactory(customer=c)),
    ],
)
def test_list_query_count_does_not_grow_with_the_page(dealer_client, url, make):
    client = dealer_client("owner")
    for _ in range(30):
        make(client.user.customer)
    small, small_n = count_queries(client, f"{url}?page_size=5")
    large, large_n = count_queries(client, f"{url}?page_size=30")
    assert (small_n, large_n) == (5, 30)
    assert small == large
    assert large <= 6
