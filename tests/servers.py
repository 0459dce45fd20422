"""Where the test servers are: URLs from environment variables, loopback defaults.

A server that cannot be reached is a failing test with a message saying how to start
it, never a skip.
"""

from __future__ import annotations

import os

import pytest

REDIS_URL = os.environ.get("WSGISESSION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get("WSGISESSION_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIADB_URL = os.environ.get("WSGISESSION_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")

_HOW_TO_START = {
    "Redis": "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no",
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "MariaDB": "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd",
}


def require_redis(url: str = REDIS_URL) -> None:
    """Fail the test with a clear message if Redis is not reachable at ``url``."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _unreachable("Redis", url, exc)


def require_sql(url: str, name: str) -> None:
    """Fail the test with a clear message if the SQL server at ``url`` is not reachable."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
    except sqlalchemy.exc.SQLAlchemyError as exc:
        _unreachable(name, url, exc)
    finally:
        engine.dispose()


def drop_redis_keys(prefix: str, url: str = REDIS_URL) -> None:
    """Delete the keys under ``prefix`` only (SCAN + DEL; never FLUSHALL)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _unreachable(name: str, url: str, exc: Exception) -> None:
    pytest.fail(f"{name} is not reachable at {url} ({exc}). Start it with: {_HOW_TO_START[name]}"
                f" or point the WSGISESSION_TEST_* variables at one.", pytrace=False)
