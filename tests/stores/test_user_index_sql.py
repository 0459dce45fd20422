"""The ``db`` engine's per-user index (``IndexesUsers``), against SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.schema import CreateTable

from tests.sql_recording import recorded, verbs
from tests.stores import test_sql
from wsgisession.errors import StoreError
from wsgisession.stores.base import Change, IndexesUsers
from wsgisession.stores.sql import SqlStore
from wsgisession.stores.sql._table import session_table

A, B, C, D = (letter * 64 for letter in "abcd")
#: How a save reaches the row: each is a different statement (or sequence of them) in the store.
WRITE_PATHS = ["guarded", "stale", "unloaded", "recreated"]


# The SQL store on SQLite, PostgreSQL and MariaDB, and a look behind its back: test_sql's fixtures.
store = test_sql.store
database = test_sql.database


def save_new(store: SqlStore, record_id: str, user_id: str | None, expires_in: float = 600) -> None:
    change = Change(set={"k": "new"}, replace=True, create=True, meta="{}", expires_at=time.time() + expires_in,
                    user_id=user_id)
    assert store.save(record_id, change) is True


def change_by(store: SqlStore, path: str, record_id: str, user_id: str | None) -> Change:
    """A change of the existing record ``record_id`` that the store writes by ``path``."""
    if path == "recreated":  # a new session's INSERT meets the row and falls back to the merge
        return Change(set={"k": path}, replace=True, create=True, meta="{}", expires_at=time.time() + 600,
                      user_id=user_id)
    loaded = store.load(record_id)
    assert loaded is not None
    base, version = {"guarded": (loaded.data, loaded.version), "stale": (loaded.data, loaded.version - 1),
                     "unloaded": (None, None)}[path]
    return Change(set={"k": path}, meta="{}", expires_at=time.time() + 600, base=base, version=version,
                  user_id=user_id)


def test_the_store_indexes_users_in_an_indexed_column(store: SqlStore, database: sa.Engine) -> None:
    assert isinstance(store, IndexesUsers)
    assert store.user_sessions("alice") == []
    indexed = [index["column_names"] for index in sa.inspect(database).get_indexes(store.table.name)]
    assert ["user_id"] in indexed


def test_a_users_sessions_are_listed_then_deleted_but_the_one_kept(store: SqlStore) -> None:
    for record_id in (C, A, B):
        save_new(store, record_id, "alice")
    save_new(store, D, "bob")
    assert store.user_sessions("alice") == [A, B, C]
    assert store.delete_user_sessions("alice", except_record_id=B) == 2
    assert store.load(A) is None and store.load(C) is None
    assert store.load(B) is not None and store.load(D) is not None
    assert store.user_sessions("alice") == [B]
    assert store.user_sessions("bob") == [D]
    assert store.delete_user_sessions("bob") == 1
    assert store.delete_user_sessions("nobody") == 0


def test_an_expired_session_is_not_listed_but_is_deleted(store: SqlStore) -> None:
    save_new(store, A, "alice")
    save_new(store, B, "alice", expires_in=-60)
    assert store.user_sessions("alice") == [A]
    assert store.delete_user_sessions("alice") == 2  # the expired row goes too, and counts


def test_a_session_without_a_user_is_in_no_index(store: SqlStore) -> None:
    save_new(store, A, None)
    save_new(store, B, "")  # an empty user id is still a user id
    assert store.user_sessions("") == [B]
    assert store.delete_user_sessions("") == 1
    assert store.load(A) is not None


@pytest.mark.parametrize("path", WRITE_PATHS)
def test_a_save_without_a_user_keeps_the_owner_and_one_with_a_user_moves_it(store: SqlStore, path: str) -> None:
    save_new(store, A, "alice")
    assert store.save(A, change_by(store, path, A, None)) is True
    assert store.user_sessions("alice") == [A]
    assert store.save(A, change_by(store, path, A, "bob")) is True
    assert store.user_sessions("alice") == []
    assert store.user_sessions("bob") == [A]
    record = store.load(A)
    assert record is not None and record.data == {"k": path}


def test_user_ids_match_exactly_whatever_their_characters(store: SqlStore) -> None:
    # Distinct users that LIKE, case- or accent-insensitive collations or space padding would confuse.
    users = ["o'brien \"x\"; --", "100%", "%", "a_b", "_", "ünïcødé 🙂", "alice", "Alice", "alice ", "alicé",
             "🙂" * 255]
    record_ids = {user: f"{n:064x}" for n, user in enumerate(users)}
    for user, record_id in record_ids.items():
        save_new(store, record_id, user)
    for user, record_id in record_ids.items():
        assert store.user_sessions(user) == [record_id], user
    assert store.delete_user_sessions("%") == 1
    assert store.delete_user_sessions("alice") == 1
    gone = {record_ids["%"], record_ids["alice"]}
    for record_id in record_ids.values():
        assert (store.load(record_id) is None) == (record_id in gone)


@pytest.mark.parametrize("user_id", ["x" * 256, "a\x00b"])
def test_a_user_id_no_row_can_hold_is_a_value_error_and_writes_nothing(store: SqlStore, user_id: str) -> None:
    with pytest.raises(ValueError, match="user id"):
        save_new(store, A, user_id)
    assert store.load(A) is None
    save_new(store, B, "alice")
    with pytest.raises(ValueError, match="user id"):
        store.save(B, change_by(store, "unloaded", B, user_id))
    record = store.load(B)
    assert record is not None and record.data == {"k": "new"}
    assert store.user_sessions("alice") == [B]
    with pytest.raises(ValueError, match="user id"):
        store.user_sessions(user_id)
    with pytest.raises(ValueError, match="user id"):
        store.delete_user_sessions(user_id)


@pytest.mark.parametrize("path", ["new", *WRITE_PATHS])
def test_saves_without_a_user_send_the_statements_they_always_did(store: SqlStore, path: str) -> None:
    expected = {"new": ["INSERT"], "guarded": ["UPDATE"], "stale": ["UPDATE", "SELECT", "UPDATE"],
                "unloaded": ["SELECT", "UPDATE"], "recreated": ["INSERT", "SELECT", "UPDATE"]}[path]
    seen = {}
    for record_id, user_id in ((A, None), (B, "alice")):
        if path == "new":
            store.load(record_id)  # creates the table outside the recording
            change = Change(set={"k": "v"}, replace=True, create=True, meta="{}", expires_at=time.time() + 600,
                            user_id=user_id)
        else:
            save_new(store, record_id, None)
            change = change_by(store, path, record_id, user_id)
        with recorded(store.table.name) as statements:
            assert store.save(record_id, change) is True
        seen[user_id] = statements
    assert verbs(seen[None]) == verbs(seen["alice"]) == expected
    assert not any("user_id" in statement or "alice" in str(parameters) for statement, parameters in seen[None])
    assert all("user_id" in statement for statement, _ in seen["alice"] if not statement.startswith("SELECT"))


def test_listing_and_deleting_a_users_sessions_use_the_index(store: SqlStore, database: sa.Engine) -> None:
    for record_id in (A, B, C):
        save_new(store, record_id, "alice")
    others = [{"session_key": f"{n:064x}", "session_data": '{"m":"","d":{}}', "expire_date": time.time() + 600,
               "version": 1, "user_id": f"user-{n % 300}"} for n in range(3000)]
    analyze = {"sqlite": "ANALYZE", "postgresql": f"ANALYZE {store.table.name}"}
    with database.begin() as connection:
        connection.execute(sa.insert(store.table), others)
    with database.connect() as connection:
        connection.exec_driver_sql(analyze.get(database.dialect.name, f"ANALYZE TABLE {store.table.name}"))
        connection.commit()
    with recorded(store.table.name) as statements:
        assert store.user_sessions("alice") == [A, B, C]
        assert store.delete_user_sessions("carol", except_record_id=A) == 0
    assert verbs(statements) == ["SELECT", "DELETE"]
    index = next(str(index.name) for index in store.table.indexes if [c.name for c in index.columns] == ["user_id"])
    with database.connect() as connection:
        for statement, parameters in statements:
            assert index in used_indexes(connection, statement, parameters)


def used_indexes(connection: sa.Connection, statement: str, parameters: Any) -> str:
    """The query plan's text where it names indexes only when they are used; MariaDB's chosen ``key``s."""
    if connection.dialect.name == "sqlite":
        return str(connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all())
    plan = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
    if connection.dialect.name == "postgresql":
        return str(plan.all())
    return str([row["key"] for row in plan.mappings()])  # not possible_keys, which lists it regardless


def test_failures_of_the_user_index_are_store_errors(store: SqlStore, database: sa.Engine) -> None:
    save_new(store, A, "alice")
    with database.begin() as connection:
        connection.execute(sa.text(f"DROP TABLE {store.table.name}"))
    with pytest.raises(StoreError) as listing:
        store.user_sessions("alice")
    with pytest.raises(StoreError) as deleting:
        store.delete_user_sessions("alice")
    assert listing.value.operation == "list a user's sessions"
    assert deleting.value.operation == "delete a user's sessions"


@pytest.mark.parametrize(("is_mariadb", "collation"), [(False, "utf8mb4_0900_bin"), (True, "utf8mb4_nopad_bin")])
def test_mysql_and_mariadb_compare_user_ids_byte_for_byte(is_mariadb: bool, collation: str) -> None:
    table = session_table("sessions", sa.MetaData())
    ddl = str(CreateTable(table).compile(dialect=mysql.dialect(is_mariadb=is_mariadb)))
    assert f"user_id VARCHAR(255) COLLATE {collation}" in ddl
