"""What each request sends to the real store: a read-only request reads once and writes nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from webtest import TestApp

from tests.middleware.apps import behaviour_app
from wsgisession import SessionMiddleware


def middleware_and_client(settings: dict[str, Any]) -> tuple[SessionMiddleware, TestApp]:
    middleware = SessionMiddleware(behaviour_app, settings)
    return middleware, TestApp(middleware)


def count_redis_commands(client: Any) -> list[str]:
    """Record the name of every command ``client`` sends (scripts included), on the real client."""
    sent: list[str] = []
    original = client.execute_command

    def counting(*args: Any, **options: Any) -> Any:
        sent.append(str(args[0]).upper())
        return original(*args, **options)

    client.execute_command = counting
    return sent


@pytest.fixture
def sql_statements() -> Iterator[list[str]]:
    """Every SQL statement any SQLAlchemy engine runs meanwhile (first word)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


@pytest.mark.parametrize("engine_id", ["redis", "cache-redis"])
def test_redis_reads_with_one_command_and_writes_with_one_more(engine_settings: dict[str, Any]) -> None:
    middleware, client = middleware_and_client(engine_settings)
    client.get("/inc")
    client.get("/inc")  # the save script is loaded on the server by now
    sent = count_redis_commands(middleware.backend.store.client)  # type: ignore[attr-defined]
    client.get("/get")
    assert sent == ["HGETALL"]
    sent.clear()
    client.get("/inc")
    assert sent == ["HGETALL", "EVALSHA"]
    sent.clear()
    client.get("/untouched")
    assert sent == []


@pytest.mark.parametrize("engine_id", ["db", "db-postgres", "db-mariadb"])
def test_sql_reads_with_one_select_and_writes_with_one_update(engine_settings: dict[str, Any],
                                                               sql_statements: list[str]) -> None:
    _, client = middleware_and_client(engine_settings)
    client.get("/inc")
    sql_statements.clear()
    client.get("/get")
    assert sql_statements == ["SELECT"]
    sql_statements.clear()
    client.get("/inc")
    assert sql_statements == ["SELECT", "UPDATE"]
    sql_statements.clear()
    client.get("/untouched")
    assert sql_statements == []


def snapshot(folder: Path) -> dict[str, int]:
    return {entry.name: entry.stat().st_mtime_ns for entry in os.scandir(folder)}


@pytest.mark.parametrize("engine_id", ["file"])
def test_file_reads_write_nothing(engine_settings: dict[str, Any]) -> None:
    _, client = middleware_and_client(engine_settings)
    client.get("/inc")
    folder = Path(engine_settings["SESSION_FILE_PATH"])
    before = snapshot(folder)
    client.get("/get")
    client.get("/untouched")
    assert snapshot(folder) == before
    client.get("/inc")
    assert snapshot(folder) != before


