"""Idle and absolute expiry in real time (ages of a few seconds), on stores that expire by themselves
(Redis TTLs) and stores the server checks (SQL, signed cookies). Most expiry tests use a fake clock;
these few prove the real one."""

from __future__ import annotations

import time
from typing import Any

import pytest
from webtest import TestApp

from tests.middleware.apps import behaviour_app
from wsgisession import SessionMiddleware

ENGINES = ["redis", "db", "signed_cookies"]


@pytest.mark.parametrize("engine_id", ENGINES)
def test_an_idle_session_dies_after_the_cookie_age(engine_settings: dict[str, Any]) -> None:
    client = TestApp(SessionMiddleware(behaviour_app, {**engine_settings, "SESSION_COOKIE_AGE": 2}))
    client.get("/inc")
    time.sleep(1)
    assert client.get("/get").json == {"count": 1}
    time.sleep(1.5)
    cookie = {"HTTP_COOKIE": f"sessionid={client.cookies['sessionid']}"}  # as a browser ignoring Max-Age would
    assert client.get("/get", extra_environ=cookie).json == {}


@pytest.mark.parametrize("engine_id", ENGINES)
def test_an_active_session_dies_at_the_absolute_age(engine_settings: dict[str, Any]) -> None:
    settings = {**engine_settings, "SESSION_COOKIE_AGE": 2, "SESSION_ABSOLUTE_AGE": 3, "SESSION_TOUCH_INTERVAL": 0}
    client = TestApp(SessionMiddleware(behaviour_app, settings))
    client.get("/inc")
    for _ in range(2):
        time.sleep(1)
        assert client.get("/inc").json["count"] >= 2  # kept alive by activity
    time.sleep(1.3)
    cookie = {"HTTP_COOKIE": f"sessionid={client.cookies['sessionid']}"}
    assert client.get("/get", extra_environ=cookie).json == {}
