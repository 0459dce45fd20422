"""A session store outage inside a Flask app: the middleware's policy and its one log line, not Flask's traceback.

A redis-server of the test's own (tests/private_redis.py) is stopped in the middle of the
test and started again; the shared Redis is never touched.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask

from tests.conftest import SECRET
from tests.flask.apps import WIRINGS, create_app
from tests.flask.conftest import LINT_ERRORS
from tests.private_redis import PrivateRedis

pytestmark = LINT_ERRORS

COOKIE = {"extension": "session", "middleware": "sessionid"}


def app_on(server: PrivateRedis, policy: str, wiring: str = "extension") -> Flask:
    return create_app({"SECRET_KEY": SECRET, "SESSION_ENGINE": "redis", "SESSION_REDIS_URL": server.url,
                       "SESSION_REDIS_CONNECT_TIMEOUT": 0.5, "SESSION_STORE_FAILURE": policy}, wiring)


def error_records(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == logger and record.levelno >= logging.ERROR]


def session_cookies(response: Any, wiring: str) -> list[str]:
    return [value for value in response.headers.getlist("Set-Cookie") if value.startswith(f"{COOKIE[wiring]}=")]


@pytest.mark.parametrize("wiring", WIRINGS)
def test_raise_answers_503_with_one_log_line_and_no_flask_traceback(private_redis: PrivateRedis, wiring: str,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    app = app_on(private_redis, "raise", wiring)
    browser = app.test_client()
    assert browser.get("/inc").json == {"count": 1}
    private_redis.stop()
    with caplog.at_level(logging.ERROR):
        for _ in range(5):
            response = browser.get("/inc")
            assert response.status_code == 503 and response.headers["Retry-After"] == "5"
            assert session_cookies(response, wiring) == []  # the browser keeps its cookie: no logout
    assert len(error_records(caplog, "wsgisession")) == 1  # rate-limited: one line for the burst
    assert error_records(caplog, app.logger.name) == []  # no "Exception on /inc" traceback per request
    if wiring == "extension":  # one failed store call per request: the 503 does not try the store again
        assert app.extensions["wsgisession"].event_counts().store_failures == 5
    private_redis.start()
    assert browser.get("/inc").json == {"count": 2}  # recovered by itself; nothing lost or mixed up


def test_a_logout_during_an_outage_answers_503_and_logs_out_later(private_redis: PrivateRedis,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    """flush() cannot delete the stored session while the store is down: 503, never a fake logout."""
    app = app_on(private_redis, "raise")

    @app.post("/logout-after-read")
    def logout_after_read() -> str:
        from flask import session

        session.get("count")
        private_redis.stop()
        session.flush()
        return "bye"

    browser = app.test_client()
    browser.get("/inc")
    with caplog.at_level(logging.ERROR):
        response = browser.post("/logout-after-read")
    assert response.status_code == 503 and session_cookies(response, "extension") == []
    assert error_records(caplog, app.logger.name) == []
    private_redis.start()
    assert browser.get("/data").json == {"count": 1}


@pytest.mark.parametrize("wiring", WIRINGS)
def test_anonymous_runs_with_an_empty_unsaved_session(private_redis: PrivateRedis, wiring: str) -> None:
    browser = app_on(private_redis, "anonymous", wiring).test_client()
    browser.get("/inc")
    browser.get("/inc")
    private_redis.stop()
    response = browser.get("/inc")
    assert response.status_code == 200 and response.json == {"count": 1}
    assert session_cookies(response, wiring) == []
    private_redis.start()
    assert browser.get("/data").json == {"count": 2}  # the outage was not a logout


def test_a_store_that_dies_before_the_save_answers_503(private_redis: PrivateRedis,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    """The save at start_response fails: the middleware answers 503 itself; Flask logs nothing."""
    app = app_on(private_redis, "raise")

    @app.get("/write-after-outage")
    def write_after_outage() -> str:
        from flask import session

        session["count"] = session.get("count", 0) + 100
        private_redis.stop()  # the store dies while the request runs
        return "written"

    browser = app.test_client()
    browser.get("/inc")
    with caplog.at_level(logging.ERROR):
        response = browser.get("/write-after-outage")
    assert response.status_code == 503 and session_cookies(response, "extension") == []
    assert len(error_records(caplog, "wsgisession")) == 1 and error_records(caplog, app.logger.name) == []
    private_redis.start()
    assert browser.get("/data").json == {"count": 1}
