"""SESSION_STORE_FAILURE with a real Redis stopped in the middle of the test, and started again.

The test runs its own redis-server on a free loopback port (persisting to an append-only
file in tmp_path, so a restart keeps the data) and never touches the shared one.
"""

from __future__ import annotations

import logging

import pytest
from webtest import TestApp

from tests.conftest import SECRET
from tests.middleware.apps import behaviour_app
from tests.middleware.test_behaviour import session_cookies
from tests.private_redis import PrivateRedis
from wsgisession import SessionMiddleware


def settings_for(server: PrivateRedis, policy: str) -> dict[str, str]:
    return {"SECRET_KEY": SECRET, "SESSION_ENGINE": "redis", "SESSION_REDIS_URL": server.url,
            "SESSION_STORE_FAILURE": policy}


def client_on(server: PrivateRedis, policy: str) -> TestApp:
    return TestApp(SessionMiddleware(behaviour_app, settings_for(server, policy)))


def test_raise_answers_503_logs_once_per_burst_and_recovers(private_redis: PrivateRedis,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    client = client_on(private_redis, "raise")
    client.get("/inc")
    private_redis.stop()
    with caplog.at_level(logging.ERROR, logger="wsgisession"):
        for _ in range(5):
            response = client.get("/inc", status=503)
            assert session_cookies(response) == []  # the browser keeps its cookie: no logout
    assert client.app.event_counts().store_failures == 5
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1  # not a log flood
    private_redis.start()
    assert client.get("/inc").json == {"count": 2}  # recovered by itself, nothing lost or mixed up


def test_anonymous_runs_with_an_empty_unsaved_session_and_no_cookie_change(private_redis: PrivateRedis) -> None:
    client = client_on(private_redis, "anonymous")
    client.get("/inc")
    client.get("/inc")
    private_redis.stop()
    response = client.get("/inc")
    assert response.status_int == 200 and response.json == {"count": 1}  # an empty session for this request
    assert session_cookies(response) == []
    assert client.get("/get").json == {}
    private_redis.start()
    assert client.get("/get").json == {"count": 2}  # the outage was not a logout


def test_a_store_that_dies_between_load_and_save(private_redis: PrivateRedis) -> None:
    for policy, status in (("raise", 503), ("anonymous", 200)):
        client = client_on(private_redis, policy)
        client.get("/inc")

        def slow_app(environ: dict[str, object], start_response: object) -> object:
            from wsgisession import get_session

            get_session(environ).get("count")
            private_redis.stop()  # the store dies while the request runs
            return behaviour_app(environ, start_response)  # type: ignore[arg-type]

        dying = TestApp(SessionMiddleware(slow_app, settings_for(private_redis, policy)))
        response = dying.get("/inc", extra_environ={"HTTP_COOKIE": f"sessionid={client.cookies['sessionid']}"},
                             status=status)
        assert session_cookies(response) == []
        private_redis.start()
        assert client.get("/get").json == {"count": 1}
