"""SESSION_NEW_TTL on every server-side engine: a session nobody came back for dies early.

A session created by a request is stored for SESSION_NEW_TTL only; the first request
that brings its cookie back renews it to the normal idle expiry (a touch, whatever
SESSION_TOUCH_INTERVAL says). Time is the middleware's injected clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import pytest
from webtest import TestApp
from werkzeug.middleware.lint import LintMiddleware

from tests.conftest import STORE_IDS
from tests.middleware.conftest import MakeClient
from tests.middleware.test_behaviour import cookie_attributes, session_cookies
from wsgisession import ConfigurationError, SessionMiddleware, Settings, get_session

on_every_store = pytest.mark.parametrize("engine_id", STORE_IDS)

AGE = 3600
NEW_TTL = 300
#: Longer than the session's age: only the first return's own rule can renew it.
NEVER = 10 * AGE


def clocked(make_client: MakeClient, **overrides: Any) -> tuple[TestApp, list[float]]:
    now = [time.time()]
    settings = {"SESSION_COOKIE_AGE": AGE, "SESSION_NEW_TTL": NEW_TTL, "SESSION_TOUCH_INTERVAL": NEVER, **overrides}
    return make_client(clock=lambda: now[0], **settings), now


@on_every_store
def test_a_visitor_who_never_comes_back_is_gone_after_new_ttl(make_client: MakeClient) -> None:
    client, now = clocked(make_client)
    [header] = session_cookies(client.get("/inc"))
    assert cookie_attributes(header)["max-age"] == str(AGE)  # the browser keeps it as long as ever
    now[0] += NEW_TTL + 1
    assert client.get("/get").json == {}


@on_every_store
def test_a_visitor_who_comes_back_gets_the_normal_idle_expiry(make_client: MakeClient) -> None:
    client, now = clocked(make_client)
    client.get("/inc")
    now[0] += 60
    [header] = session_cookies(client.get("/get"))  # the first return renews it, though no interval passed
    assert cookie_attributes(header)["max-age"] == str(AGE)
    assert session_cookies(client.get("/get")) == []  # and only the first
    now[0] += AGE - 120  # long past NEW_TTL, within the normal expiry
    assert client.get("/get").json == {"count": 1}


@on_every_store
def test_a_returning_visitor_who_changes_the_session_gets_the_normal_idle_expiry(make_client: MakeClient) -> None:
    client, now = clocked(make_client)
    client.get("/inc")
    now[0] += 60
    client.get("/inc")
    now[0] += AGE - 120
    assert client.get("/get").json == {"count": 2}


@on_every_store
def test_off_by_default(make_client: MakeClient) -> None:
    client, now = clocked(make_client, SESSION_NEW_TTL=None)
    client.get("/inc")
    now[0] += AGE - 60
    assert client.get("/get").json == {"count": 1}


def first_request_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """``/start``: set a key, ``session.save()`` (Django apps do, to get a key), then set another;
    ``/deadline``: set a key and a deadline AGE from now; anything else reads."""
    session = get_session(environ)
    if environ["PATH_INFO"] == "/start":
        session["a"] = 1
        session.save()
        session["b"] = 2
    elif environ["PATH_INFO"] == "/deadline":
        session["a"] = 1
        session.set_expiry(timedelta(seconds=AGE))
    body = str(sorted(session)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def first_request_client(engine_settings: dict[str, Any]) -> tuple[TestApp, list[float]]:
    now = [time.time()]
    settings = {**engine_settings, "SESSION_COOKIE_AGE": AGE, "SESSION_NEW_TTL": NEW_TTL}
    app = SessionMiddleware(LintMiddleware(first_request_app), settings, clock=lambda: now[0])
    return TestApp(LintMiddleware(app)), now


@on_every_store
def test_a_session_saved_twice_by_its_first_request_is_still_on_probation(engine_settings: dict[str, Any]) -> None:
    client, now = first_request_client(engine_settings)
    assert client.get("/start").text == "['a', 'b']"
    now[0] += NEW_TTL + 1
    assert client.get("/read").text == "[]"


@on_every_store
def test_a_one_shot_visitor_with_a_deadline_is_gone_after_new_ttl(engine_settings: dict[str, Any]) -> None:
    client, now = first_request_client(engine_settings)
    client.get("/deadline")
    now[0] += NEW_TTL + 1
    assert client.get("/read").text == "[]"


@on_every_store
def test_a_deadline_set_at_creation_holds_once_the_visitor_comes_back(engine_settings: dict[str, Any]) -> None:
    client, now = first_request_client(engine_settings)
    client.get("/deadline")
    now[0] += 60
    [header] = session_cookies(client.get("/read"))  # a deadline is never renewed, but the first return is
    assert AGE - 61 <= int(cookie_attributes(header)["max-age"]) <= AGE - 60  # microseconds: a datetime's
    now[0] += AGE - 120
    assert client.get("/read").text == "['a']"
    now[0] += 61
    assert client.get("/read").text == "[]"  # and the deadline holds


def test_refused_with_signed_cookies(engine_settings_factory: Callable[[str], dict[str, Any]]) -> None:
    settings = {**engine_settings_factory("signed_cookies"), "SESSION_NEW_TTL": NEW_TTL}
    with pytest.raises(ConfigurationError, match="SESSION_NEW_TTL: expected None with signed_cookies"):
        Settings.from_mapping(settings)
