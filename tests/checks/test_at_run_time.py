"""A store misconfigured at run time answers 500 and is logged once per worker; an outage keeps its 503."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from webtest import TestApp

from tests import servers
from tests.checks.conftest import PasswordRedis, free_port
from tests.conftest import SECRET
from tests.middleware.apps import behaviour_app
from wsgisession import SessionMiddleware


def client(settings: dict[str, str]) -> TestApp:
    return TestApp(SessionMiddleware(behaviour_app, {"SECRET_KEY": SECRET, **settings}))


def critical_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno == logging.CRITICAL]


def test_a_wrong_redis_password_answers_500_logged_once(password_redis: PasswordRedis,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    app = client({"SESSION_ENGINE": "redis", "SESSION_REDIS_URL": password_redis.url("not-the-password")})
    with caplog.at_level(logging.ERROR, logger="wsgisession"):
        for _ in range(3):
            response = app.get("/inc", status=500)
            assert "try again" not in response.text.lower() and "Retry-After" not in response.headers
    [line] = critical_lines(caplog)
    assert "SESSION_REDIS_URL" in line and f"127.0.0.1:{password_redis.port}" in line
    assert "authentication failed" in line and "not-the-password" not in line
    counts = app.app.event_counts()
    assert counts.store_failures == 3 and counts.misconfigurations == 3


def test_a_wrong_redis_password_with_a_blank_is_not_logged_in_part(password_redis: PasswordRedis,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    app = client({"SESSION_ENGINE": "redis", "SESSION_REDIS_URL": password_redis.url("Wr0ng pw-x")})
    with caplog.at_level(logging.ERROR, logger="wsgisession"):
        app.get("/inc", status=500)
    [line] = critical_lines(caplog)
    assert "authentication failed" in line and "Wr0ng" not in line and "pw-x" not in line


def test_a_missing_redis_password_answers_500(password_redis: PasswordRedis) -> None:
    app = client({"SESSION_ENGINE": "redis", "SESSION_REDIS_URL": password_redis.url(None)})
    assert "misconfigured" in app.get("/inc", status=500).text


def test_an_unknown_postgres_database_answers_500_naming_the_setting(caplog: pytest.LogCaptureFixture) -> None:
    servers.require_sql(servers.POSTGRES_URL, "PostgreSQL")
    url = servers.POSTGRES_URL.rsplit("/", 1)[0] + "/no_such_database"
    with caplog.at_level(logging.ERROR, logger="wsgisession"):
        client({"SESSION_DB_URL": url}).get("/inc", status=500)
    [line] = critical_lines(caplog)
    assert "SESSION_DB_URL" in line and "unknown database" in line


def test_an_unreachable_redis_is_still_an_outage(caplog: pytest.LogCaptureFixture) -> None:
    app = client({"SESSION_ENGINE": "redis", "SESSION_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    with caplog.at_level(logging.ERROR, logger="wsgisession"):
        response = app.get("/inc", status=503)
    assert response.headers["Retry-After"] == "5" and critical_lines(caplog) == []
    assert app.app.event_counts().misconfigurations == 0


def test_a_wrong_mariadb_user_answers_500() -> None:
    servers.require_sql(servers.MARIADB_URL, "MariaDB")
    url = f"mysql+pymysql://no_such_user:hunter2@{servers.MARIADB_URL.split('@', 1)[1]}"
    response = client({"SESSION_DB_URL": url}).get("/inc", status=500)
    assert "hunter2" not in response.text


def test_an_unreachable_database_is_still_an_outage() -> None:
    app = client({"SESSION_DB_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/test"})
    assert app.get("/inc", status=503).headers["Retry-After"] == "5"


def test_a_file_folder_removed_after_start_answers_500_naming_the_setting(tmp_path: Path,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir(mode=0o700)
    app = client({"SESSION_ENGINE": "file", "SESSION_FILE_PATH": str(folder)})
    folder.rmdir()
    with caplog.at_level(logging.ERROR, logger="wsgisession"):
        app.get("/inc", status=500)
    [line] = critical_lines(caplog)
    assert "SESSION_FILE_PATH" in line and str(folder) in line
