"""Every test SECURITY.md names as holding a promise exists.

A row's "tested by" cell names tests as `tests/<path>.py::test_name`, a whole file as
`tests/<path>.py`, or abbreviates `::test_name` (also `…::test_name`) for the file named
before it. A parametrized id counts by its base name.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECURITY = ROOT / "SECURITY.md"
_NODE = re.compile(r"`(?:…|\.\.\.)?(tests/[\w/]+\.py)?(?:::(\w+)(?:\[[^\]`]*\])?)?`")


def named_tests(text: str) -> list[tuple[str, str | None]]:
    """(file, test name or None) for each test a table row of ``text`` names, in order."""
    found: list[tuple[str, str | None]] = []
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3:
            continue
        current: str | None = None
        for match in _NODE.finditer(cells[-1]):
            path, name = match.group(1), match.group(2)
            if path is None and name is None:
                continue
            current = path or current
            assert current is not None, f"{match.group(0)} abbreviates no file named before it: {line[:80]}"
            found.append((current, name))
    return found


@cache
def collected_names(path: str) -> frozenset[str]:
    """Names of the test functions pytest collects from ``path`` (module level or in a Test class)."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            names |= {item.name for item in node.body if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)}
    return frozenset(name for name in names if name.startswith("test"))


def test_security_md_names_tests_that_exist() -> None:
    named = named_tests(SECURITY.read_text(encoding="utf-8"))
    assert len(named) > 40, "the tables' test names were not found: has SECURITY.md's layout changed?"
    missing = [f"{path}::{name}" if name else path for path, name in named
               if not (ROOT / path).is_file() or (name is not None and name not in collected_names(path))]
    assert not missing, f"SECURITY.md names tests that do not exist: {missing}"


def test_an_abbreviated_name_belongs_to_the_file_named_before_it() -> None:
    row = "| p | h | `tests/a.py::test_x`, `::test_y`, `…::test_z[p1]`, `tests/b.py`, `python -m x` |"
    assert named_tests(row) == [("tests/a.py", "test_x"), ("tests/a.py", "test_y"),
                                ("tests/a.py", "test_z"), ("tests/b.py", None)]
