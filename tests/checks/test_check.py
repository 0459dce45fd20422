"""``wsgisession check`` and ``SessionMiddleware.check()`` against real servers set up wrong."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests import servers
from tests.checks.conftest import PASSWORD, PasswordRedis, free_port
from tests.cli.test_clearsessions import write_json
from tests.conftest import SECRET
from tests.redis_topologies import AclServer, ClusterTopology, SentinelTopology
from wsgisession import SessionMiddleware
from wsgisession.checks import CheckResult
from wsgisession.cli import main


def run_check(tmp_path: Path, settings: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(["check", "--settings", write_json(tmp_path, {"SECRET_KEY": SECRET, **settings})])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def failures(results: list[CheckResult]) -> list[CheckResult]:
    return [result for result in results if not result.ok]


def test_a_good_sqlite_configuration_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = {"SESSION_DB_URL": f"sqlite:///{tmp_path / 'sessions.sqlite3'}"}
    assert main(["createtable", "--settings", write_json(tmp_path, {"SECRET_KEY": SECRET, **settings})]) == 0
    capsys.readouterr()
    status, out = run_check(tmp_path, settings, capsys)
    assert status == 0, out
    assert [line.split()[0] for line in out.splitlines()] == ["ok", "ok", "ok", "ok", "OK:"]
    assert "table: 'wsgisession' has the session columns" in out


def test_a_table_typo_fails_naming_the_setting_and_the_table_it_meant(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'sessions.sqlite3'}"
    assert main(["createtable", "--settings", write_json(tmp_path, {"SECRET_KEY": SECRET, "SESSION_DB_URL": url,
                                                                     "SESSION_DB_TABLE": "app_sessions"})]) == 0
    capsys.readouterr()
    status, out = run_check(tmp_path, {"SESSION_DB_URL": url, "SESSION_DB_TABLE": "app_sesions"}, capsys)
    assert status == 1
    assert "FAIL  table: no table 'app_sesions'" in out
    assert "there is a table 'app_sessions': a typo?" in out
    assert "fix SESSION_DB_TABLE" in out and "wsgisession createtable" in out
    assert out.splitlines()[-1].startswith("FAILED: 1 of")


def test_clearsessions_creates_no_mistyped_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "sessions.sqlite3"
    settings = {"SECRET_KEY": SECRET, "SESSION_DB_URL": f"sqlite:///{database}", "SESSION_DB_TABLE": "typo"}
    assert main(["clearsessions", "--settings", write_json(tmp_path, settings)]) == 2
    err = capsys.readouterr().err
    assert "SESSION_DB_TABLE" in err and "wsgisession createtable" in err
    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        assert not sa.inspect(engine).has_table("typo")
    finally:
        engine.dispose()


def test_a_table_that_is_not_a_session_table_fails(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)"))
    engine.dispose()
    results = SessionMiddleware(lambda e, s: [], {"SECRET_KEY": SECRET, "SESSION_DB_URL": url,
                                                  "SESSION_DB_TABLE": "users"}).check()
    [failed] = failures(results)
    assert failed.setting == "SESSION_DB_TABLE" and "lacks the columns session_key" in failed.message


def test_a_redis_password_missing_fails_naming_the_setting(password_redis: PasswordRedis, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run_check(tmp_path, {"SESSION_ENGINE": "redis", "SESSION_REDIS_URL": password_redis.url(None)},
                            capsys)
    assert status == 1
    assert "FAIL  connect: no password given, and the server requires one" in out
    assert "fix SESSION_REDIS_URL: put the password the server requires in the URL" in out


def test_a_wrong_redis_password_fails_and_is_never_shown(password_redis: PasswordRedis, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run_check(tmp_path, {"SESSION_ENGINE": "redis",
                                       "SESSION_REDIS_URL": password_redis.url("not-the-password")}, capsys)
    assert status == 1
    assert "FAIL  connect: authentication failed" in out and "fix SESSION_REDIS_URL" in out
    assert "not-the-password" not in out


@pytest.mark.parametrize("password", ["Wr0ng pw-x", "Wr0ng'pw-x", 'Wr0ng"pw-x'])
def test_a_wrong_redis_password_with_a_blank_or_a_quote_is_not_shown_in_part(
        password: str, password_redis: PasswordRedis, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run_check(tmp_path, {"SESSION_ENGINE": "redis", "SESSION_REDIS_URL": password_redis.url(password)},
                            capsys)
    assert status == 1 and "FAIL  connect: authentication failed" in out
    assert "Wr0ng" not in out and "pw-x" not in out


def test_the_right_redis_password_passes_every_check(password_redis: PasswordRedis, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run_check(tmp_path, {"SESSION_ENGINE": "redis", "SESSION_REDIS_URL": password_redis.url(PASSWORD),
                                       "SESSION_REDIS_PREFIX": f"check-{secrets.token_hex(4)}"}, capsys)
    assert status == 0, out
    assert [line.split(":")[0].split()[-1] for line in out.splitlines()[:-1]] == [
        "settings", "connect", "version", "scripts", "write"]
    assert PASSWORD not in out


def test_an_unreachable_redis_fails_as_an_outage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run_check(tmp_path, {"SESSION_ENGINE": "redis",
                                       "SESSION_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}, capsys)
    assert status == 1
    assert "FAIL  connect: cannot reach redis://127.0.0.1:" in out and "Connection refused" in out
    assert "start the server, or correct its host and port" in out


def test_an_unknown_postgres_database_fails_naming_the_setting() -> None:
    servers.require_sql(servers.POSTGRES_URL, "PostgreSQL")
    url = servers.POSTGRES_URL.rsplit("/", 1)[0] + "/no_such_database"
    results = SessionMiddleware(lambda e, s: [], {"SECRET_KEY": SECRET, "SESSION_DB_URL": url}).check()
    [failed] = failures(results)
    assert failed.name == "connect" and failed.setting == "SESSION_DB_URL"
    assert failed.message.startswith("unknown database") and '"no_such_database" does not exist' in failed.message


def test_a_wrong_mariadb_user_fails_naming_the_setting_without_its_password() -> None:
    servers.require_sql(servers.MARIADB_URL, "MariaDB")
    host = servers.MARIADB_URL.split("@", 1)[1]
    url = f"mysql+pymysql://no_such_user:hunter2@{host}"
    results = SessionMiddleware(lambda e, s: [], {"SECRET_KEY": SECRET, "SESSION_DB_URL": url}).check()
    [failed] = failures(results)
    assert failed.setting == "SESSION_DB_URL" and failed.message.startswith("authentication failed")
    assert "hunter2" not in failed.message


def test_an_unreachable_database_fails_as_an_outage() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    [failed] = failures(SessionMiddleware(lambda e, s: [], {"SECRET_KEY": SECRET, "SESSION_DB_URL": url}).check())
    assert failed.message.startswith("cannot reach") and "fix SESSION_DB_URL: start the server" in failed.message


def test_a_file_store_and_signed_cookies_pass(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir(mode=0o700)
    for settings in ({"SESSION_ENGINE": "file", "SESSION_FILE_PATH": str(folder)},
                     {"SESSION_ENGINE": "signed_cookies"}):
        results = SessionMiddleware(lambda e, s: [], {"SECRET_KEY": SECRET, **settings}).check()
        assert failures(results) == [], results


def test_cached_db_checks_both_parts(memcached_url: str, tmp_path: Path) -> None:
    results = SessionMiddleware(lambda e, s: [], {
        "SECRET_KEY": SECRET, "SESSION_ENGINE": "cached_db", "SESSION_CACHE_URL": memcached_url,
        "SESSION_DB_URL": f"sqlite:///{tmp_path / 's.sqlite3'}"}).check()
    assert [(result.name, result.ok) for result in results] == [
        ("settings", True), ("database connect", True), ("database table", False),
        ("cache connect", True), ("cache write", True)]


def test_a_cluster_with_unserved_slots_fails(redis_cluster_to_reshard: ClusterTopology) -> None:
    settings = {"SECRET_KEY": SECRET, "SESSION_ENGINE": "redis", **redis_cluster_to_reshard.settings}
    middleware = SessionMiddleware(lambda e, s: [], settings)
    assert failures(middleware.check()) == []
    node = redis_cluster_to_reshard.servers.started[0]
    first, last = next((first, last) for first, last, (_, port, *_) in node.command("CLUSTER", "SLOTS")
                       if int(port) == node.port)
    node.command("CLUSTER", "DELSLOTSRANGE", str(first), str(last))
    [failed] = failures(middleware.check())
    assert failed.name == "cluster" and f"{16384 - (last - first + 1)} of the 16384 slots" in failed.message
    assert "redis-cli --cluster fix" in failed.message


def test_a_postgres_user_without_write_grants_fails_the_write_check() -> None:
    servers.require_sql(servers.POSTGRES_URL, "PostgreSQL")
    suffix = secrets.token_hex(4)
    role, table = f"wsgisession_ro_{suffix}", f"wsgisession_ro_{suffix}"
    admin = sa.create_engine(servers.POSTGRES_URL, isolation_level="AUTOCOMMIT")
    host_and_db = servers.POSTGRES_URL.split("@", 1)[1]
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
        settings = {"SECRET_KEY": SECRET, "SESSION_DB_URL": servers.POSTGRES_URL, "SESSION_DB_TABLE": table}
        assert failures(SessionMiddleware(lambda e, s: [], settings).check())[0].name == "table"  # not made yet
        SessionMiddleware(lambda e, s: [], settings).backend.store.create_table()  # type: ignore[attr-defined]
        with admin.connect() as connection:
            connection.execute(sa.text(f"GRANT SELECT ON {table} TO {role}"))
        results = SessionMiddleware(lambda e, s: [], {**settings, "SESSION_DB_URL": f"postgresql://{role}@{host_and_db}"}
                                    ).check()
        [failed] = failures(results)
        assert failed.name == "write" and failed.setting == "SESSION_DB_URL"
        assert failed.message.startswith("permission denied") and "grant the SESSION_DB_URL user" in failed.message
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
            connection.execute(sa.text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()


def test_a_sentinel_watched_master_passes(redis_sentinel: SentinelTopology) -> None:
    settings = {"SECRET_KEY": SECRET, "SESSION_ENGINE": "redis", **redis_sentinel.settings,
                "SESSION_REDIS_PREFIX": f"check-{secrets.token_hex(4)}"}
    results = SessionMiddleware(lambda e, s: [], settings).check()
    assert failures(results) == [], results
    assert results[1].message.startswith("connected and authenticated to redis+sentinel://127.0.0.1:")


@pytest.mark.parametrize("server", ["sqlite", "postgres", "mariadb"])
def test_every_check_passes_on_a_made_table_and_the_write_check_leaves_no_row(server: str, tmp_path: Path) -> None:
    url = {"sqlite": f"sqlite:///{tmp_path / 's.sqlite3'}", "postgres": servers.POSTGRES_URL,
           "mariadb": servers.MARIADB_URL}[server]
    if server != "sqlite":
        servers.require_sql(url, {"postgres": "PostgreSQL", "mariadb": "MariaDB"}[server])
    table = f"wsgisession_check_{secrets.token_hex(4)}"
    middleware = SessionMiddleware(lambda e, s: [], {"SECRET_KEY": SECRET, "SESSION_DB_URL": url,
                                                     "SESSION_DB_TABLE": table})
    store = middleware.backend.store  # type: ignore[attr-defined]
    store.create_table()
    engine = sa.create_engine(store.url)
    try:
        assert [(result.name, result.ok) for result in middleware.check()] == [
            ("settings", True), ("connect", True), ("table", True), ("write", True)]
        with engine.connect() as connection:
            assert connection.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar() == 0
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP TABLE {table}"))
        engine.dispose()


def test_an_acl_user_passes_on_its_keys_and_is_refused_elsewhere(redis_acl: AclServer) -> None:
    base = {"SECRET_KEY": SECRET, "SESSION_ENGINE": "redis", "SESSION_REDIS_URL": redis_acl.url()}
    allowed = SessionMiddleware(lambda e, s: [], {**base, "SESSION_REDIS_PREFIX": "wsgisession-test-check"})
    assert failures(allowed.check()) == []  # INFO is @dangerous: the version comes from HELLO
    refused = SessionMiddleware(lambda e, s: [], {**base, "SESSION_REDIS_PREFIX": "other-app"})
    [failed] = failures(refused.check())
    assert failed.name == "write" and failed.setting == "SESSION_REDIS_URL"
    assert failed.message.startswith("permission denied") and "SESSION_REDIS_PREFIX" in failed.message
    assert redis_acl.password not in failed.message
