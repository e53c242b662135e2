"""Everything a dealer or staff member reads goes through the translation machinery, and the
Turkish catalogue has every message the code and templates can show: a message added to the
code without its translation reaches Turkish users in English."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
from django.apps import apps
from django.utils.functional import Promise

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = Path("locale/tr/LC_MESSAGES/django.po")
# what makemessages reads: the code and templates users see (tests and tooling are not shown)
SOURCES = ("apps", "config", "templates", "locale")


def _collected_catalogue(workdir: Path) -> polib.POFile:
    """The committed catalogue updated by ``makemessages`` from the sources, in a copy of
    them (the working tree is left alone)."""
    for name in SOURCES:
        shutil.copytree(ROOT / name, workdir / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "manage.py", workdir / "manage.py")
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "tr", "--no-obsolete"],
        cwd=workdir,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return polib.pofile(str(workdir / CATALOGUE))


def test_every_message_of_the_code_and_templates_has_its_turkish_translation(tmp_path):
    collected = _collected_catalogue(tmp_path)
    missing = [
        entry.msgid
        for entry in collected
        if not entry.obsolete and (not entry.translated() or "fuzzy" in entry.flags)
    ]
    assert len(collected) > 1000  # the collection did run over the sources
    assert missing == [], (
        "messages without a Turkish translation (add them to "
        f"{CATALOGUE} and run compilemessages): {missing}"
    )


def test_every_model_field_and_model_has_a_translatable_name():
    """A field without its own ``verbose_name`` is labelled with its English attribute name
    (Django's ``"created at"`` from ``created_at``), which no catalogue translates: the
    Turkish back office showed such column headers and form labels in English."""
    untranslatable = []
    for model in apps.get_models():
        if not model.__module__.startswith("apps."):
            continue
        label = model._meta.label
        if not isinstance(model._meta.verbose_name, Promise):
            untranslatable.append(f"{label} (Meta.verbose_name)")
        for field in model._meta.get_fields():
            if not field.concrete or field.auto_created:
                continue
            if not isinstance(field.verbose_name, Promise):
                untranslatable.append(f"{label}.{field.name}")
    assert untranslatable == [], (
        "give these a verbose_name=_(...) (and its Turkish translation): "
        + ", ".join(untranslatable)
    )


def test_the_compiled_catalogue_is_the_committed_one():
    compiled = polib.mofile(str(ROOT / CATALOGUE.with_suffix(".mo")))
    source = polib.pofile(str(ROOT / CATALOGUE))
    wanted = {
        (entry.msgctxt, entry.msgid): entry.msgstr or entry.msgstr_plural
        for entry in source.translated_entries()
    }
    have = {
        (entry.msgctxt, entry.msgid): entry.msgstr or entry.msgstr_plural
        for entry in compiled
        if entry.msgid
    }
    assert have == wanted, "run compilemessages: django.mo differs from django.po"


def test_a_documents_number_is_numara_and_an_attributes_type_number_is_sayi():
    """One English word, two Turkish ones: the order, invoice, quote and return number columns
    read "numara"; the attribute type "number" (a value that is a number) "sayı"."""
    from django.utils import translation

    from apps.catalog.models import AttributeDefinition  # here: the two words this test reads
    from apps.orders.models import Order

    with translation.override("tr"):
        assert str(Order._meta.get_field("number").verbose_name) == "numara"
        assert str(AttributeDefinition.Type.NUMBER.label) == "sayı"
        # a decimal field's refusal: Django REST framework's own Turkish said "numara"
        from rest_framework import serializers

        field = serializers.DecimalField(max_digits=10, decimal_places=2)
        try:
            field.run_validation("abc")
        except serializers.ValidationError as refused:
            assert refused.detail == ["Geçerli bir sayı gerekiyor."]
        else:
            raise AssertionError("abc was taken as a number")
