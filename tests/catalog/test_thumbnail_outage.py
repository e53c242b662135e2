"""A thumbnail is not lost to a file-storage outage longer than its task's retries: the task
that gave up is queued for beat's sweep, which sends it again once the storage answers. The
storage is a real S3 server (moto) reached through a proxy the test takes down."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.catalog.images import product_image_create
from apps.catalog.tasks import generate_thumbnail
from apps.core.models import QueuedTask
from apps.core.task_queue import queued_tasks_send
from config.celery import app as celery_app
from tests.catalog.factories import ProductFactory
from tests.s3 import s3_bucket_create, s3_default_storage
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def s3_behind_a_proxy(settings, s3_server):
    s3_bucket_create(s3_server, "b2b-thumbs")
    proxy = TcpProxy(int(s3_server.rsplit(":", 1)[1]))
    s3_default_storage(
        settings,
        endpoint=f"http://127.0.0.1:{proxy.port}",
        bucket="b2b-thumbs",
        file_overwrite=False,
    )
    yield proxy
    proxy.close()


def test_a_thumbnail_whose_retries_ran_out_during_an_outage_is_made_by_the_sweep(
    s3_behind_a_proxy, django_capture_on_commit_callbacks, monkeypatch
):
    proxy = s3_behind_a_proxy
    buffer = BytesIO()
    Image.new("RGB", (800, 600), (200, 30, 30)).save(buffer, "PNG")
    upload = SimpleUploadedFile("photo.png", buffer.getvalue(), "image/png")
    with django_capture_on_commit_callbacks(execute=False):
        image = product_image_create(product=ProductFactory(), file=upload)
    QueuedTask.objects.all().delete()  # as after the commit's send: the broker took it

    # as a worker runs it: each retry in turn (here at once), until the last one fails
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    proxy.down()
    result = generate_thumbnail.apply(args=[image.pk])
    assert result.state == "FAILURE"
    image.refresh_from_db()
    assert not image.thumbnail
    (queued,) = QueuedTask.objects.all()
    assert (queued.name, queued.args) == ("catalog.generate_thumbnail", [image.pk])

    proxy.up()
    assert queued_tasks_send(older_than_seconds=0) == 1  # beat's sweep
    image.refresh_from_db()
    assert image.thumbnail.name.endswith(".webp")
    assert not QueuedTask.objects.exists()
