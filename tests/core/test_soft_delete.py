"""SoftDeleteModel: the default manager hides deleted rows, ``all_objects`` does not."""

import pytest
from django.db import connection, models
from django.test.utils import isolate_apps

from apps.core.models import SoftDeleteModel, TimeStampedModel


@pytest.fixture
def gadget_model(db):
    """A throw-away concrete model in its own app registry, with a real table."""
    with isolate_apps("apps.core"):

        class Gadget(SoftDeleteModel, TimeStampedModel):
            name = models.CharField(max_length=20)

            class Meta:
                app_label = "core"

        # the test transaction drops the table again (PostgreSQL DDL is transactional)
        with connection.schema_editor() as editor:
            editor.create_model(Gadget)
        yield Gadget


def test_deleted_rows_are_hidden_by_default_and_kept_in_all_objects(gadget_model):
    Gadget = gadget_model
    keep = Gadget.objects.create(name="keep")
    gone = Gadget.objects.create(name="gone")

    gone.soft_delete()

    assert list(Gadget.objects.values_list("name", flat=True)) == ["keep"]
    assert set(Gadget.all_objects.values_list("name", flat=True)) == {"keep", "gone"}
    gone.refresh_from_db()
    assert gone.is_deleted and gone.deleted_at is not None
    assert Gadget.objects.filter(pk=gone.pk).exists() is False
    assert keep.is_deleted is False


def test_queryset_soft_delete_and_restore(gadget_model):
    Gadget = gadget_model
    Gadget.objects.bulk_create([Gadget(name=f"g{i}") for i in range(3)])

    assert Gadget.objects.filter(name__in=["g0", "g1"]).soft_delete() == 2

    assert Gadget.objects.count() == 1
    assert Gadget.all_objects.dead().count() == 2
    assert Gadget.all_objects.alive().count() == 1
    revived = Gadget.all_objects.get(name="g0")
    revived.restore()
    assert Gadget.objects.count() == 2


def test_soft_delete_is_idempotent(gadget_model):
    Gadget = gadget_model
    gadget = Gadget.objects.create(name="once")
    gadget.soft_delete()
    first = gadget.deleted_at
    gadget.soft_delete()
    gadget.refresh_from_db()
    assert gadget.deleted_at == first
