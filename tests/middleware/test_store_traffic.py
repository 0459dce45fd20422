"""What each request sends to the real store: a read-only request reads once and writes nothing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

from tests.middleware.apps import behaviour_app
from tests.sql_recording import recorded, verbs
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
def test_sql_reads_with_one_select_and_writes_with_one_update(engine_settings: dict[str, Any]) -> None:
    _, client = middleware_and_client(engine_settings)
    client.get("/inc")
    table = engine_settings["SESSION_DB_TABLE"]
    with recorded(table) as statements:
        client.get("/get")
    assert verbs(statements) == ["SELECT"]
    with recorded(table) as statements:
        client.get("/inc")
    assert verbs(statements) == ["SELECT", "UPDATE"]
    with recorded(table) as statements:
        client.get("/untouched")
    assert statements == []


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


