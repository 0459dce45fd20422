"""The ``wsgisession`` command: ``check``, ``clearsessions``, ``createtable`` and ``migrate``.

``SOURCE`` is read by :func:`~._settings_source.read_settings_source`, the one reader every command shares.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from ._settings_source import SOURCE_HELP, read_settings_source
from ._version import __version__
from .checks import check_settings, verdict
from .engines import build_backend
from .errors import ConfigurationError, SettingProblem, StoreError, StoreMisconfigured, UnsupportedOperation, mask_urls
from .settings import Settings

if TYPE_CHECKING:
    from .migration.ahead import Moved
    from .stores.sql import SqlStore

#: The engines whose sessions live in a SQL table (``SESSION_DB_URL``, ``SESSION_DB_TABLE``).
SQL_ENGINES = ("db", "cached_db")


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
    Raises :class:`UnsupportedOperation` for a store that can neither delete expired
    sessions nor expires them by itself: they would pile up unseen.
    """
    if settings.engine == "cache" and settings.cache_url.startswith("memory:"):
        return "The memory cache lives inside each server process; there is nothing to clear from here."
    if settings.engine in SQL_ENGINES:
        # cached_db's cache expires its entries by itself (a memory cache would be this process's own).
        deleted: int | None = _clear_sql(settings, time.time(), batch_size, progress)
    else:
        backend = build_backend(settings)
        deleted = backend.clear_expired(time.time())
        if deleted is None:
            store = getattr(backend, "store", None)
            holder = f"The store {type(store).__name__}" if store is not None else f"The {settings.engine} engine"
            return f"{holder} expires sessions by itself; nothing to delete."
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


def check(source: str) -> tuple[list[str], bool]:
    """The lines ``wsgisession check`` prints (one per check, then the verdict) and whether every check passed."""
    results = check_settings(read_settings_source(source))
    lines = [mask_urls(result.line()) for result in results]
    return [*lines, verdict(results)], all(result.ok for result in results)


def migrate(target: Settings, source: Settings | None, batch_size: int | None = None,
            progress: Callable[[Moved], object] | None = None) -> str:
    """Move every session of the engine being left (``source``, else ``target``'s SESSION_MIGRATE_FROM)
    into ``target``'s store ahead of time; return what to tell the user."""
    from .migration.ahead import BATCH_SIZE
    from .migration.ahead import migrate as migrate_ahead

    old = source or target.migrate_from
    if old is None:
        raise ConfigurationError([SettingProblem("SESSION_MIGRATE_FROM", "the engine being left, in the --to settings"
                                                 " or given with --from", "none")])
    moved = migrate_ahead(old, target, time.time(), batch_size or BATCH_SIZE, progress)
    return (f"Moved {moved.moved} session{'s' if moved.moved != 1 else ''}; deleted {moved.expired} expired;"
            f" left {moved.refused} that are not authentic or cannot be read.")


class MigrateProgress:
    """``moved 1,500 sessions…`` on stderr after each batch: in place on a terminal, a line each otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.end = "\r" if stream.isatty() else "\n"

    def __call__(self, moved: Moved) -> None:
        self.stream.write(f"moved {moved.moved:,} sessions ({moved.expired:,} expired, {moved.refused:,} refused)…"
                          f"{self.end}")
        self.stream.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    0 ok; 1 a store failure, an incapable store or a failed check; 2 bad settings or a
    misconfigured store (a wrong password, no such table). Errors go to stderr with
    every URL's password masked (:func:`~.errors.mask_urls`).
    """
    args = _parser().parse_args(argv)
    progress = ProgressLine(sys.stderr)
    try:
        if args.command == "check":
            lines, ok = check(args.settings)
            print("\n".join(lines))
            return 0 if ok else 1
        settings = Settings.from_mapping(read_settings_source(args.settings))
        if args.command == "migrate":
            source = None if not args.source else Settings.from_mapping(read_settings_source(args.source),
                                                                        engine_being_left=True)
            message = migrate(settings, source, args.batch_size, MigrateProgress(sys.stderr))
        elif args.command == "createtable":
            message = createtable(settings, sql_only=args.sql)
        else:
            try:
                message = clearsessions(settings, args.batch_size, progress)
            finally:
                progress.finish()
    except (ConfigurationError, StoreMisconfigured, ValueError, OSError) as exc:
        print(f"wsgisession: {mask_urls(str(exc))}", file=sys.stderr)
        return 2
    except (StoreError, UnsupportedOperation) as exc:
        print(f"wsgisession: {mask_urls(str(exc))}", file=sys.stderr)
        return 1
    print(message)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wsgisession", description="Manage wsgisession session stores.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    checking = commands.add_parser("check", help="connect to the configured store and verify the configuration")
    checking.add_argument("--settings", required=True, metavar="SOURCE", help=SOURCE_HELP)
    clear = commands.add_parser("clearsessions", help="delete expired sessions from the configured store")
    clear.add_argument("--settings", required=True, metavar="SOURCE", help=SOURCE_HELP)
    clear.add_argument("--batch-size", type=_positive_int, metavar="N",
                       help="db and cached_db engines: rows deleted per statement (default 500)")
    create = commands.add_parser("createtable", help="create the session table of the db or cached_db engine")
    create.add_argument("--settings", required=True, metavar="SOURCE", help=SOURCE_HELP)
    create.add_argument("--sql", action="store_true",
                        help="print the CREATE TABLE and CREATE INDEX statements instead of running them")
    move = commands.add_parser("migrate", help="move every session of the engine being left (SESSION_MIGRATE_FROM)"
                               " into the new store ahead of time; run it again to carry on")
    move.add_argument("--to", dest="settings", required=True, metavar="SOURCE",
                      help=f"the app's new settings; {SOURCE_HELP}")
    move.add_argument("--from", dest="source", metavar="SOURCE",
                      help="the settings of the engine being left (default: SESSION_MIGRATE_FROM of --to)")
    move.add_argument("--batch-size", type=_positive_int, metavar="N", help="sessions read per batch (default 500)")
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1, not {text!r}")
    return value


def _sql_store(settings: Settings, auto_create: bool = True) -> SqlStore:
    # Imported here: SQLAlchemy is loaded only by commands that use it.
    from .stores.sql import SqlStore

    return SqlStore(settings.db_url, settings.db_table, auto_create=auto_create)


def _clear_sql(settings: Settings, now: float, batch_size: int | None,
               progress: Callable[[int], object] | None) -> int:
    from .stores.sql import BATCH_SIZE

    store = _sql_store(settings, auto_create=False)  # a missing table is a typo or a step skipped: say so
    try:
        return store.clear_expired(now, batch_size or BATCH_SIZE, progress)
    finally:
        store.close()
