"""From a ``SESSION_DB_URL`` to an engine ready for :class:`~.sql.SqlStore`: its table made, its statements compiled."""

from __future__ import annotations

import os
import time
import urllib.parse
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import URL, Dialect, Engine
from sqlalchemy.exc import ArgumentError, DisconnectionError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from ...errors import ConfigurationError, SettingProblem
from . import _table
from ._queries import Queries

#: How long a SQLite connection waits for another process's write lock, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 10_000

_DIALECTS = ("sqlite", "postgresql", *_table.MYSQL)


class Database(NamedTuple):
    """An engine, the statements compiled for it, and its driver's exception classes."""

    engine: Engine
    queries: Queries
    #: What the driver raises for any failure, and for a duplicate key.
    error: type[Exception]
    duplicate: type[Exception]


#: The driver of a URL that names none (``postgres://``, ``mysql://``…): the one the project's extra installs.
DEFAULT_DRIVERS = {"postgres": "postgresql+psycopg", "postgresql": "postgresql+psycopg",
                   "mysql": "mysql+pymysql", "mariadb": "mariadb+pymysql"}
#: The pip install that brings each backend's default driver.
INSTALL_HINTS = {"postgresql": "pip install 'wsgi-session[postgres]'", "mysql": "pip install 'wsgi-session[mysql]'",
                 "mariadb": "pip install 'wsgi-session[mysql]'"}
#: The distribution to pip install for a driver module of another name (``pip install MySQLdb`` finds nothing).
PIP_NAMES = {"MySQLdb": "mysqlclient", "mysql": "mysql-connector-python"}


def parse_url(url: str) -> URL:
    """The URL, if it names a SQLite file or a PostgreSQL, MySQL or MariaDB database whose driver is installed.

    ``postgres://`` and ``postgresql://`` get psycopg (3), ``mysql://`` and ``mariadb://``
    PyMySQL (the drivers of the ``postgres`` and ``mysql`` extras); an explicit
    ``+driver`` is kept. Anything else, or a driver that cannot be imported, is a
    :class:`ConfigurationError` naming ``SESSION_DB_URL`` (and the ``pip install``).
    """
    try:
        parsed: URL | None = _with_default_driver(sa.make_url(url))
    except ArgumentError:
        parsed = None
    if parsed is None or parsed.get_backend_name() not in _DIALECTS:
        shown = parsed.render_as_string(hide_password=True) if parsed is not None else "a value that is not a URL"
        raise ConfigurationError([SettingProblem(
            "SESSION_DB_URL", "a SQLAlchemy URL for SQLite, PostgreSQL, MySQL or MariaDB", shown)])
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ConfigurationError([SettingProblem(
            "SESSION_DB_URL", "a SQLite file (an in-memory database is private to one connection)", url)])
    _require_driver(parsed)
    _require_writable_folder(parsed)
    return parsed


