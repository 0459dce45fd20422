"""``wsgisession createtable``: the SQL engines' session table made ahead of time, or shown as DDL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests import servers
from tests.cli.test_clearsessions import write_json
from tests.conftest import SECRET
from wsgisession.cli import main
from wsgisession.settings import Settings
from wsgisession.stores.base import Change
from wsgisession.stores.sql import SqlStore

#: What ``--sql`` must say for each server, and what it must not.
DIALECT_DDL = {
    "db": (["expire_date DOUBLE NOT NULL", "session_data TEXT NOT NULL"], ["PRECISION", "CHARSET"]),
    "db-postgres": (["expire_date DOUBLE PRECISION NOT NULL"], ["LONGTEXT", "CHARSET"]),
    "db-mariadb": (["session_data LONGTEXT", "COLLATE utf8mb4_nopad_bin", "CHARSET=utf8mb4"], ["0900"]),
}


@pytest.fixture(params=["db", "db-postgres", "db-mariadb"])
def sql_id(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sql_settings(sql_id: str, engine_settings_factory: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    return engine_settings_factory(sql_id)


@pytest.fixture
def database(sql_settings: dict[str, Any]) -> Iterator[sa.Engine]:
    """A connection pool of the test's own, to look at the database behind the command's back."""
    engine = sa.create_engine(sql_settings["SESSION_DB_URL"])
    yield engine
    engine.dispose()


def indexed_columns(database: sa.Engine, table: str) -> list[list[str | None]]:
    return sorted(index["column_names"] for index in sa.inspect(database).get_indexes(table))


def store_works(settings: dict[str, Any]) -> bool:
    store = SqlStore.from_settings(Settings.from_mapping(settings))
    try:
        change = Change(set={"k": "v"}, replace=True, create=True, meta="{}", expires_at=time.time() + 60,
                        user_id="alice")
        return store.save("a" * 64, change) and store.user_sessions("alice") == ["a" * 64]
    finally:
        store.close()


def test_creates_the_table_and_its_indexes_then_finds_it(sql_settings: dict[str, Any], database: sa.Engine,
                                                         tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table, source = sql_settings["SESSION_DB_TABLE"], write_json(tmp_path, sql_settings)
    assert main(["createtable", "--settings", source]) == 0
    assert capsys.readouterr().out.startswith(f"Created table {table} in {database.url.get_backend_name()}")
    assert indexed_columns(database, table) == [["expire_date"], ["user_id"]]
    assert main(["createtable", "--settings", source]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"Table {table} in ") and out.endswith(" already exists")
    assert store_works(sql_settings)


def test_cached_db_creates_the_table_of_its_database(engine_settings_factory: Callable[[str], dict[str, Any]],
                                                     tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = engine_settings_factory("cached_db")
    assert main(["createtable", "--settings", write_json(tmp_path, settings)]) == 0
    assert capsys.readouterr().out.startswith(f"Created table {settings['SESSION_DB_TABLE']} in sqlite:///")
    database = sa.create_engine(settings["SESSION_DB_URL"])
    assert sa.inspect(database).has_table(settings["SESSION_DB_TABLE"])
    database.dispose()


def test_the_message_hides_the_password(engine_settings_factory: Callable[[str], dict[str, Any]],
                                        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = engine_settings_factory("db-postgres")  # the test server trusts loopback: any password will do
    settings["SESSION_DB_URL"] = servers.POSTGRES_URL.replace("postgres@", "postgres:hunter2@")
    assert "hunter2" in settings["SESSION_DB_URL"]
    assert main(["createtable", "--settings", write_json(tmp_path, settings)]) == 0
    out = capsys.readouterr().out
    assert "postgres:***@127.0.0.1" in out and "hunter2" not in out


def test_sql_prints_the_dialects_ddl_and_creates_nothing(sql_id: str, sql_settings: dict[str, Any],
                                                        database: sa.Engine, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    # MariaDB's DDL differs from MySQL's, and only a mariadb:// URL says which server it is without connecting.
    settings = {**sql_settings, "SESSION_DB_URL": sql_settings["SESSION_DB_URL"].replace("mysql+", "mariadb+")}
    table, source = settings["SESSION_DB_TABLE"], write_json(tmp_path, settings)
    assert main(["createtable", "--settings", source, "--sql"]) == 0
    ddl = capsys.readouterr().out
    present, absent = DIALECT_DDL[sql_id]
    assert all(text in ddl for text in [f"CREATE TABLE {table} (", *present]), ddl
    assert not any(text in ddl for text in absent), ddl
    assert f"CREATE INDEX ix_{table}_expire_date ON {table} (expire_date);" in ddl
    assert f"CREATE INDEX ix_{table}_user_id ON {table} (user_id);" in ddl
    assert not sa.inspect(database).has_table(table)
    # What a DBA would run: the statements as printed, then the application finds its table.
    with database.begin() as connection:
        for statement in filter(str.strip, ddl.split(";\n")):
            connection.execute(sa.text(statement))
    assert indexed_columns(database, table) == [["expire_date"], ["user_id"]]
    assert main(["createtable", "--settings", source]) == 0
    assert "already exists" in capsys.readouterr().out
    assert store_works(settings)


def test_sql_for_a_mysql_url_needs_no_server_and_points_mariadb_elsewhere(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = {"SECRET_KEY": SECRET, "SESSION_DB_URL": "mysql+pymysql://root:hunter2@127.0.0.1:1/test"}
    assert main(["createtable", "--settings", write_json(tmp_path, settings), "--sql"]) == 0
    ddl = capsys.readouterr().out
    assert ddl.startswith("-- For MySQL 8.0 or later; for MariaDB, set a mariadb:// URL")
    assert "COLLATE utf8mb4_0900_bin" in ddl and "CHARSET=utf8mb4;" in ddl


@pytest.mark.parametrize("settings", [
    {"SESSION_ENGINE": "file", "SESSION_FILE_PATH": "."},
    {"SESSION_ENGINE": "redis", "SESSION_REDIS_URL": "redis://127.0.0.1:1/0"},  # nothing listens: never asked
    {"SESSION_ENGINE": "signed_cookies"},
], ids=["file", "redis", "signed_cookies"])
@pytest.mark.parametrize("flags", [[], ["--sql"]])
def test_engines_without_a_table_say_so(settings: dict[str, Any], flags: list[str], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    source = write_json(tmp_path, {"SECRET_KEY": SECRET, **settings})
    assert main(["createtable", "--settings", source, *flags]) == 0
    engine = settings["SESSION_ENGINE"]
    assert capsys.readouterr().out.strip() == (
        f"The {engine} engine keeps sessions in no SQL table; there is nothing to create.")


def test_a_database_that_is_down_exits_1_without_the_password(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    settings = {"SECRET_KEY": SECRET, "SESSION_DB_URL": "postgresql+psycopg://postgres:hunter2@127.0.0.1:1/test"}
    assert main(["createtable", "--settings", write_json(tmp_path, settings)]) == 1
    captured = capsys.readouterr()
    assert "failed to create the table" in captured.err and "hunter2" not in captured.err
    assert captured.out == ""
