"""The ``wsgisession`` command: ``clearsessions`` and ``createtable``, each with ``--settings SOURCE``."""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .engines import build_backend, import_path
from .errors import ConfigurationError, StoreError
from .settings import Settings

if TYPE_CHECKING:
    from .stores.sql import SqlStore

_SOURCE_HELP = "the settings: package.module:NAME (the dict the app passes to the middleware), or a .json/.toml file"
#: The engines whose sessions live in a SQL table (``SESSION_DB_URL``, ``SESSION_DB_TABLE``).
SQL_ENGINES = ("db", "cached_db")


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


class ProgressLine:
    """A progress callback: ``deleted 12,000 expired sessions…`` rewritten in place on a terminal.

    Writes nothing when ``stream`` is not a terminal, so cron mails carry the final count only.
    Call :meth:`finish` before anything else is printed.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.shown = False

    def __call__(self, deleted: int) -> None:
        if self.enabled:
            self.stream.write(f"\rdeleted {deleted:,} expired sessions…")
            self.stream.flush()
            self.shown = True

    def finish(self) -> None:
        """End the progress line, if one was shown."""
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False


def clearsessions(settings: Settings, batch_size: int | None = None,
                  progress: Callable[[int], object] | None = None) -> str:
    """Delete expired sessions; return what to tell the user.

    The SQL engines delete ``batch_size`` rows per statement (default :data:`~.sql.BATCH_SIZE`)
    and call ``progress`` with the count so far after each batch; other engines ignore both.
    """
    if settings.engine == "cache" and settings.cache_url.startswith("memory:"):
        return "The memory cache lives inside each server process; there is nothing to clear from here."
    if settings.engine in SQL_ENGINES:
        # cached_db's cache expires its entries by itself (a memory cache would be this process's own).
        deleted: int | None = _clear_sql(settings, time.time(), batch_size, progress)
    else:
        deleted = build_backend(settings).clear_expired(time.time())
    if deleted is None:
        return f"The {settings.engine} engine's store expires sessions by itself; nothing to delete."
    return f"Deleted {deleted} expired session{'s' if deleted != 1 else ''}."


def createtable(settings: Settings, sql_only: bool = False) -> str:
    """Create the SQL engines' session table and its indexes if missing; return what to tell the user.

    With ``sql_only``, return the DDL instead, compiled for the URL's dialect, touching no database.
    """
    if settings.engine not in SQL_ENGINES:
        return f"The {settings.engine} engine keeps sessions in no SQL table; there is nothing to create."
    store = _sql_store(settings)
    if sql_only:
        return store.create_table_sql().rstrip("\n")
    created = store.create_table()
    where = f"{store.table.name} in {store.url.render_as_string(hide_password=True)}"
    return f"Created table {where}" if created else f"Table {where} already exists"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 store failure, 2 bad settings)."""
    args = _parser().parse_args(argv)
    progress = ProgressLine(sys.stderr)
    try:
        settings = Settings.from_mapping(load_settings_source(args.settings))
        if args.command == "createtable":
            message = createtable(settings, sql_only=args.sql)
        else:
            try:
                message = clearsessions(settings, args.batch_size, progress)
            finally:
                progress.finish()
    except (ConfigurationError, ValueError, OSError) as exc:
        print(f"wsgisession: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"wsgisession: {exc}", file=sys.stderr)
        return 1
    print(message)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wsgisession", description="Manage wsgisession session stores.")
    commands = parser.add_subparsers(dest="command", required=True)
    clear = commands.add_parser("clearsessions", help="delete expired sessions from the configured store")
    clear.add_argument("--settings", required=True, metavar="SOURCE", help=_SOURCE_HELP)
    clear.add_argument("--batch-size", type=_positive_int, metavar="N",
                       help="db and cached_db engines: rows deleted per statement (default 500)")
    create = commands.add_parser("createtable", help="create the session table of the db or cached_db engine")
    create.add_argument("--settings", required=True, metavar="SOURCE", help=_SOURCE_HELP)
    create.add_argument("--sql", action="store_true",
                        help="print the CREATE TABLE and CREATE INDEX statements instead of running them")
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1, not {text!r}")
    return value


def _sql_store(settings: Settings) -> SqlStore:
    # Imported here: SQLAlchemy is loaded only by commands that use it.
    from .stores.sql import SqlStore

    return SqlStore.from_settings(settings)


def _clear_sql(settings: Settings, now: float, batch_size: int | None,
               progress: Callable[[int], object] | None) -> int:
    from .stores.sql import BATCH_SIZE

    store = _sql_store(settings)
    try:
        return store.clear_expired(now, batch_size or BATCH_SIZE, progress)
    finally:
        store.close()
