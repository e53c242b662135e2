"""docs/events.md is generated from the event registry, and the committed file is current."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.core.events import event_types

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_event_catalogue_is_what_the_registry_says():
    """Fails when an app adds or changes an event type without `manage.py events_catalogue`."""
    out = StringIO()
    call_command("events_catalogue", "--check", stdout=out)
    assert "up to date" in out.getvalue()


def test_every_registered_type_is_in_the_catalogue_with_its_subject():
    text = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    assert event_types()
    for name, event in event_types().items():
        assert f"\n## {name}\n" in text
        assert f"`{event.subject}`" in text


def test_check_fails_on_a_stale_file_and_writing_fixes_it(tmp_path):
    stale = tmp_path / "events.md"
    stale.write_text("# Event catalogue\n\n(old)\n", encoding="utf-8")
    with pytest.raises(CommandError, match="events_catalogue"):
        call_command("events_catalogue", "--check", "--output", str(stale), stdout=StringIO())
    call_command("events_catalogue", "--output", str(stale), stdout=StringIO())
    call_command("events_catalogue", "--check", "--output", str(stale), stdout=StringIO())
    assert stale.read_text(encoding="utf-8") == (ROOT / "docs" / "events.md").read_text(
        encoding="utf-8"
    )


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("a-directory", "is a directory"),
        ("missing/dir/events.md", "no directory"),
    ],
)
def test_a_bad_output_path_is_a_one_line_error_and_creates_nothing(tmp_path, target, message):
    (tmp_path / "a-directory").mkdir()
    with pytest.raises(CommandError, match=message):
        call_command("events_catalogue", "--output", str(tmp_path / target), stdout=StringIO())
    assert not (tmp_path / "missing").exists()


def test_check_of_a_missing_file_says_it_is_missing(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command(
            "events_catalogue", "--check", "--output", str(tmp_path / "x.md"), stdout=StringIO()
        )
