"""Engine configurations shared by the store contract suite and the middleware suite.

Every configuration uses real servers or the real file system, with a unique Redis
prefix or SQL table per test, cleaned up afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import servers

#: Fixtures shared by several test folders (memcached_url: a memcached of the tests' own).
pytest_plugins = ["tests.private_redis", "tests.memcached_server", "tests.redis_topologies"]

SECRET = "test-secret-key-0123456789abcdef"

#: Every engine configuration; the ones after the first six add real SQL servers.
ENGINE_IDS = ["db", "cache", "cached_db", "file", "signed_cookies", "redis",
              "cache-redis", "db-postgres", "db-mariadb", "cache-memcached", "redis-cluster", "redis-sentinel"]
#: The configurations whose data lives in a server-side store.
STORE_IDS = [engine_id for engine_id in ENGINE_IDS if engine_id != "signed_cookies"]


def _drop_table(url: str, table: str) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(f"DROP TABLE IF EXISTS {table}"))
    engine.dispose()


@pytest.fixture
def engine_settings_factory(tmp_path: Path,
                            request: pytest.FixtureRequest) -> Iterator[Callable[[str], dict[str, Any]]]:
    """Returns ``make(engine_id) -> settings dict``; cleans up whatever the settings created."""
    cleanups: list[Callable[[], None]] = []

    def make(engine_id: str) -> dict[str, Any]:
        unique = uuid.uuid4().hex[:12]
        table = f"wsgisession_test_{unique}"
        prefix = f"wsgisession-test-{unique}"
        settings: dict[str, Any] = {"SECRET_KEY": SECRET}
        if engine_id in ("db", "cached_db"):
            settings.update(SESSION_DB_URL=f"sqlite:///{tmp_path / 'sessions.sqlite3'}", SESSION_DB_TABLE=table)
        if engine_id in ("redis", "cache-redis", "cached_db"):
            servers.require_redis()
            cleanups.append(lambda: servers.drop_redis_keys(prefix))
        if engine_id == "db-postgres":
            servers.require_sql(servers.POSTGRES_URL, "PostgreSQL")
            settings.update(SESSION_DB_URL=servers.POSTGRES_URL, SESSION_DB_TABLE=table)
            cleanups.append(lambda: _drop_table(servers.POSTGRES_URL, table))
        if engine_id == "db-mariadb":
            servers.require_sql(servers.MARIADB_URL, "MariaDB")
            settings.update(SESSION_DB_URL=servers.MARIADB_URL, SESSION_DB_TABLE=table)
            cleanups.append(lambda: _drop_table(servers.MARIADB_URL, table))
        engine = engine_id.split("-")[0]
        settings["SESSION_ENGINE"] = engine
        if engine_id == "redis":
            settings.update(SESSION_REDIS_URL=servers.REDIS_URL, SESSION_REDIS_PREFIX=prefix)
        if engine_id in ("cache-redis", "cached_db"):
            settings.update(SESSION_CACHE_URL=servers.REDIS_URL, SESSION_REDIS_PREFIX=prefix)
        if engine_id == "cache-memcached":
            settings.update(SESSION_CACHE_URL=request.getfixturevalue("memcached_url"), SESSION_REDIS_PREFIX=prefix)
        if engine_id in ("redis-cluster", "redis-sentinel"):  # servers of the test session's own
            topology = request.getfixturevalue(engine_id.replace("-", "_"))
            settings.update(topology.settings, SESSION_REDIS_PREFIX=prefix)
        if engine_id == "file":
            folder = tmp_path / f"sessions-{unique}"
            folder.mkdir()
            settings["SESSION_FILE_PATH"] = str(folder)
        return settings

    yield make
    for cleanup in cleanups:
        cleanup()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A Redis key prefix of this test's own; its keys are deleted afterwards."""
    servers.require_redis()
    prefix = f"wsgisession-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    servers.drop_redis_keys(prefix)


@pytest.fixture(params=ENGINE_IDS)
def engine_id(request: pytest.FixtureRequest) -> str:
    """Each engine configuration in turn."""
    return str(request.param)


@pytest.fixture
def engine_settings(engine_id: str, engine_settings_factory: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """The settings dict of the engine configuration under test."""
    return engine_settings_factory(engine_id)
