"""/health/live, /health/ready (503 naming the failed service) and /metrics."""

import time

import pytest

from tests.conftest import closed_port
from tests.s3 import s3_bucket_create, s3_default_storage

pytestmark = [pytest.mark.django_db]


def test_live_answers_ok(client):
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_answers_ok_when_every_service_answers(client):
    response = client.get("/health/ready")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker", "storage"}
    assert all(check["status"] == "ok" for check in body["checks"].values())


def test_ready_answers_503_when_the_cache_is_unreachable(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0  # as every other 503
    body = response.json()
    assert body["failed"] == ["cache"]
    assert body["checks"]["cache"]["status"] == "error"
    assert body["checks"]["database"]["status"] == "ok"


def test_ready_shows_what_failed_to_anyone_and_why_only_to_the_metrics_readers(client, settings):
    port = closed_port()
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    settings.METRICS_TOKEN = "metrics-token-for-the-test"
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1/32", "::1/128"]  # the production default

    public = client.get("/health/ready", REMOTE_ADDR="203.0.113.9")
    assert public.status_code == 503
    assert public.json()["failed"] == ["cache"]
    assert public.json()["checks"]["cache"]["status"] == "error"
    assert "error" not in public.json()["checks"]["cache"]
    assert str(port) not in public.content.decode()

    trusted = client.get(
        "/health/ready",
        REMOTE_ADDR="203.0.113.9",
        HTTP_AUTHORIZATION="Bearer metrics-token-for-the-test",
    )
    assert trusted.status_code == 503
    assert str(port) in trusted.json()["checks"]["cache"]["error"]  # the connection's error


def test_ready_answers_503_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # tasks go to the broker (the suite runs eager)
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    settings.HEALTH_CHECK_TIMEOUT = 1
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]


def test_ready_checks_the_broker_configured_for_the_suite(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert client.get("/health/ready").json()["checks"]["broker"] == {
        "status": "ok",
        "duration_ms": pytest.approx(0, abs=5000),
    }


def test_ready_does_not_wait_for_a_broker_that_eager_tasks_never_use(client, settings):
    """Tasks run in-process (CELERY_TASK_ALWAYS_EAGER) with a broker URL still set: nothing
    is sent there, so a broker that is down does not make the server unready."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = client.get("/health/ready")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["broker"]["detail"] == "skipped: tasks run eagerly in-process"


def dead_s3_storage(settings) -> None:
    """The default storage is an S3 where nothing listens, given up on within a second."""
    s3_default_storage(
        settings,
        endpoint=f"http://127.0.0.1:{closed_port()}",
        bucket="media",
        client_config=_fast_fail_config(),
    )


def test_ready_answers_503_when_s3_storage_is_unreachable(client, settings):
    dead_s3_storage(settings)
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["failed"] == ["storage"]


def test_ready_answers_within_its_timeout_when_a_service_never_answers(client, settings):
    """A store that accepts connections and never answers (the client would wait its read
    timeout, twice): readiness answers 503 naming it within HEALTH_CHECK_TIMEOUT, and the
    other services are still reported."""
    from botocore.config import Config

    from tests.core.test_services_down import SilentServer

    silent = SilentServer()
    try:
        dead_s3_storage(settings)
        options = settings.STORAGES["default"]["OPTIONS"]
        options["endpoint_url"] = f"http://127.0.0.1:{silent.port}"
        options["client_config"] = Config(connect_timeout=3, read_timeout=10)
        settings.STORAGES = {**settings.STORAGES}
        settings.HEALTH_CHECK_TIMEOUT = 1
        started = time.monotonic()
        response = client.get("/health/ready")
        assert time.monotonic() - started < 5
        assert response.status_code == 503
        body = response.json()
        assert body["failed"] == ["storage"]
        assert body["checks"]["database"]["status"] == "ok"
        assert silent.received >= 1  # it was asked
    finally:
        silent.stop()


def _fast_fail_config():
    from botocore.config import Config

    return Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 1})


def test_metrics_expose_latency_per_view_status_codes_and_query_counts(client):
    client.get("/health/ready")
    body = client.get("/metrics").content.decode()
    assert "django_http_requests_latency_seconds_by_view_method_bucket{" in body
    assert 'view="health-ready"' in body
    assert "django_http_responses_total_by_status_view_method_total{" in body
    assert 'django_db_execute_total{alias="default",vendor="postgresql"}' in body


@pytest.mark.parametrize("path", ["/health/live", "/health/ready", "/metrics"])
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_a_write_method_on_the_probes_is_405_not_a_csrf_page(db, path, method):
    from django.test import Client

    response = getattr(Client(enforce_csrf_checks=True), method)(path)
    assert response.status_code == 405
    assert "GET" in response["Allow"]


def test_a_bucket_that_does_not_exist_is_not_ready_and_an_upload_answers_503(
    client, settings, s3_server, integration_client
):
    """Readiness read a key's metadata, which a missing bucket answers "no such key": green,
    while every upload answered 500 (NoSuchBucket, a 404, was not the storage's 503). Now
    readiness asks for the bucket, and an upload to it is the storage's 503."""
    from tests.catalog.factories import ProductFactory  # here: only this test uploads
    from tests.catalog.test_images import upload

    s3_default_storage(settings, endpoint=s3_server, bucket="no-such-bucket-here")
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["failed"] == ["storage"]

    ProductFactory(sku="NOBUCKET-1")
    erp = integration_client(scopes=["catalog:write"])
    uploaded = erp.post(
        "/api/integration/v1/products/NOBUCKET-1/images",
        {"image": upload("a.png")},
        format="multipart",
    )
    assert uploaded.status_code == 503, uploaded.content
    assert int(uploaded["Retry-After"]) > 0

    s3_bucket_create(s3_server, "health-bucket-ok")
    s3_default_storage(settings, endpoint=s3_server, bucket="health-bucket-ok")
    assert client.get("/health/ready").json()["checks"]["storage"]["status"] == "ok"
