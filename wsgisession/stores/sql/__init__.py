"""The ``db`` engine: sessions in one table of a SQL database (SQLite, PostgreSQL, MySQL/MariaDB).

Use it when sessions must survive restarts and be shared by every worker without running
another server: a SQLite file on one host (several gunicorn workers may write it), or the
PostgreSQL/MySQL database the application already has. Prefer ``redis`` or ``cached_db``
when every request touches the session and the database is busy. Expired rows stay until
``wsgisession clearsessions`` (:meth:`SqlStore.clear_expired`) removes them. The table is created
on first use, or ahead of time by ``wsgisession createtable`` (``--sql`` prints its DDL instead).

Saves are optimistic (see ``_saves``): a guarded ``UPDATE … WHERE version = :loaded`` in
one statement, and on a conflict a re-read and merge, so concurrent requests changing different
keys keep each other's writes without holding row locks.

What a request runs is compiled once per engine and sent straight to a pooled DBAPI cursor
(see ``_statements``); only the table's creation and :meth:`SqlStore.clear_expired` go
through SQLAlchemy Core.

Session locks (``SESSION_LOCKING``) are leases kept in the row itself (see ``_locks``):
a save carrying the lock's token is fenced, so a request that outlived its lease saves nothing.

Each row also names its user (``session.set_user``) in an indexed column (see ``_users``),
so "log out everywhere" reads or deletes a user's sessions without scanning the table.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.exc import SQLAlchemyError, StatementError

from ...checks import CheckResult
from ...errors import StoreError
from ...settings import Settings
from .._backoff import LockWait
from ..base import Change, CorruptRecord, Record
from . import _checks, _diagnosis, _engine, _saves, _statements, _table, _users
from ._engine import Database

#: Rows deleted per statement by :meth:`SqlStore.clear_expired` (under SQLite's old 999-variable limit).
BATCH_SIZE = 500


class SqlStore:
    """Records in a SQL table, through statements compiled once per engine; thread-safe and safe across processes.

    Nothing touches the database until the first call: the engine is created and the table
    (with its indexes) created if missing then, once. Database failures raise
    :class:`StoreError` whose message holds neither SQL parameters nor the URL's password.
    """

    def __init__(self, url: str, table: str = "wsgisession", *, auto_create: bool = True) -> None:
        self.url = _engine.parse_url(url)
        self.table = _table.session_table(table, sa.MetaData())
        #: Whether first use creates a missing table; if not, a missing table is a StoreMisconfigured.
        self.auto_create = auto_create
        self._diagnosis = _diagnosis.diagnosis(self.url)
        self._database: Database | None = None
        self._pid = 0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> SqlStore:
        """The store ``SESSION_DB_URL`` and ``SESSION_DB_TABLE`` name."""
        return cls(settings.db_url, settings.db_table)

    def load(self, record_id: str) -> Record | None:
        with self._cursor("load") as (cursor, database):
            try:
                row = database.queries.select.run(cursor, key=record_id).fetchone()
            except (UnicodeDecodeError, database.error) as exc:
                if not _undecodable(exc):
                    raise
                raise CorruptRecord(f"a row of the {self.table.name} table holds text that is not UTF-8") from None
        if row is None:
            return None
        text, expire_date, version = row[:3]
        decoded = _table.decode(text)
        if decoded is None:
            raise CorruptRecord(f"a row of the {self.table.name} table does not hold session data")
        meta, data = decoded
        return Record(data, meta, float(expire_date), int(version))

    def save(self, record_id: str, change: Change) -> bool:
        return self.save_returning(record_id, change) is not None

    def save_returning(self, record_id: str, change: Change) -> Record | None:
        """Apply ``change`` as :meth:`save` does; return the record now stored, or None where it returns False.

        The record carries the version the row holds after this write, so a cache may keep it
        whole. Raises :class:`LockLostError` if ``change.lock_token`` no longer holds the lock, and
        ValueError, before anything is written, if ``change.user_id`` is over 255 characters or holds a NUL.
        """
        if change.user_id is not None:
            _users.checked(change.user_id)
        with self._cursor("save") as (cursor, database):
            return _saves.save(cursor, database, record_id, change)

    def touch(self, record_id: str, expires_at: float) -> bool:
        """Move the expiry only; the version stays, since the data did not change."""
        with self._cursor("touch") as (cursor, database):
            return bool(database.queries.touch.run(cursor, key=record_id, expires=expires_at).rowcount)

    def delete(self, record_id: str) -> None:
        self.retire(record_id)

    def retire(self, record_id: str) -> bool:
        with self._cursor("delete") as (cursor, database):
            return bool(database.queries.delete.run(cursor, key=record_id).rowcount)

    def acquire(self, record_id: str, lease: float, wait: float) -> str | None:
        """Take the record's lock for ``lease`` seconds; None if there is no such record.

        Polls (``_backoff.LockWait``) while another token holds an unexpired lease, handing
        the connection back to the pool between polls so the holder can save and release;
        raises :class:`LockTimeoutError` after ``wait`` seconds.
        """
        token = secrets.token_hex(16)
        waiting = LockWait("db", wait)
        while True:
            with self._cursor("lock") as (cursor, database):
                now = time.time()
                if database.queries.take.run(cursor, key=record_id, token=token, now=now, until=now + lease).rowcount:
                    return token
                if database.queries.select.run(cursor, key=record_id).fetchone() is None:
                    return None
            waiting.pause()

    def release(self, record_id: str, token: str) -> None:
        with self._cursor("release the lock") as (cursor, database):
            database.queries.give_back.run(cursor, key=record_id, token=token)

    def user_sessions(self, user_id: str) -> list[str]:
        """The user's unexpired record ids, sorted; ValueError for a user id no row can hold."""
        user = _users.checked(user_id)
        with self._cursor("list a user's sessions") as (cursor, database):
            rows = database.queries.user_sessions.run(cursor, user=user, now=time.time()).fetchall()
        return [record_id for (record_id,) in rows]

    def delete_user_sessions(self, user_id: str, except_record_id: str | None = None) -> int:
        """Delete the user's rows but ``except_record_id``'s, expired ones included; return how many."""
        user = _users.checked(user_id)
        with self._cursor("delete a user's sessions") as (cursor, database):
            if except_record_id is None:
                return database.queries.delete_user_sessions(False).run(cursor, user=user).rowcount
            return database.queries.delete_user_sessions(True).run(cursor, user=user, keep=except_record_id).rowcount

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
        try:
            with self._ready().engine.connect() as connection:
                while keys := connection.execute(find).scalars().all():
                    # Each DELETE commits on its own; re-checking the expiry spares a row saved meanwhile.
                    doomed = sa.delete(self.table).where(columns.session_key.in_(keys), columns.expire_date < now)
                    total += connection.execute(doomed).rowcount
                    if progress is not None:
                        progress(total)
                    if len(keys) < batch_size:
                        break
        except SQLAlchemyError as exc:
            raise self._failure("clear expired sessions", exc) from exc
        return total

    def create_table(self) -> bool:
        """Create the table and its indexes if the database lacks the table; return whether this call created it.

        Idempotent, and safe while another process does the same. The store does this by itself
        on first use; call it where the schema is managed apart from the application (a deploy
        step). Uses connections of its own, closed before it returns. Raises :class:`StoreError`.
        """
        engine: Engine | None = None
        try:
            engine = _engine.create_engine(self.url)
            return _table.create(engine, self.table)
        except (SQLAlchemyError, OSError) as exc:  # OSError: a SQLite file that cannot be made
            raise self._failure("create the table", exc) from exc
        finally:
            if engine is not None:
                engine.dispose()

    def check(self) -> list[CheckResult]:
        """Connect, find the table with the session columns, and write a row in a rolled-back transaction.

        A missing table fails the check even where first use would create it: a typo in
        ``SESSION_DB_TABLE`` would otherwise go unseen. Uses connections of its own.
        """
        return _checks.check(self)

    def create_table_sql(self) -> str:
        """The ``CREATE TABLE`` and ``CREATE INDEX`` statements :meth:`create_table` runs; touches no database.

        They are compiled for the URL's dialect alone: a ``mysql://`` URL gets MySQL 8's DDL, so
        for MariaDB (whose binary collation has another name) use a ``mariadb://`` URL.
        """
        try:
            dialect = self.url.get_dialect()()
        except SQLAlchemyError as exc:
            raise StoreError("db", "compile the table's DDL", self._describe(exc)) from exc
        return _table.ddl(self.table, dialect)

    def close(self) -> None:
        """Close the pooled connections; a later call opens new ones."""
        with self._lock:
            if self._database is not None:
                self._database.engine.dispose()
                self._database = None

    @contextmanager
    def _cursor(self, operation: str) -> Iterator[tuple[DBAPICursor, Database]]:
        """A cursor of a pooled connection (in autocommit) and the database it is on; failures become StoreError."""
        try:
            database = self._ready()
        except (SQLAlchemyError, OSError) as exc:  # OSError: a SQLite file that cannot be made
            raise self._failure(operation, exc) from exc
        try:
            with _statements.cursor(database.engine) as cursor:
                yield cursor, database
        except (database.error, SQLAlchemyError) as exc:
            raise self._failure(operation, exc) from exc

    def _ready(self) -> Database:
        """The engine and its statements, made with the table on first use; a forked worker gets fresh connections."""
        database = self._database
        if database is not None and self._pid == os.getpid():
            return database
        with self._lock:
            if self._database is None:
                self._database = _engine.open_database(self.url, self.table, create=self.auto_create)
            elif self._pid != os.getpid():
                # Connections opened before a fork belong to the parent (SQLAlchemy "pooling
                # and multiprocessing"): drop them from this process's pool without closing them.
                self._database.engine.dispose(close=False)
            self._pid = os.getpid()
            return self._database

    def _failure(self, operation: str, exc: Exception) -> StoreError:
        """The StoreError (a StoreMisconfigured for a wrong password, database, table or grant) to raise for ``exc``."""
        return self._diagnosis.failure("db", operation, exc, self._describe(exc))

    def _describe(self, exc: Exception) -> str:
        """The driver's error class and first line: SQLAlchemy's own text lists the parameters."""
        cause: BaseException = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
        lines = str(cause).strip().splitlines()
        detail = f"{type(cause).__name__}: {lines[0] if lines else 'no detail'}"[:300]
        if self.url.password:
            detail = detail.replace(str(self.url.password), "***")
        return detail


def _undecodable(exc: Exception) -> bool:
    """Whether the driver could not decode a text column (sqlite3's error quotes the text: never log it)."""
    return isinstance(exc, UnicodeDecodeError) or str(exc).startswith("Could not decode to UTF-8")
