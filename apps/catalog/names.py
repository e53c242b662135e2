"""Category and brand names compare regardless of case, the Turkish way too: ``Işık = IŞIK =
ışık`` and ``İnce = INCE = ince``. Upper case alone keeps them apart (Python's and PostgreSQL's
``upper`` give ``I`` for ``i`` and ``ı``, but keep ``İ``: an ERP's ``KÜÇÜK EV ALETLERİ`` made
a second ``Küçük Ev Aletleri``), so the key is the upper case with ``İ`` read as ``I``, in
Python and in SQL alike."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, Value
from django.db.models.functions import Replace, Upper
from django.db.models.lookups import Exact, In


def name_key(name: str) -> str:
    return name.upper().replace("İ", "I")


def _key_sql(field: str):
    return Replace(Upper(field), Value("İ"), Value("I"))


def name_is(name: str, *, field: str = "name") -> Exact:
    """A filter: ``field`` is ``name`` regardless of case (``Brand.objects.filter(name_is(x))``)."""
    return Exact(_key_sql(field), name_key(name))


def name_in(names: Iterable[str], *, field: str = "name") -> Q:
    """A filter: ``field`` is one of ``names`` regardless of case, or spelled exactly so (the
    exact spelling also finds what SQLite's ASCII-only ``upper`` cannot: the demo's)."""
    names = set(names)
    return Q(In(_key_sql(field), {name_key(name) for name in names})) | Q(**{f"{field}__in": names})
