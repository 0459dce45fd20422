"""The ``db`` engine: sessions in one table of a SQL database (SQLite, PostgreSQL, MySQL/MariaDB).

Use it when sessions must survive restarts and be shared by every worker without running
another server: a SQLite file on one host (several gunicorn workers may write it), or the
PostgreSQL/MySQL database the application already has. Prefer ``redis`` or ``cached_db``
when every request touches the session and the database is busy. Expired rows stay until
``wsgisession clearsessions`` (:meth:`SqlStore.clear_expired`) removes them.

Saves are optimistic: a guarded ``UPDATE … WHERE version = :loaded`` in one statement, and
on a conflict a re-read and merge, so concurrent requests changing different keys keep each
other's writes without holding row locks.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError, StatementError

from ..errors import ConfigurationError, SettingProblem, StoreError
from ..settings import Settings
from .base import Change, Record

logger = logging.getLogger("wsgisession")

#: How many times a save re-reads and merges before giving up with StoreError.
MAX_ATTEMPTS = 50
#: Rows deleted per statement by :meth:`SqlStore.clear_expired` (under SQLite's old 999-variable limit).
BATCH_SIZE = 500
#: How long a SQLite connection waits for another process's write lock, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 10_000

_MYSQL = ("mysql", "mariadb")
_DIALECTS = ("sqlite", "postgresql", *_MYSQL)


def session_table(name: str, metadata: sa.MetaData) -> sa.Table:
    """The session table: one row per record, keyed by the record id (never the cookie key)."""
    return sa.Table(
        name, metadata,
        sa.Column("session_key", sa.String(64), primary_key=True),
        sa.Column("session_data", sa.Text().with_variant(mysql.LONGTEXT(), *_MYSQL), nullable=False),
        sa.Column("expire_date", sa.Double(), nullable=False, index=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        mysql_charset="utf8mb4",
    )


class SqlStore:
    """Records in a SQL table through SQLAlchemy Core; thread-safe and safe across processes.

    Nothing touches the database until the first call: the engine is created and the table
    (with its expiry index) created if missing then, once. Database failures raise
    :class:`StoreError` whose message holds neither SQL parameters nor the URL's password.
    """

    def __init__(self, url: str, table: str = "wsgisession") -> None:
        self.url = _parse_url(url)
        self.table = session_table(table, sa.MetaData())
        self._engine: Engine | None = None
        self._pid = 0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> SqlStore:
        """The store ``SESSION_DB_URL`` and ``SESSION_DB_TABLE`` name."""
        return cls(settings.db_url, settings.db_table)

    def load(self, record_id: str) -> Record | None:
        with self._connection("load") as connection:
            return self._fetch(connection, record_id)

    def save(self, record_id: str, change: Change) -> bool:
        with self._connection("save") as connection:
            if change.replace and change.create:
                connection.execute(self._upsert(record_id, change))
                return True
            if change.replace:
                return self._write(connection, record_id, change.set, change, version=None)
            return self._merge(connection, record_id, change)

    def delete(self, record_id: str) -> None:
        with self._connection("delete") as connection:
            connection.execute(sa.delete(self.table).where(self.table.c.session_key == record_id))

    def clear_expired(self, now: float, batch_size: int = BATCH_SIZE) -> int:
        """Delete rows that expired before ``now``, ``batch_size`` per statement; return how many."""
        columns = self.table.c
        find = sa.select(columns.session_key).where(columns.expire_date < now).limit(batch_size)
        total = 0
        with self._connection("clear expired sessions") as connection:
            while keys := connection.execute(find).scalars().all():
                # Each DELETE commits on its own; re-checking the expiry spares a row saved meanwhile.
                doomed = sa.delete(self.table).where(columns.session_key.in_(keys), columns.expire_date < now)
                total += connection.execute(doomed).rowcount
                if len(keys) < batch_size:
                    break
        return total

    def close(self) -> None:
        """Close the pooled connections; a later call opens new ones."""
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    def _merge(self, connection: Connection, record_id: str, change: Change) -> bool:
        base, version = change.base, change.version
        for _ in range(MAX_ATTEMPTS):
            if base is None or version is None:
                current = self._fetch(connection, record_id)
                if current is None:
                    if not change.create:
                        return False  # deleted meanwhile (logout): do not bring it back
                    if self._insert(connection, record_id, change):
                        return True
                    continue
                base, version = current.data, current.version
            if self._write(connection, record_id, change.apply_to(base), change, version):
                return True
            base = version = None
        raise StoreError("db", "save", f"the record changed under each of {MAX_ATTEMPTS} attempts to merge")

    def _write(self, connection: Connection, record_id: str, data: Mapping[str, str], change: Change,
               version: int | None) -> bool:
        """UPDATE the row (only at ``version`` unless it is None); True if a row was written."""
        columns = self.table.c
        where = [columns.session_key == record_id]
        if version is not None:
            where.append(columns.version == version)
        statement = sa.update(self.table).where(*where).values(
            session_data=_encode(change.meta, data), expire_date=change.expires_at, version=columns.version + 1)
        return bool(connection.execute(statement).rowcount)

    def _insert(self, connection: Connection, record_id: str, change: Change) -> bool:
        """INSERT a new row; False if another request created it first."""
        values = _row(record_id, change, change.apply_to({}))
        try:
            connection.execute(sa.insert(self.table).values(**values))
        except IntegrityError:
            return False
        return True

    def _upsert(self, record_id: str, change: Change) -> sa.Executable:
        """One INSERT … ON CONFLICT / ON DUPLICATE KEY statement that replaces the record."""
        values = _row(record_id, change, change.set)
        bumped = self.table.c.version + 1
        backend = self.url.get_backend_name()
        if backend in _MYSQL:
            on_duplicate = mysql.insert(self.table).values(**values)
            return on_duplicate.on_duplicate_key_update(
                session_data=on_duplicate.inserted.session_data, expire_date=on_duplicate.inserted.expire_date,
                version=bumped)
        on_conflict = (postgresql.insert if backend == "postgresql" else sqlite.insert)(self.table).values(**values)
        return on_conflict.on_conflict_do_update(
            index_elements=[self.table.c.session_key],
            set_={"session_data": on_conflict.excluded.session_data, "expire_date": on_conflict.excluded.expire_date,
                  "version": bumped})

    def _fetch(self, connection: Connection, record_id: str) -> Record | None:
        columns = self.table.c
        row = connection.execute(
            sa.select(columns.session_data, columns.expire_date, columns.version)
            .where(columns.session_key == record_id)).first()
        if row is None:
            return None
        decoded = _decode(row.session_data)
        if decoded is None:
            logger.warning("stored session data in the %s table is not valid; treating the session as missing",
                           self.table.name)
            return None
        meta, data = decoded
        return Record(data, meta, float(row.expire_date), int(row.version))

    @contextmanager
    def _connection(self, operation: str) -> Iterator[Connection]:
        """A pooled connection in autocommit mode; SQLAlchemy errors become StoreError."""
        try:
            with self._ready_engine().connect() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise StoreError("db", operation, self._describe(exc)) from exc

    def _ready_engine(self) -> Engine:
        """The engine, created with the table on first use; a forked worker gets fresh connections."""
        if self._engine is not None and self._pid == os.getpid():
            return self._engine
        with self._lock:
            if self._engine is None:
                engine = _create_engine(self.url)
                try:
                    _create_table(engine, self.table)
                except SQLAlchemyError:
                    engine.dispose()
                    raise
                self._engine = engine
            elif self._pid != os.getpid():
                # Connections opened before a fork belong to the parent (SQLAlchemy "pooling
                # and multiprocessing"): drop them from this process's pool without closing them.
                self._engine.dispose(close=False)
            self._pid = os.getpid()
            return self._engine

    def _describe(self, exc: SQLAlchemyError) -> str:
        """The driver's error class and first line: SQLAlchemy's own text lists the parameters."""
        cause: BaseException = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
        lines = str(cause).strip().splitlines()
        detail = f"{type(cause).__name__}: {lines[0] if lines else 'no detail'}"[:300]
        if self.url.password:
            detail = detail.replace(str(self.url.password), "***")
        return detail


def _parse_url(url: str) -> URL:
    try:
        parsed = sa.make_url(url)
    except ArgumentError:
        parsed = None
    if parsed is None or parsed.get_backend_name() not in _DIALECTS:
        shown = parsed.render_as_string(hide_password=True) if parsed is not None else "a value that is not a URL"
        raise ConfigurationError([SettingProblem(
            "SESSION_DB_URL", "a SQLAlchemy URL for SQLite, PostgreSQL, MySQL or MariaDB", shown)])
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ConfigurationError([SettingProblem(
            "SESSION_DB_URL", "a SQLite file (an in-memory database is private to one connection)", url)])
    return parsed


def _create_engine(url: URL) -> Engine:
    # Every statement stands alone (the version guard keeps saves consistent), so autocommit
    # saves the BEGIN/COMMIT round trips.
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    sa.event.listen(engine, "connect", _configure_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: object) -> None:
    """WAL lets readers run beside the one writer; writers from other workers wait their turn."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _create_table(engine: Engine, table: sa.Table) -> None:
    # Another process may create the table between the check and the CREATE; a second pass sees it.
    for attempt in (1, 2):
        try:
            table.create(engine, checkfirst=True)
            return
        except SQLAlchemyError:
            if attempt == 2:
                raise


def _row(record_id: str, change: Change, data: Mapping[str, str]) -> dict[str, Any]:
    return {"session_key": record_id, "session_data": _encode(change.meta, data),
            "expire_date": change.expires_at, "version": 1}


def _encode(meta: str, data: Mapping[str, str]) -> str:
    return json.dumps({"m": meta, "d": dict(data)}, ensure_ascii=False, separators=(",", ":"))


def _decode(text: object) -> tuple[str, dict[str, str]] | None:
    """``(meta, data)`` from a ``session_data`` value, or None if it is not what we write."""
    try:
        document = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    meta, data = document.get("m"), document.get("d")
    if not isinstance(meta, str) or not isinstance(data, dict):
        return None
    if not all(isinstance(value, str) for value in data.values()):
        return None
    return meta, data