def _require_writable_folder(url: URL) -> None:
    """Refuse a SQLite file the process could not write (nor its ``-wal`` and ``-shm`` files beside it).

    A relative path is taken from the working directory, which a service manager sets to ``/``.
    """
    if url.get_backend_name() != "sqlite" or url.database is None or _is_uri(url):
        return
    path = os.path.abspath(url.database)
    folder = os.path.dirname(path)
    relative = "" if os.path.isabs(url.database) else f", relative to the working directory {os.getcwd()}"
    if not os.path.isdir(folder):
        why = f"the folder {folder} does not exist"
    elif not os.access(folder, os.W_OK | os.X_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        why = f"the user the app runs as (uid {os.geteuid()}) cannot write {path if os.path.exists(path) else folder}"
    else:
        return
    raise ConfigurationError([SettingProblem(
        "SESSION_DB_URL", "a SQLite file in a folder the app's user can write, by an absolute path"
                          " (sqlite:////var/lib/myapp/sessions.sqlite3)",
        f"{url.render_as_string(hide_password=True)} ({why}{relative})")])


def _is_uri(url: URL) -> bool:
    """A ``file:`` URI names its file in SQLite's own syntax; SQLite opens it as it is."""
    return str(url.query.get("uri", "")).lower() in ("true", "1")


def _with_default_driver(url: URL) -> URL:
    backend, _, driver = url.drivername.partition("+")
    if backend not in DEFAULT_DRIVERS:
        return url
    return url.set(drivername=f"{DEFAULT_DRIVERS[backend].partition('+')[0]}+{driver}" if driver
                   else DEFAULT_DRIVERS[backend])


def _require_driver(url: URL) -> None:
    """Import the URL's driver now, so that a missing one stops the start, not the first request."""
    shown = url.render_as_string(hide_password=True)
    try:
        url.get_dialect().import_dbapi()
    except ArgumentError:  # SQLAlchemy knows no such +driver
        raise ConfigurationError([SettingProblem(
            "SESSION_DB_URL", f"a driver SQLAlchemy knows for {url.get_backend_name()}", shown)]) from None
    except ImportError as exc:
        hint, default = INSTALL_HINTS.get(url.get_backend_name()), DEFAULT_DRIVERS.get(url.get_backend_name(), "")
        if hint and url.drivername == default:
            fix = hint
        else:
            install = f"pip install {PIP_NAMES.get(exc.name or '', exc.name)}"
            fix = f"{install}, or drop '+{url.get_driver_name()}' to use {default} ({hint})" if hint else install
        raise ConfigurationError([SettingProblem(
            "SESSION_DB_URL", f"a URL whose database driver is installed ({fix})",
            f"{shown} (the driver {exc.name!r} is not installed)")]) from None


def open_database(url: URL, table: sa.Table, create: bool = True) -> Database:
    """A new engine, with ``table`` made if missing and ``create``; raises SQLAlchemyError, the engine disposed of."""
    engine = create_engine(url)
    try:
        if create:
            _table.create(engine, table)
    except SQLAlchemyError:
        engine.dispose()
        raise
    driver = engine.dialect.loaded_dbapi
    return Database(engine, Queries(table, engine.dialect), driver.Error, driver.IntegrityError)


def create_engine(url: URL) -> Engine:
    """An engine whose connections are in autocommit; PostgreSQL's and MySQL's are pinged after being idle.

    A SQLite file that does not exist yet is made here, mode 0600 (OSError if it cannot be).
    """
    # Every statement stands alone (the version guard keeps saves consistent), so autocommit
    # saves the BEGIN/COMMIT round trips, and a connection going back to the pool has no
    # transaction to roll back (the default reset would cost MySQL a round trip each time).
    if url.get_backend_name() == "sqlite":
        _create_private_file(url)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None)
    if url.get_backend_name() == "sqlite":
        sa.event.listen(engine, "connect", _configure_sqlite)
    else:
        pinger = _IdlePinger(engine.dialect)
        sa.event.listen(engine, "checkin", pinger.checked_in)
        sa.event.listen(engine, "checkout", pinger.checked_out)
    return engine


#: Seconds a pooled connection may sit unused before it is checked with a ping when next lent.
PING_AFTER_IDLE = 1.0


class _IdlePinger:
    """Pings a connection that sat idle in the pool (a restarted server has closed it), not every one.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: one more round trip per
    statement under load. A connection in steady use goes without; one that fails its
    statement anyway is dropped (see ``_statements.cursor``).
    """

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect

    def checked_in(self, _dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    def checked_out(self, dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        if time.monotonic() - record.info.get("idle_since", 0.0) < PING_AFTER_IDLE:
            return
        try:
            alive = self._dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure: the pool retries with a new connection
            raise DisconnectionError(f"an idle connection failed its ping ({type(exc).__name__})") from exc
        if not alive:
            raise DisconnectionError("an idle connection failed its ping")


def _create_private_file(url: URL) -> None:
    """Make the SQLite file, mode 0600, unless it exists: SQLite would make it 0644, readable by every account.

    SQLite gives the ``-wal``, ``-shm`` and ``-journal`` files the mode of the database
    file, so they are private too. A file that exists keeps the mode its owner gave it.
    """
    path = _uri_file(url.database) if url.database is not None and _is_uri(url) else url.database
    if path is None:
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
    except FileExistsError:
        return


def _uri_file(uri: str) -> str | None:
    """The file a ``file:`` URI names for SQLite to create; None for an in-memory or read-only database."""
    parts = urllib.parse.urlsplit(uri)
    query = urllib.parse.parse_qs(parts.query)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost") or parts.path in ("", ":memory:"):
        return None
    if query.get("mode", ["rwc"])[-1] != "rwc" or query.get("vfs") is not None:
        return None
    return urllib.parse.unquote(parts.path)


def _configure_sqlite(dbapi_connection: Any, _record: object) -> None:
    """WAL lets readers run beside the one writer; writers from other workers wait their turn."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()
