"""A session used while the body streams (Flask, Bottle, Falcon, Pyramid start the response first)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from webtest import TestApp
from werkzeug.middleware.lint import LintMiddleware

from tests.middleware.apps import behaviour_app
from tests.middleware.conftest import MakeClient
from tests.middleware.test_store_traffic import count_redis_commands, middleware_and_client
from wsgisession import SessionMiddleware, _commit, get_session

pytestmark = pytest.mark.filterwarnings("error::werkzeug.middleware.lint.WSGIWarning")

NO_VARY_WARNING = "no 'Vary: Cookie'"


@pytest.fixture
def fresh_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a newly started worker: the once-per-process warning not given yet."""
    monkeypatch.setattr(_commit, "_warned_no_vary", False, raising=False)


def warnings_about(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "wsgisession" and text in r.getMessage()]


def test_a_session_first_written_while_the_body_streams_is_saved_at_close(client: TestApp, engine_id: str) -> None:
    client.get("/inc")
    client.get("/stream-first?vary=Cookie")
    expected = {"count": 1} if engine_id == "signed_cookies" else {"count": 1, "streamed": True}
    assert client.get("/get").json == expected  # a cookie cannot change once the body started


def test_a_new_session_first_written_while_streaming_is_dropped_with_a_warning(
        client: TestApp, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="wsgisession"):
        response = client.get("/stream-first?vary=Cookie")
    assert "Set-Cookie" not in response.headers
    assert warnings_about(caplog, "does not hold; dropped")
    assert client.get("/get").json == {}


def test_save_every_request_sends_no_vary_for_an_untouched_request_without_cookie(make_client: MakeClient) -> None:
    client = make_client(SESSION_SAVE_EVERY_REQUEST=True)
    response = client.get("/untouched")
    assert "Vary" not in response.headers and "Set-Cookie" not in response.headers
    assert client.get("/get").headers["Vary"] == "Cookie"  # a session the app reads still varies


@pytest.mark.usefixtures("fresh_worker")
def test_first_use_while_streaming_without_vary_is_warned_once(client: TestApp,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    client.get("/inc")
    with caplog.at_level(logging.WARNING, logger="wsgisession"):
        client.get("/stream-first?vary=Cookie")  # the app varies on Cookie itself: nothing to say
        assert warnings_about(caplog, NO_VARY_WARNING) == []
        client.get("/stream-first")
        client.get("/stream-first")
    assert len(warnings_about(caplog, NO_VARY_WARNING)) == 1


@pytest.mark.usefixtures("fresh_worker")
def test_a_session_used_before_the_response_started_is_not_warned_about(client: TestApp,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="wsgisession"):
        client.get("/inc")
        client.get("/get")  # a body that is not a list: closed by the middleware, after the commit point
    assert warnings_about(caplog, NO_VARY_WARNING) == []


@pytest.mark.parametrize("engine_id", ["redis"])
def test_save_every_request_saves_a_streamed_response_once(engine_settings: dict[str, Any]) -> None:
    middleware, client = middleware_and_client({**engine_settings, "SESSION_SAVE_EVERY_REQUEST": True})
    client.get("/inc")
    client.get("/inc")  # the save script is loaded on the server by now
    sent = count_redis_commands(middleware.backend.store.client)  # type: ignore[attr-defined]
    client.get("/get")  # a body the middleware closes: saved at the commit point, nothing changed later
    assert sent == ["HGETALL", "EVALSHA"]
    sent.clear()
    client.get("/stream")  # saved at the commit point, then once more for the write while streaming
    assert sent == ["HGETALL", "EVALSHA", "EVALSHA"]


def _write_after_start_then_list(environ: dict[str, Any], start_response: Any) -> Any:
    """Starts its response, then first uses the session, and returns a list (a plain WSGI app may)."""
    if environ["PATH_INFO"] != "/late-list":
        return behaviour_app(environ, start_response)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Vary", "Cookie")])
    get_session(environ)["late"] = True
    return [b"ok"]


def test_a_session_first_written_after_start_response_is_saved_when_the_body_is_a_list(
        engine_settings: dict[str, Any], engine_id: str) -> None:
    client = TestApp(LintMiddleware(SessionMiddleware(_write_after_start_then_list, engine_settings)))
    client.get("/inc")
    client.get("/late-list")
    expected = {"count": 1} if engine_id == "signed_cookies" else {"count": 1, "late": True}
    assert client.get("/get").json == expected
