"""``--settings SOURCE``: the settings dict a command reads, from a module or a file (one reader for every command).

SOURCE is ``package.module:NAME``, a dict in a module importable from the working
directory (the one the app passes to the middleware), or the path of a ``.json`` or
``.toml`` file holding the same keys. Every error says which form was expected.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import WSGISessionError

#: The forms of SOURCE, in words, as ``--help`` and the errors show them.
SOURCE_FORMS = ("package.module:NAME (a settings dict in a module importable from the working directory)"
                " or the path of a .json or .toml file")
SOURCE_HELP = f"the settings the app passes to the middleware: {SOURCE_FORMS}"


class SourceError(WSGISessionError, ValueError):
    """SOURCE cannot be read as settings; the message names the form that was expected."""

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        super().__init__(f"--settings {source}: {problem}")


def read_settings_source(source: str) -> Mapping[str, Any]:
    """The settings dict ``source`` names; :class:`SourceError` saying what was expected otherwise.

    Puts the working directory first on ``sys.path`` (as gunicorn and ``manage.py`` do),
    so ``myapp.settings:SESSIONS`` and a custom ``SESSION_ENGINE`` import from it.
    """
    import_from_working_directory()
    suffix = Path(source).suffix.lower()
    if suffix in (".json", ".toml"):
        loaded = _read_file(source, suffix)
    elif ":" in source:
        loaded = _read_module(source)
    else:
        raise SourceError(source, f"expected {SOURCE_FORMS}")
    if not isinstance(loaded, Mapping):
        raise SourceError(source, f"does not hold a settings dict (expected a dict of settings keys,"
                                  f" got a {type(loaded).__name__})")
    return loaded


def import_from_working_directory() -> None:
    """Put the working directory first on ``sys.path`` if it is not there yet."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


def _read_file(source: str, suffix: str) -> Any:
    kind = suffix[1:].upper()
    path = Path(source)
    if not path.is_file():
        raise SourceError(source, f"expected the path of a {kind} file, but there is no file there")
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text) if suffix == ".json" else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise SourceError(source, f"expected a {kind} file of settings, but it cannot be read ({exc})") from exc


def _read_module(source: str) -> Any:
    module_name, _, name = source.partition(":")
    expected = "expected package.module:NAME, a settings dict in a module importable from the working directory"
    if not module_name or not name.isidentifier():
        raise SourceError(source, expected)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SourceError(source, f"{expected} ({os.getcwd()}), but {exc}") from exc
    if not hasattr(module, name):
        raise SourceError(source, f"{expected}, but {module_name} has no {name}")
    return getattr(module, name)
