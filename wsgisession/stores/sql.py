"""The ``db`` engine: sessions in one table of a SQL database (SQLite, PostgreSQL, MySQL/MariaDB).

Use it when sessions must survive restarts and be shared by every worker without running
another server: a SQLite file on one host (several gunicorn workers may write it), or the
PostgreSQL/MySQL database the application already has. Prefer ``redis`` or ``cached_db``
when every request touches the session and the database is busy. Expired rows stay until
``wsgisession clearsessions`` (:meth:`SqlStore.clear_expired`) removes them. The table is created
on first use, or ahead of time by ``wsgisession createtable`` (``--sql`` prints its DDL instead).

Saves are optimistic: a guarded ``UPDATE … WHERE version = :loaded`` in one statement, and
on a conflict a re-read and merge, so concurrent requests changing different keys keep each
other's writes without holding row locks.

Session locks (``SESSION_LOCKING``) are leases kept in the row itself (see ``_sql_locks``):
a save carrying the lock's token is fenced, so a request that outlived its lease saves nothing.

Each row also names its user (``session.set_user``) in an indexed column (see ``_sql_users``),
so "log out everywhere" reads or deletes a user's sessions without scanning the table.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError, StatementError
from sqlalchemy.schema import CreateIndex, CreateTable

from ..errors import ConfigurationError, LockLostError, LockTimeoutError, SettingProblem, StoreError
from ..settings import Settings
from . import _sql_locks, _sql_users
from .base import Change, CorruptRecord, Record

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
        _sql_users.column(),
        *_sql_locks.columns(),
        # The MariaDB dialect (mariadb:// URLs) reads its own prefix only.
        mysql_charset="utf8mb4", mariadb_charset="utf8mb4",
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
            row = connection.execute(self._select(record_id)).first()
        if row is None:
            return None
        decoded = _decode(row.session_data)
        if decoded is None:
            raise CorruptRecord(f"a row of the {self.table.name} table does not hold session data")
        meta, data = decoded
        return Record(data, meta, float(row.expire_date), int(row.version))

    def save(self, record_id: str, change: Change) -> bool:
        return self.save_returning(record_id, change) is not None

    def save_returning(self, record_id: str, change: Change) -> Record | None:
        """Apply ``change`` as :meth:`save` does; return the record now stored, or None where it returns False.

        The record carries the version the row holds after this write, so a cache may keep it
        whole. Raises :class:`LockLostError` if ``change.lock_token`` no longer holds the lock, and
        ValueError, before anything is written, if ``change.user_id`` is over 255 characters or holds a NUL.
        """
        if change.user_id is not None:
            _sql_users.checked(change.user_id)
        with self._connection("save") as connection:
            if change.replace and change.create and change.lock_token is None:
                # A new session: its key is fresh, so no other request can hold a lock on it, and
                # the INSERT leaves the lock columns empty. A row there after all is replaced by
                # the guarded merge, which never writes the lock columns either.
                created = self._insert(connection, record_id, change)
                if created is not None:
                    return created
            return self._merge(connection, record_id, change)

    def touch(self, record_id: str, expires_at: float) -> bool:
        """Move the expiry only; the version stays, since the data did not change."""
        statement = sa.update(self.table).where(self.table.c.session_key == record_id).values(expire_date=expires_at)
        with self._connection("touch") as connection:
            return bool(connection.execute(statement).rowcount)

    def delete(self, record_id: str) -> None:
        with self._connection("delete") as connection:
            connection.execute(sa.delete(self.table).where(self.table.c.session_key == record_id))

    def acquire(self, record_id: str, lease: float, wait: float) -> str | None:
        """Take the record's lock for ``lease`` seconds; None if there is no such record.

        Polls (:func:`_sql_locks.pauses`) while another token holds an unexpired lease, handing
        the connection back to the pool between polls so the holder can save and release;
        raises :class:`LockTimeoutError` after ``wait`` seconds.
        """
        token = secrets.token_hex(16)
        deadline = time.monotonic() + wait
        pauses = _sql_locks.pauses()
        while True:
            with self._connection("lock") as connection:
                if connection.execute(_sql_locks.take(self.table, record_id, token, lease)).rowcount:
                    return token
                if connection.execute(self._select(record_id)).first() is None:
                    return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockTimeoutError("db", wait)
            time.sleep(min(remaining, next(pauses)))

    def release(self, record_id: str, token: str) -> None:
        with self._connection("release the lock") as connection:
            connection.execute(_sql_locks.give_back(self.table, record_id, token))

    def user_sessions(self, user_id: str) -> list[str]:
        """The user's unexpired record ids, sorted; ValueError for a user id no row can hold."""
        with self._connection("list a user's sessions") as connection:
            return list(connection.execute(_sql_users.select_live(self.table, user_id)).scalars())

    def delete_user_sessions(self, user_id: str, except_record_id: str | None = None) -> int:
        """Delete the user's rows but ``except_record_id``'s, expired ones included; return how many."""
        with self._connection("delete a user's sessions") as connection:
            return connection.execute(_sql_users.delete_all(self.table, user_id, except_record_id)).rowcount

    def clear_expired(self, now: float, batch_size: int = BATCH_SIZE,
                      progress: Callable[[int], object] | None = None) -> int:
        """Delete rows that expired before ``now`` (locked or not), ``batch_size`` per statement; return how many.

        Each batch is a statement of its own, so no lock is held across batches; ``progress``, if
        given, is called with the number deleted so far after each one. ValueError if ``batch_size`` < 1.
        """
        if batch_size < 1:
            raise ValueError(f"the batch size must be at least 1, not {batch_size}")
        columns = self.table.c
        find = sa.select(columns.session_key).where(columns.expire_date < now).limit(batch_size)
        total = 0
        with self._connection("clear expired sessions") as connection:
            while keys := connection.execute(find).scalars().all():
                # Each DELETE commits on its own; re-checking the expiry spares a row saved meanwhile.
                doomed = sa.delete(self.table).where(columns.session_key.in_(keys), columns.expire_date < now)
                total += connection.execute(doomed).rowcount
                if progress is not None:
                    progress(total)
                if len(keys) < batch_size:
                    break
        return total

    def create_table(self) -> bool:
        """Create the table and its indexes if the database lacks the table; return whether this call created it.

        Idempotent, and safe while another process does the same. The store does this by itself
        on first use; call it where the schema is managed apart from the application (a deploy
        step). Uses connections of its own, closed before it returns. Raises :class:`StoreError`.
        """
        engine: Engine | None = None
        try:
            engine = _create_engine(self.url)
            return _create_table(engine, self.table)
        except SQLAlchemyError as exc:
            raise StoreError("db", "create the table", self._describe(exc)) from exc
        finally:
            if engine is not None:
                engine.dispose()

    def create_table_sql(self) -> str:
        """The ``CREATE TABLE`` and ``CREATE INDEX`` statements :meth:`create_table` runs; touches no database.

        They are compiled for the URL's dialect alone: a ``mysql://`` URL gets MySQL 8's DDL, so
        for MariaDB (whose binary collation has another name) use a ``mariadb://`` URL.
        """
        try:
            dialect = self.url.get_dialect()()
        except SQLAlchemyError as exc:
            raise StoreError("db", "compile the table's DDL", self._describe(exc)) from exc
        statements = [CreateTable(self.table).compile(dialect=dialect)]
        for index in sorted(self.table.indexes, key=lambda index: str(index.name)):
            statements.append(CreateIndex(index).compile(dialect=dialect))
        header = ("-- For MySQL 8.0 or later; for MariaDB, set a mariadb:// URL and run this again.\n"
                  if dialect.name == "mysql" else "")
        lines = [line.rstrip() for statement in statements for line in f"{str(statement).strip()};".splitlines()]
        return header + "\n".join(lines) + "\n"

    def close(self) -> None:
        """Close the pooled connections; a later call opens new ones."""
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    def _merge(self, connection: Connection, record_id: str, change: Change) -> Record | None:
        """Write onto the loaded version; when it moved on, re-read and merge (up to MAX_ATTEMPTS times)."""
        base, version = change.base, change.version
        for _ in range(MAX_ATTEMPTS):
            if base is None or version is None:
                current = self._current(connection, record_id, change.lock_token)
                if current is None:
                    # Deleted meanwhile (logout): do not bring it back. A lock went with its row.
                    if not change.create or change.lock_token is not None:
                        return None
                    created = self._insert(connection, record_id, change)
                    if created is not None:
                        return created
                    continue
                base, version = current
            written = self._write(connection, record_id, change, base, version)
            if written is not None:
                return written
            base = version = None
        raise StoreError("db", "save", f"the record changed under each of {MAX_ATTEMPTS} attempts to merge")

    def _current(self, connection: Connection, record_id: str,
                 token: str | None) -> tuple[Mapping[str, str], int] | None:
        """The data and version to merge onto (unreadable data counts as none); None if the row is gone.

        Raises :class:`LockLostError` if ``token`` is set and no longer holds the row's lock.
        """
        row = connection.execute(self._select(record_id)).first()
        if row is None:
            return None
        if token is not None and not _sql_locks.holds(row.lock_token, row.lock_expires, token):
            raise LockLostError("db")
        decoded = _decode(row.session_data)
        return (decoded[1] if decoded is not None else {}), int(row.version)

    def _write(self, connection: Connection, record_id: str, change: Change, base: Mapping[str, str],
               version: int) -> Record | None:
        """One UPDATE guarded by ``version`` (and fenced by the change's lock token); the record written, if any."""
        columns = self.table.c
        guard = [columns.session_key == record_id, columns.version == version]
        if change.lock_token is not None:
            guard += _sql_locks.fence(self.table, change.lock_token)
        data = change.apply_to(base)
        statement = sa.update(self.table).where(*guard).values(
            session_data=_encode(change.meta, data), expire_date=change.expires_at, version=version + 1,
            **_sql_users.values(change.user_id))
        if not connection.execute(statement).rowcount:
            return None
        return Record(data, change.meta, change.expires_at, version + 1)

    def _insert(self, connection: Connection, record_id: str, change: Change) -> Record | None:
        """INSERT a new row at version 1; None if another request created it first."""
        data = change.apply_to({})
        try:
            connection.execute(sa.insert(self.table).values(
                session_key=record_id, session_data=_encode(change.meta, data), expire_date=change.expires_at,
                version=1, **_sql_users.values(change.user_id)))
        except IntegrityError:
            return None
        return Record(data, change.meta, change.expires_at, 1)

    def _select(self, record_id: str) -> sa.Select[Any]:
        columns = self.table.c
        return sa.select(columns.session_data, columns.expire_date, columns.version, columns.lock_token,
                         columns.lock_expires).where(columns.session_key == record_id)

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


def _create_table(engine: Engine, table: sa.Table) -> bool:
    """Create ``table`` and its indexes unless the table exists; whether this call created it."""
    try:
        return _create_missing_table(engine, table)
    except SQLAlchemyError:
        # Another process may create the table between the check and the CREATE; a second pass sees it.
        return _create_missing_table(engine, table)


def _create_missing_table(engine: Engine, table: sa.Table) -> bool:
    if sa.inspect(engine).has_table(table.name):
        return False
    table.create(engine)
    return True


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
