"""The ``db`` engine beyond the store contract, against SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import multiprocessing
import os
import queue
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.concurrency import run_in_threads
from wsgisession.errors import ConfigurationError, LockLostError, LockTimeoutError, StoreError, StoreMisconfigured
from wsgisession.settings import Settings
from wsgisession.stores.base import Change, CorruptRecord
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
def test_a_corrupted_row_is_reported_as_corrupt_without_naming_it(
        store: SqlStore, database: sa.Engine, garbage: str) -> None:
    create(store, A, {"x": "1"})
    with database.begin() as connection:
        connection.execute(sa.update(store.table).values(session_data=garbage))
    with pytest.raises(CorruptRecord) as caught:
        store.load(A)
    assert A not in str(caught.value)
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
    assert isinstance(caught.value.__cause__, database.dialect.loaded_dbapi.Error)  # the driver's own error
    assert "card-4111" not in str(caught.value) and "card-4111" not in str(caught.value.__cause__)
    assert store.table.name in str(caught.value)  # but the driver's reason is kept


def test_each_operation_on_a_failing_database_raises_store_error_naming_it(
        store: SqlStore, database: sa.Engine) -> None:
    create(store, A, {"x": "1"})
    token = store.acquire(A, 10, 1)
    assert token is not None
    with database.begin() as connection:
        connection.execute(sa.text(f"DROP TABLE {store.table.name}"))
    operations: dict[str, Callable[[], object]] = {
        "load": lambda: store.load(A), "touch": lambda: store.touch(A, time.time() + 60),
        "delete": lambda: store.delete(A), "lock": lambda: store.acquire(A, 10, 1),
        "release the lock": lambda: store.release(A, token)}
    for operation, call in operations.items():
        with pytest.raises(StoreError) as caught:
            call()
        assert caught.value.operation == operation
        assert isinstance(caught.value.__cause__, database.dialect.loaded_dbapi.Error)
        assert store.table.name in str(caught.value) and A not in str(caught.value)


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


def sqlite_modes(folder: Path) -> dict[str, int]:
    return {path.name: stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir()}


def test_the_default_sqlite_file_and_its_wal_and_shm_are_private_whatever_the_umask(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the default URL names a file in the working directory
    store = SqlStore.from_settings(Settings())
    umask = os.umask(0)
    try:
        create(store, A, {"x": "1"})
        modes = sqlite_modes(tmp_path)  # while the pool holds a connection: -wal and -shm exist
    finally:
        os.umask(umask)
        store.close()
    assert modes == {"wsgisession.sqlite3": 0o600, "wsgisession.sqlite3-wal": 0o600, "wsgisession.sqlite3-shm": 0o600}


@pytest.mark.parametrize("name", ["file:{path}?uri=true", "file://{path}?uri=true", "file:{path}?mode=rwc&uri=true"])
def test_a_sqlite_file_named_by_a_uri_is_private_too(name: str, tmp_path: Path) -> None:
    """``?uri=true`` lets SQLite read the file name in its own URI syntax: the file is still ours alone."""
    store = SqlStore("sqlite:///" + name.format(path=tmp_path / "sessions.sqlite3"))
    try:
        create(store, A, {"x": "1"})
        modes = sqlite_modes(tmp_path)
    finally:
        store.close()
    assert modes and set(modes.values()) == {0o600}, modes


def test_a_sqlite_file_made_beforehand_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "sessions.sqlite3"
    path.touch(mode=0o640)
    path.chmod(0o640)
    store = SqlStore(f"sqlite:///{path}")
    try:
        create(store, A, {"x": "1"})
        modes = sqlite_modes(tmp_path)
    finally:
        store.close()
    assert set(modes.values()) == {0o640}


def test_a_sqlite_file_in_a_missing_folder_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"SESSION_DB_URL.*the folder .*missing does not exist"):
        SqlStore(f"sqlite:///{tmp_path / 'missing' / 'sessions.sqlite3'}")
    assert list(tmp_path.iterdir()) == []


def test_a_sqlite_folder_gone_after_start_is_a_misconfiguration(tmp_path: Path) -> None:
    folder = tmp_path / "gone"
    folder.mkdir()
    store = SqlStore(f"sqlite:///{folder / 'sessions.sqlite3'}")
    folder.rmdir()
    with pytest.raises(StoreMisconfigured, match="SESSION_DB_URL") as caught:
        store.load(A)
    assert caught.value.setting == "SESSION_DB_URL"
    with pytest.raises(StoreError):
        store.create_table()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "mssql+pyodbc://sa:hunter2@db/sessions", "::",
                                 "sqlite://", "sqlite:///:memory:"])
def test_a_url_for_another_kind_of_server_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        SqlStore(url)
    assert "SESSION_DB_URL" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def change_under(token: str | None, data: dict[str, str], **fields: Any) -> Change:
    return Change(set=data, meta="{}", expires_at=time.time() + 600, lock_token=token, **fields)


def test_save_returning_returns_the_record_that_a_load_then_shows(store: SqlStore) -> None:
    expires_at = time.time() + 600
    created = store.save_returning(A, Change(set={"a": "1"}, replace=True, create=True, meta='{"c":1}',
                                             expires_at=expires_at))
    assert created == store.load(A) and created is not None
    assert created.data == {"a": "1"} and created.meta == '{"c":1}' and created.expires_at == expires_at
    guarded = store.save_returning(A, change_under(None, {"b": "2"}, base=created.data, version=created.version))
    stale = store.save_returning(A, change_under(None, {"c": "3"}, base=created.data, version=created.version))
    replaced = store.save_returning(A, Change(set={"d": "4"}, replace=True, create=True, meta="{}",
                                              expires_at=expires_at))  # an existing key: replaced, not inserted
    assert guarded is not None and guarded.version == created.version + 1
    assert stale is not None and stale.data == {"a": "1", "b": "2", "c": "3"} and stale.version == guarded.version + 1
    assert replaced is not None and replaced.data == {"d": "4"} and replaced.version == stale.version + 1
    assert store.load(A) == replaced
    store.delete(A)
    assert store.save_returning(A, change_under(None, {"e": "5"})) is None


def test_save_returning_under_a_lock_returns_the_new_version(store: SqlStore) -> None:
    create(store, A, {"n": "0"})
    token = store.acquire(A, 10, 1)
    assert token is not None
    written = store.save_returning(A, change_under(token, {"n": "1"}))
    store.release(A, token)
    assert written is not None and written == store.load(A) and written.data == {"n": "1"}


@pytest.mark.parametrize("taken_over", [True, False])
def test_a_guarded_save_after_the_lease_ran_out_raises_lock_lost(store: SqlStore, taken_over: bool) -> None:
    create(store, A, {"n": "0"})
    loaded = store.load(A)
    stale = store.acquire(A, 0.2, 1)
    assert loaded is not None and stale is not None
    time.sleep(0.3)
    if taken_over:
        fresh = store.acquire(A, 10, 1)
        assert fresh is not None
        assert store.save(A, change_under(fresh, {"n": "new holder"}, base=loaded.data, version=loaded.version))
    with pytest.raises(LockLostError):
        store.save(A, change_under(stale, {"n": "stale"}, base=loaded.data, version=loaded.version))
    with pytest.raises(LockLostError):  # the unguarded path (no loaded version) is fenced too
        store.save(A, change_under(stale, {"n": "stale"}))
    record = store.load(A)
    assert record is not None and record.data == {"n": "new holder" if taken_over else "0"}


def test_a_locked_save_of_a_deleted_record_is_dropped(store: SqlStore) -> None:
    create(store, A, {"n": "0"})
    token = store.acquire(A, 10, 1)
    assert token is not None
    store.delete(A)  # logout wins over the lock, which went with the row
    assert store.save(A, change_under(token, {"n": "1"}, create=True)) is False
    assert store.load(A) is None
    store.release(A, token)


def test_saves_without_a_token_merge_and_leave_the_lock_alone(store: SqlStore) -> None:
    create(store, A, {"n": "0"})
    token = store.acquire(A, 10, 1)
    assert token is not None
    assert store.save(A, change_under(None, {"other": "1"}))  # a request that does not lock
    create(store, A, {"replaced": "1"})  # an insert that meets an existing row replaces it by a merge
    with pytest.raises(LockTimeoutError):
        store.acquire(A, 10, 0.1)
    assert store.save(A, change_under(token, {"n": "1"}))
    store.release(A, token)
    record = store.load(A)
    assert record is not None and record.data == {"replaced": "1", "n": "1"}


def test_release_empties_the_lease_columns(store: SqlStore, database: sa.Engine) -> None:
    create(store, A, {})
    token = store.acquire(A, 10, 1)
    assert token is not None
    lease = sa.select(store.table.c.lock_token, store.table.c.lock_expires)
    with database.connect() as connection:
        holder, expires = connection.execute(lease).one()
    assert holder == token and expires == pytest.approx(time.time() + 10, abs=1)
    store.release(A, token)
    with database.connect() as connection:
        assert tuple(connection.execute(lease).one()) == (None, None)


def test_touch_moves_the_expiry_without_a_new_version(store: SqlStore) -> None:
    create(store, A, {"x": "1"})
    before = store.load(A)
    assert before is not None
    assert store.touch(A, before.expires_at + 60) is True
    assert store.touch(A, before.expires_at + 60) is True  # an unchanged row still counts as found (MySQL)
    after = store.load(A)
    assert after is not None and after.version == before.version and after.expires_at == before.expires_at + 60
    assert store.save_returning(A, change_under(None, {"y": "2"}, base=before.data, version=before.version)) \
        == store.load(A)


def test_clear_expired_also_removes_expired_rows_that_hold_a_lock(store: SqlStore) -> None:
    create(store, A, {"dead": "1"}, expires_in=-10)
    create(store, B, {"live": "1"})
    token_a, token_b = store.acquire(A, 60, 1), store.acquire(B, 60, 1)
    assert token_a is not None and token_b is not None
    assert store.clear_expired(time.time()) == 1
    assert store.load(A) is None and store.acquire(A, 60, 0.1) is None
    assert store.save(A, change_under(token_a, {"dead": "2"})) is False
    assert store.load(B) is not None
    store.release(B, token_b)


def _lock_in_another_process(url: str, table: str, started: Any, acquired: Any) -> None:
    """Run in a spawned process: wait for the lock on A, save under it, report, release."""
    store = SqlStore(url, table)
    started.set()
    token = store.acquire(A, 10, 20)
    assert token is not None
    saved = store.save(A, Change(set={"child": "1"}, meta="{}", expires_at=time.time() + 600, lock_token=token))
    acquired.put((saved, time.time()))
    store.release(A, token)
    store.close()


@pytest.mark.parametrize("store", ["db", "db-postgres"], indirect=True)
def test_a_lock_held_in_one_process_blocks_another_until_released(store: SqlStore) -> None:
    create(store, A, {"parent": "1"})
    token = store.acquire(A, 60, 1)
    assert token is not None
    context = multiprocessing.get_context("spawn")
    started, acquired = context.Event(), context.Queue()
    child = context.Process(target=_lock_in_another_process, args=(
        store.url.render_as_string(hide_password=False), store.table.name, started, acquired))
    child.start()
    try:
        assert started.wait(30)
        with pytest.raises(queue.Empty):
            acquired.get(timeout=1)  # the child is still waiting for the lock
        assert store.save(A, change_under(token, {"parent": "2"}))
        released_at = time.time()
        store.release(A, token)
        saved, acquired_at = acquired.get(timeout=20)
        assert saved is True and acquired_at >= released_at
    finally:
        child.join(30)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0
    record = store.load(A)
    assert record is not None and record.data == {"parent": "2", "child": "1"}


SERVER_CONNECTION_ID = {"postgresql": "SELECT pg_backend_pid()", "mysql": "SELECT CONNECTION_ID()"}
KILL = {"postgresql": "SELECT pg_terminate_backend({})", "mysql": "KILL {}"}


def kill_pooled_connection(store: SqlStore, database: sa.Engine) -> None:
    """End, on the server, the connection the store's pool holds (as a server restart would)."""
    dialect = store.url.get_backend_name()
    pooled = store._ready().engine.raw_connection()
    try:
        cursor = pooled.cursor()
        cursor.execute(SERVER_CONNECTION_ID[dialect])
        server_id = cursor.fetchone()[0]
        cursor.close()
    finally:
        pooled.close()
    with database.connect() as admin:
        admin.exec_driver_sql(KILL[dialect].format(int(server_id)))


@pytest.mark.parametrize("store", ["db-postgres", "db-mariadb"], indirect=True)
def test_a_connection_the_server_closed_while_idle_is_replaced_unseen(
        store: SqlStore, database: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("wsgisession.stores.sql._engine.PING_AFTER_IDLE", 0.05)
    create(store, A, {"k": '"v"'})
    kill_pooled_connection(store, database)
    time.sleep(0.2)
    record = store.load(A)
    assert record is not None and record.data == {"k": '"v"'}


@pytest.mark.parametrize("store", ["db-postgres", "db-mariadb"], indirect=True)
def test_a_connection_closed_while_in_use_fails_one_call_and_is_dropped(
        store: SqlStore, database: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("wsgisession.stores.sql._engine.PING_AFTER_IDLE", 3600.0)  # never idle long enough
    create(store, A, {"k": '"v"'})
    kill_pooled_connection(store, database)
    with pytest.raises(StoreError):
        store.load(A)
    record = store.load(A)
    assert record is not None and record.data == {"k": '"v"'}
