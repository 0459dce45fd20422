"""The ``db`` engine beyond the store contract, against SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.concurrency import run_in_threads
from wsgisession.errors import ConfigurationError, StoreError
from wsgisession.settings import Settings
from wsgisession.stores.base import Change
from wsgisession.stores.sql import SqlStore

A = "a" * 64
B = "b" * 64
SECRET_VALUE = '"card-4111-1111-1111-1111"'


@pytest.fixture(params=["db", "db-postgres", "db-mariadb"])
def store(request: pytest.FixtureRequest,
          engine_settings_factory: Callable[[str], dict[str, Any]]) -> Iterator[SqlStore]:
    made = SqlStore.from_settings(Settings.from_mapping(engine_settings_factory(request.param)))
    yield made
    made.close()


@pytest.fixture
def database(store: SqlStore) -> Iterator[sa.Engine]:
    """A connection pool of the test's own to the store's database, to look behind its back."""
    engine = sa.create_engine(store.url)
    yield engine
    engine.dispose()


def create(store: SqlStore, record_id: str, data: dict[str, str], expires_in: float = 600) -> None:
    change = Change(set=data, replace=True, create=True, meta="{}", expires_at=time.time() + expires_in)
    assert store.save(record_id, change) is True


def test_constructing_the_store_touches_no_database(tmp_path: Path) -> None:
    SqlStore("postgresql+psycopg://postgres@127.0.0.1:1/test")  # nothing listens on port 1
    SqlStore(f"sqlite:///{tmp_path / 'sessions.sqlite3'}")
    assert list(tmp_path.iterdir()) == []


def test_table_and_expiry_index_are_created_on_first_use(store: SqlStore, database: sa.Engine) -> None:
    assert not sa.inspect(database).has_table(store.table.name)
    assert store.load(A) is None
    inspector = sa.inspect(database)
    assert inspector.has_table(store.table.name)
    indexed = [index["column_names"] for index in inspector.get_indexes(store.table.name)]
    assert ["expire_date"] in indexed


def test_guarded_updates_from_a_stale_base_all_land(store: SqlStore) -> None:
    create(store, A, {"base": "0"})
    loaded = store.load(A)
    assert loaded is not None

    def writer(n: int) -> None:
        for i in range(25):
            change = Change(set={f"t{n}-{i}": str(i)}, meta="{}", expires_at=time.time() + 600,
                            base=loaded.data, version=loaded.version)
            assert store.save(A, change) is True

    run_in_threads(writer, 4)
    record = store.load(A)
    assert record is not None
    assert set(record.data) == {"base"} | {f"t{n}-{i}" for n in range(4) for i in range(25)}
    assert record.version == loaded.version + 100


def test_create_without_replace_merges_onto_an_existing_record(store: SqlStore) -> None:
    create(store, A, {"kept": "1"})
    change = Change(set={"added": "2"}, create=True, meta="{}", expires_at=time.time() + 600)
    assert store.save(A, change) is True
    assert store.save(B, change) is True
    loaded_a, loaded_b = store.load(A), store.load(B)
    assert loaded_a is not None and loaded_a.data == {"kept": "1", "added": "2"}
    assert loaded_b is not None and loaded_b.data == {"added": "2"}


def test_replace_without_create_does_not_bring_back_a_deleted_record(store: SqlStore) -> None:
    create(store, A, {"old": "1"})
    change = Change(set={"new": "2"}, replace=True, meta="{}", expires_at=time.time() + 600)
    assert store.save(A, change) is True
    record = store.load(A)
    assert record is not None and record.data == {"new": "2"}
    store.delete(A)
    assert store.save(A, change) is False
    assert store.load(A) is None


@pytest.mark.parametrize("garbage", ["not json {", "[1, 2]", '{"m": 1, "d": {}}', '{"m": "", "d": {"k": 1}}'])
def test_a_corrupted_row_loads_as_none_and_logs_a_warning(
        store: SqlStore, database: sa.Engine, garbage: str, caplog: pytest.LogCaptureFixture) -> None:
    create(store, A, {"x": "1"})
    with database.begin() as connection:
        connection.execute(sa.update(store.table).values(session_data=garbage))
    with caplog.at_level(logging.WARNING, logger="wsgisession"):
        assert store.load(A) is None
    warnings = [r for r in caplog.records if r.name == "wsgisession" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert A not in warnings[0].getMessage()
    create(store, A, {"fresh": "1"})  # a new session can take its place
    record = store.load(A)
    assert record is not None and record.data == {"fresh": "1"}


@pytest.mark.parametrize("url", ["postgresql+psycopg://postgres:hunter2@127.0.0.1:1/test",
                                 "mysql+pymysql://root:hunter2@127.0.0.1:1/test"])
def test_an_unreachable_database_raises_store_error_without_secrets(url: str) -> None:
    store = SqlStore(url)
    with pytest.raises(StoreError) as caught:
        create(store, A, {"card": SECRET_VALUE})
    message = str(caught.value)
    assert caught.value.operation == "save"
    assert "card-4111" not in message and "hunter2" not in message
    assert isinstance(caught.value.__cause__, sa.exc.OperationalError)


def test_a_failing_statement_reports_no_session_data(store: SqlStore, database: sa.Engine) -> None:
    create(store, A, {"x": "1"})
    with database.begin() as connection:
        connection.execute(sa.text(f"DROP TABLE {store.table.name}"))
    with pytest.raises(StoreError) as caught:
        create(store, A, {"card": SECRET_VALUE})
    assert "card-4111" in str(caught.value.__cause__)  # SQLAlchemy's own message lists the parameters
    assert "card-4111" not in str(caught.value)
    assert store.table.name in str(caught.value)  # but the driver's reason is kept


def test_clear_expired_deletes_every_batch_and_only_dead_rows(store: SqlStore, database: sa.Engine) -> None:
    create(store, A, {"live": "1"})
    create(store, B, {"live": "2"})
    dead = [{"session_key": f"{n:064x}", "session_data": '{"m":"","d":{}}', "expire_date": time.time() - 60,
             "version": 1} for n in range(2500)]
    with database.begin() as connection:
        connection.execute(sa.insert(store.table), dead)
    assert store.clear_expired(time.time(), batch_size=1000) == 2500
    assert store.load(A) is not None and store.load(B) is not None
    with database.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(store.table)).scalar() == 2


def test_sqlite_database_uses_write_ahead_logging(engine_settings_factory: Callable[[str], dict[str, Any]]) -> None:
    settings = Settings.from_mapping(engine_settings_factory("db"))
    store = SqlStore.from_settings(settings)
    create(store, A, {"x": "1"})
    store.close()
    path = settings.db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:  # another process opening the file sees WAL
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "mssql+pyodbc://sa:hunter2@db/sessions", "::",
                                 "sqlite://", "sqlite:///:memory:"])
def test_a_url_for_another_kind_of_server_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        SqlStore(url)
    assert "SESSION_DB_URL" in str(caught.value)
    assert "hunter2" not in str(caught.value)
