"""Strings no store can encode (lone surrogates, which ``json.loads`` makes of client JSON), on every engine.

Every engine answers alike: ``SessionDataError`` naming the key, raised at the commit point
before anything is written, so the stored session stays as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pytest
from webtest import TestApp
from werkzeug.middleware.lint import LintMiddleware

from wsgisession import SessionDataError, SessionMiddleware, get_session


def json_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """``POST /put`` stores each member of the JSON body (parsed as an app would); any other path reads."""
    session = get_session(environ)
    if environ["PATH_INFO"] == "/put":
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        session.update(json.loads(body))
    elif environ["PATH_INFO"] == "/user":
        session.set_user(json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))))
    answer = json.dumps(dict(session)).encode()  # ensure_ascii: a lone surrogate is written as an escape
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))])
    return [answer]


@pytest.fixture
def client(engine_settings: dict[str, Any]) -> TestApp:
    return TestApp(LintMiddleware(SessionMiddleware(LintMiddleware(json_app), engine_settings)))


def put(client: TestApp, body: str) -> Any:
    return client.post("/put", body.encode("utf-8"), content_type="application/json")


@pytest.mark.parametrize(("body", "key"), [
    ('{"name": "\\ud800"}', "name"),
    ('{"name": "abc\\udfff"}', "name"),
    ('{"profile": {"first": "\\udc80", "last": "x"}}', "profile"),
    ('{"tags": ["ok", "\\ud83d"]}', "tags"),
    ('{"\\ud800": "value"}', "\ud800"),
])
def test_a_lone_surrogate_is_refused_naming_the_key_and_nothing_is_written(
        client: TestApp, body: str, key: str) -> None:
    put(client, '{"count": 1}')
    with pytest.raises(SessionDataError) as refused:
        put(client, body)
    assert refused.value.key == key and repr(key) in str(refused.value)
    assert client.get("/get").json == {"count": 1}


def test_a_new_session_holding_a_lone_surrogate_is_not_created(client: TestApp) -> None:
    with pytest.raises(SessionDataError, match="'name'"):
        put(client, '{"count": 1, "name": "\\ud800"}')
    assert "sessionid" not in client.cookies


def test_a_surrogate_pair_is_a_character_and_is_kept(client: TestApp) -> None:
    put(client, '{"smile": "\\ud83d\\ude00", "café": "€"}')
    assert client.get("/get").json == {"smile": "\U0001f600", "café": "€"}


def test_a_user_id_no_store_can_encode_is_refused(client: TestApp) -> None:
    put(client, '{"count": 1}')
    with pytest.raises(ValueError, match="user id"):
        client.post("/user", b'"\\ud800"', content_type="application/json")
    assert client.get("/get").json == {"count": 1}
