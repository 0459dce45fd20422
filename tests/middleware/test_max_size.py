"""SESSION_MAX_SIZE on every engine: a save past it is refused before anything is written.

The limit is small here (2,000 bytes), below the 64 KiB a signed cookie may carry, so
every engine, signed cookies included, meets it first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from webtest import TestApp
from werkzeug.middleware.lint import LintMiddleware

from tests.middleware.test_behaviour import session_cookies
from wsgisession import CookieTooLargeError, SessionDataError, SessionMiddleware, SessionTooLargeError, get_session

LIMIT = 2000


def json_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """``POST /put``: store each member of the JSON body; ``POST /del``: delete the keys listed; else read."""
    session = get_session(environ)
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    if environ["PATH_INFO"] == "/put":
        session.update(json.loads(body))
    elif environ["PATH_INFO"] == "/del":
        for key in json.loads(body):
            del session[key]
    answer = json.dumps(dict(session)).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))])
    return [answer]


MakeClient = Callable[..., TestApp]


@pytest.fixture
def make_client(engine_settings: dict[str, Any]) -> MakeClient:
    def make(**overrides: Any) -> TestApp:
        settings = {**engine_settings, "SESSION_MAX_SIZE": LIMIT, **overrides}
        return TestApp(LintMiddleware(SessionMiddleware(LintMiddleware(json_app), settings)))
    return make


def post(client: TestApp, path: str, body: Any) -> Any:
    return client.post(path, json.dumps(body).encode(), content_type="application/json")


def test_a_save_past_the_limit_is_refused_naming_the_largest_keys_and_nothing_is_written(
        make_client: MakeClient) -> None:
    client = make_client()
    post(client, "/put", {"count": 1})
    with pytest.raises(SessionDataError) as refused:
        post(client, "/put", {"cart": "c" * 900, "avatar": "a" * 700, "history": "h" * 300, "note": "n" * 100})
    error = refused.value
    assert isinstance(error, SessionTooLargeError) and error.limit == LIMIT
    assert [key for key, _ in error.largest] == ["cart", "avatar", "history"]
    message = str(error)
    assert "'cart' (906 bytes)" in message and "note" not in message and "ccc" not in message
    assert client.get("/get").json == {"count": 1}


def test_a_session_growing_by_small_saves_is_caught(make_client: MakeClient) -> None:
    client = make_client()
    post(client, "/put", {"a": "x" * 800})
    post(client, "/put", {"b": "y" * 800})  # each save is small; the session is not
    with pytest.raises(SessionTooLargeError):
        post(client, "/put", {"c": "z" * 800})
    assert sorted(client.get("/get").json) == ["a", "b"]


def test_deleting_keys_makes_room(make_client: MakeClient) -> None:
    client = make_client()
    post(client, "/put", {"a": "x" * 800, "b": "y" * 800})
    post(client, "/del", ["a"])
    post(client, "/put", {"c": "z" * 800})
    assert sorted(client.get("/get").json) == ["b", "c"]


def test_a_new_session_past_the_limit_is_not_created(make_client: MakeClient) -> None:
    client = make_client()
    with pytest.raises(SessionTooLargeError):
        post(client, "/put", {"big": "x" * LIMIT})
    assert session_cookies(client.get("/get")) == [] and client.get("/get").json == {}


@pytest.mark.parametrize("engine_id", ["db", "redis", "file"])
def test_by_default_a_session_stops_at_one_mebibyte(engine_settings: dict[str, Any]) -> None:
    client = TestApp(SessionMiddleware(json_app, engine_settings))
    post(client, "/put", {"a": "x" * 600_000})
    with pytest.raises(SessionTooLargeError, match=r"SESSION_MAX_SIZE \(1,048,576\)"):
        post(client, "/put", {"b": "y" * 600_000})
    assert sorted(client.get("/get").json) == ["a"]


@pytest.mark.parametrize("engine_id", ["db", "redis"])
def test_none_sets_no_limit(make_client: MakeClient) -> None:
    client = make_client(SESSION_MAX_SIZE=None)
    post(client, "/put", {"a": "x" * 600_000})
    post(client, "/put", {"b": "y" * 600_000})
    assert sorted(client.get("/get").json) == ["a", "b"]


def test_signed_cookies_keep_their_own_64_kib_limit_when_it_is_smaller(
        engine_settings_factory: Callable[[str], dict[str, Any]]) -> None:

    client = TestApp(SessionMiddleware(json_app, engine_settings_factory("signed_cookies")))
    with pytest.raises(CookieTooLargeError):
        post(client, "/put", {"a": "".join(f"{n:x}" for n in range(20_000))})
