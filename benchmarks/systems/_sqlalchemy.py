"""Helpers for the systems that reach SQLite through SQLAlchemy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from ..common import SQLITE_PRAGMAS


def trace_engine(engine: sa.Engine, callback: Callable[[str], None]) -> None:
    """Call ``callback`` with every statement SQLite runs on ``engine``'s connections.

    sqlite3's trace callback also sees the ``BEGIN``/``COMMIT`` the driver issues by itself.
    The pool is emptied so that every connection from now on is a traced one.
    """

    def on_connect(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.set_trace_callback(callback)

    sa.event.listen(engine, "connect", on_connect)
    engine.dispose()


def apply_pragmas(engine: sa.Engine) -> None:
    """Give ``engine``'s SQLite connections the pragmas every SQL system here runs with."""

    def on_connect(dbapi_connection: Any, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    sa.event.listen(engine, "connect", on_connect)
    engine.dispose()
