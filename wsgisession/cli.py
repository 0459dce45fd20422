"""The ``wsgisession`` command: ``wsgisession clearsessions --settings SOURCE``."""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .engines import build_backend, import_path
from .errors import ConfigurationError, StoreError
from .settings import Settings

_SOURCE_HELP = "the settings: package.module:NAME (the dict the app passes to the middleware), or a .json/.toml file"


def load_settings_source(source: str) -> Mapping[str, Any]:
    """Read a settings dict from ``package.module:NAME`` or a ``.json``/``.toml`` file."""
    path = Path(source)
    if path.suffix in (".json", ".toml"):
        if not path.is_file():
            raise FileNotFoundError(f"no settings file at {source}")
        text = path.read_text(encoding="utf-8")
        loaded = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    elif ":" in source:
        loaded = import_path("--settings", source)
    else:
        raise ValueError(f"--settings takes package.module:NAME or a .json/.toml file, not {source!r}")
    if not isinstance(loaded, Mapping):
        raise ValueError(f"{source} does not hold a settings dict")
    return loaded


def clearsessions(settings: Settings) -> str:
    """Delete expired sessions; return what to tell the user."""
    if settings.engine == "cache" and settings.cache_url.startswith("memory:"):
        return "The memory cache lives inside each server process; there is nothing to clear from here."
    deleted = build_backend(settings).clear_expired(time.time())
    if deleted is None:
        return f"The {settings.engine} engine's store expires sessions by itself; nothing to delete."
    return f"Deleted {deleted} expired session{'s' if deleted != 1 else ''}."


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 store failure, 2 bad settings)."""
    parser = argparse.ArgumentParser(prog="wsgisession", description="Manage wsgisession session stores.")
    commands = parser.add_subparsers(dest="command", required=True)
    clear = commands.add_parser("clearsessions", help="delete expired sessions from the configured store")
    clear.add_argument("--settings", required=True, metavar="SOURCE", help=_SOURCE_HELP)
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_mapping(load_settings_source(args.settings))
        print(clearsessions(settings))
    except (ConfigurationError, ValueError, OSError) as exc:
        print(f"wsgisession: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"wsgisession: {exc}", file=sys.stderr)
        return 1
    return 0
