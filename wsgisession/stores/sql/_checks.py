"""What ``wsgisession check`` verifies of the ``db`` engine: the database, the table and its columns, write permission.

Every check uses an engine of its own, disposed of before it returns; the write check
runs in a transaction that is rolled back, so it leaves no row behind.
"""

from __future__ import annotations

import difflib
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from ...checks import CheckResult, failed, from_error, passed
from ...errors import StoreError
from . import _engine

#: The record id of the row the write check inserts and rolls back (no record id is this short).
PROBE_KEY = "wsgisession-check"


class CheckedStore(Protocol):
    """What the checks read of the store (a ``SqlStore``): its URL, its table, and how it words a failure."""

    @property
    def url(self) -> URL: ...

    @property
    def table(self) -> sa.Table: ...

    @property
    def auto_create(self) -> bool: ...

    def _failure(self, operation: str, exc: Exception) -> StoreError: ...


def check(store: CheckedStore) -> list[CheckResult]:
    """Connect, find the table with the columns the store needs, and write a row in a rolled-back transaction."""
    server = store.url.render_as_string(hide_password=True)
    try:
        engine = _engine.create_engine(store.url)
    except OSError as exc:  # a SQLite file that cannot be made
        return [from_error("connect", store._failure("open the database", exc), "SESSION_DB_URL", server)]
    try:
        results = [_connect(store, engine, server)]
        if results[-1].ok:
            results.append(_table(store, engine, server))
        if results[-1].ok:
            results.append(_write(store, engine, server))
        return results
    finally:
        engine.dispose()


def _connect(store: CheckedStore, engine: Engine, server: str) -> CheckResult:
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except SQLAlchemyError as exc:
        return from_error("connect", store._failure("connect", exc), "SESSION_DB_URL", server)
    return passed("connect", f"connected to {server}")


def _table(store: CheckedStore, engine: Engine, server: str) -> CheckResult:
    name = store.table.name
    try:
        inspector = sa.inspect(engine)
        if not inspector.has_table(name):
            return _missing_table(store, inspector.get_table_names(), server)
        found = {column["name"] for column in inspector.get_columns(name)}
    except SQLAlchemyError as exc:
        return from_error("table", store._failure("read the table's columns", exc), "SESSION_DB_URL", server)
    missing = [column.name for column in store.table.columns if column.name not in found]
    if missing:
        return failed("table", f"the table {name!r} lacks the columns {', '.join(missing)}: it is not a wsgisession"
                               " session table", "SESSION_DB_TABLE",
                      "name the session table, or a new one and run 'wsgisession createtable --settings SOURCE'")
    return passed("table", f"{name!r} has the session columns")


def _missing_table(store: CheckedStore, tables: list[str], server: str) -> CheckResult:
    name = store.table.name
    close = difflib.get_close_matches(name, tables, n=1)
    hint = f" (there is a table {close[0]!r}: a typo?)" if close else ""
    created = " (the app would create it on first use: a typo would go unseen)" if store.auto_create else ""
    return failed("table", f"no table {name!r} in {server}{hint}{created}", "SESSION_DB_TABLE",
                  "run 'wsgisession createtable --settings SOURCE', or correct SESSION_DB_TABLE")


def _write(store: CheckedStore, engine: Engine, server: str) -> CheckResult:
    try:
        with engine.connect() as connection:
            _write_and_roll_back(store, connection)
    except SQLAlchemyError as exc:
        return from_error("write", store._failure("write a row", exc), "SESSION_DB_URL", server)
    return passed("write", f"may insert, update and delete rows of {store.table.name!r}")


def _write_and_roll_back(store: CheckedStore, connection: Connection) -> None:
    # The store's engine is in autocommit; the probe needs a transaction to roll back.
    level = "SERIALIZABLE" if engine_is_sqlite(connection) else "READ COMMITTED"
    connection = connection.execution_options(isolation_level=level)
    table, key = store.table, store.table.c.session_key
    with connection.begin() as transaction:
        connection.execute(sa.insert(table).values(session_key=PROBE_KEY, session_data="{}", expire_date=0.0,
                                                   version=0))
        connection.execute(sa.update(table).where(key == PROBE_KEY).values(version=1))
        connection.execute(sa.delete(table).where(key == PROBE_KEY))
        transaction.rollback()


def engine_is_sqlite(connection: Connection) -> bool:
    """Whether the connection is to SQLite (whose isolation levels have other names)."""
    return connection.dialect.name == "sqlite"
