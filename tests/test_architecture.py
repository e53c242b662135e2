"""The app graph is a DAG: the import-linter contracts of pyproject.toml (``[tool.importlinter]``,
the layers of DESIGN.md's Layout) hold, and no ``apps.*`` import hides inside a function without
a comment saying why it cannot be at the top."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# an indented import of our own code; the comment saying why sits on the line or just above
NESTED_IMPORT = re.compile(r"^(\s+)(from apps\.\S+ import|import apps\.)")


def test_the_import_contracts_hold():
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_no_import_of_our_apps_hides_in_a_function_without_saying_why():
    unexplained = []
    for path in sorted([*ROOT.glob("apps/**/*.py"), *ROOT.glob("config/**/*.py")]):
        if "migrations" in path.parts:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            match = NESTED_IMPORT.match(line)
            if not match:
                continue
            indent = match.group(1)
            # the comment: on the line, or on a line of the same indentation above the block
            above = number - 1
            while above >= 0 and NESTED_IMPORT.match(lines[above]):
                above -= 1
            explained = "#" in line or (above >= 0 and lines[above].startswith(indent + "#"))
            if not explained:
                unexplained.append(f"{path.relative_to(ROOT)}:{number + 1}: {line.strip()}")
    assert not unexplained, "imports inside functions without a reason:\n" + "\n".join(unexplained)
