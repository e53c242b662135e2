"""The README is a front door that stays true: its Layout names every app that exists and no
app that does not, and every relative link of the README and docs/ leads to a file."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _layout() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## Layout", 1)[1].split("```")[1]


def test_the_layout_names_exactly_the_apps_that_exist():
    existing = {p.name for p in (ROOT / "apps").iterdir() if (p / "apps.py").exists()}
    listed = set(re.findall(r"^apps/(\w+)/", _layout(), flags=re.M))
    assert listed == existing


def test_the_layout_names_only_top_level_paths_that_exist():
    for name in re.findall(r"^([\w.]+/)", _layout(), flags=re.M):
        assert (ROOT / name).exists(), name


def test_the_readme_stays_a_front_door():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= 220, f"README.md has {lines} lines: move the details to docs/"


def test_every_relative_link_leads_to_a_file():
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            assert (doc.parent / target).exists(), f"{doc.name}: {target}"


def test_every_file_the_docs_name_exists():
    """A path in backticks (`apps/pricing/engine.py`) names a file or folder of the tree."""
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for path in re.findall(r"`((?:apps|config|tests|bench|templates|static)/[\w./]*)`", text):
            assert (ROOT / path).exists(), f"{doc.name}: {path}"
