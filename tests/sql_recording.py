"""Recording the SQL statements the stores send, on Core connections and on the store's own cursors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from wsgisession.stores.sql import _statements


class Recording:
    """A DBAPI cursor that reports each statement, with its parameters, before running it."""

    def __init__(self, cursor: Any, record: Callable[[str, Any], None]) -> None:
        self._cursor, self._record = cursor, record

    def execute(self, statement: str, parameters: Any = ()) -> Any:
        self._record(statement, parameters)
        return self._cursor.execute(statement, parameters)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


@contextmanager
def recorded(table: str) -> Iterator[list[tuple[str, Any]]]:
    """The statements on ``table`` sent meanwhile (by Core or on the store's own cursors), with parameters, in order."""
    statements: list[tuple[str, Any]] = []
    pooled_cursor = _statements.cursor

    def record(statement: str, parameters: Any) -> None:
        if table in statement:
            statements.append((statement, parameters))

    def record_core(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        record(statement, parameters)

    @contextmanager
    def recording_cursor(engine: sa.Engine) -> Iterator[Any]:
        with pooled_cursor(engine) as cursor:
            yield Recording(cursor, record)

    sa.event.listen(sa.Engine, "before_cursor_execute", record_core)
    _statements.cursor = recording_cursor
    try:
        yield statements
    finally:
        _statements.cursor = pooled_cursor
        sa.event.remove(sa.Engine, "before_cursor_execute", record_core)


def verbs(statements: list[tuple[str, Any]]) -> list[str]:
    return [statement.split(None, 1)[0].upper() for statement, _ in statements]
