"""Statements compiled once per engine and run on the pool's DBAPI connections (for :class:`~.sql.SqlStore`).

Running a Core statement costs SQLAlchemy several times what the driver needs (building it,
its cache key, an execution context; figures in docs/performance.md). A session's statements
never change shape, so each is compiled once for the engine's dialect and sent as it is to a cursor of
a pooled DBAPI connection. What the engine sets up still holds: connections in autocommit,
pinged after sitting idle, on MySQL counting matched rows (``FOUND_ROWS``). What Core adds
per statement does not: no bind or result processors (callers bind plain ``str``, ``int``
and ``float`` values and convert what they read), no execution events, no ``echo`` logging.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler


class Statement:
    """One statement compiled for one dialect: its SQL, and the order of its parameters if they are positional.

    Every value is a ``sa.bindparam`` given by name to :meth:`run`; a literal in the statement
    would be a parameter of its own, missing at run time.
    """

    __slots__ = ("_order", "sql")

    def __init__(self, statement: sa.ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self._order: tuple[str, ...] | None = None
        if isinstance(compiled, SQLCompiler) and compiled.positional and compiled.positiontup is not None:
            self._order = tuple(compiled.positiontup)

    def run(self, cursor: DBAPICursor, **values: Any) -> DBAPICursor:
        """Execute on ``cursor`` with the bound ``values``; return the cursor, to read rows or ``rowcount``.

        Raises the DBAPI's own errors (``engine.dialect.loaded_dbapi.Error``), unwrapped.
        """
        cursor.execute(self.sql, values if self._order is None else tuple(values[name] for name in self._order))
        return cursor


@contextmanager
def cursor(engine: Engine) -> Iterator[DBAPICursor]:
    """A cursor of a connection from ``engine``'s pool; both are given back when the block ends, however it ends.

    A connection that may be broken is closed rather than pooled again, as Core's ``Connection``
    does: the pool's reset of a dead connection would log a traceback, and one interrupted
    mid-statement (a timeout) could hand its half-read reply to the next request.
    """
    connection = engine.raw_connection()
    try:
        with closing(connection.cursor()) as opened:
            yield opened
    except BaseException as exc:
        if _broken(engine.dialect, connection, exc):
            connection.invalidate(exc)
        raise
    finally:
        connection.close()


def _broken(dialect: Dialect, connection: PoolProxiedConnection, exc: BaseException) -> bool:
    if not isinstance(exc, Exception):
        return True
    return isinstance(exc, dialect.loaded_dbapi.Error) and dialect.is_disconnect(exc, connection.dbapi_connection, None)
