"""Sphinx extension: the ``settings-table`` directive, generated from wsgisession/settings.py at build time.

Each key of ``_TABLE`` gets one row: its default and type from the ``Settings`` field it fills,
and its meaning from the ``#:`` comment above that field (or above the key's entry in ``_TABLE``
for the keys folded into SESSION_REDIS_URL). A key without a comment, or a comment that names
another key, stops the build, so the page cannot drift from the code.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

from wsgisession import settings as settings_module

_FIELD = re.compile(r"^    (\w+): [^=]+ = (.+)$")
_FOLDED_ENTRY = re.compile(r'^    "(\w+)": \(None,')


def comment_docs(source: str) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(field -> doc, field -> default's source text, folded key -> doc) from the ``#:`` comments."""
    field_docs: dict[str, str] = {}
    defaults: dict[str, str] = {}
    folded_docs: dict[str, str] = {}
    block: list[str] = []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("#:"):
            block.append(stripped[2:].strip())
            continue
        if field := _FIELD.match(line):
            defaults[field[1]] = field[2]
            if block:
                field_docs[field[1]] = " ".join(block)
        elif (entry := _FOLDED_ENTRY.match(line)) and block:
            folded_docs[entry[1]] = " ".join(block)
        block = []
    return field_docs, defaults, folded_docs


def meaning(key: str, doc: str | None) -> str:
    """The text after ``KEY:`` in a comment; an error if the comment is missing or names another key."""
    prefix = f"{key}:"
    if doc is None or not doc.startswith(prefix) or not doc[len(prefix):].strip():
        raise ExtensionError(f"settings reference: {key} has no `#: {key}: what it does` comment in "
                             f"wsgisession/settings.py (found {doc!r})")
    return doc[len(prefix):].strip()


def table_rows() -> list[tuple[str, str, str, str]]:
    """(key, type, default, meaning) for every key of the settings table, in the table's order."""
    field_docs, defaults, folded_docs = comment_docs(Path(settings_module.__file__).read_text())
    types = {field.name: str(field.type) for field in dataclasses.fields(settings_module.Settings)}
    rows = []
    for key, (attr, _parser) in settings_module._TABLE.items():
        if attr is None:
            rows.append((key, "", "folded into `SESSION_REDIS_URL`", meaning(key, folded_docs.get(key))))
        else:
            rows.append((key, types[attr], defaults[attr], meaning(key, field_docs.get(attr))))
    return rows


def render() -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key, type_, default, text in table_rows():
        shown_type = f"`{cell(type_)}`" if type_ else ""
        shown_default = f"`{cell(default)}`" if not default.startswith("folded") else default
        lines.append(f"| `{key}` | {shown_type} | {shown_default} | {cell(text)} |")
    return "\n".join(lines) + "\n"


class SettingsTable(SphinxDirective):
    """``settings-table``: the table of every settings key, as Markdown parsed in place."""

    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(settings_module.__file__)  # a changed comment rebuilds the page
        container = nodes.container()
        self.state.nested_parse(StringList(render().splitlines(), source="wsgisession/settings.py"),
                                self.content_offset, container)
        return list(container.children)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("settings-table", SettingsTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
