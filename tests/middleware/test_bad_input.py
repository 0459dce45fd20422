"""Bad input never crashes a request, never shows another session, never escapes the file folder."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

from tests.conftest import SECRET, STORE_IDS
from tests.middleware.apps import behaviour_app
from tests.middleware.conftest import MakeClient
from wsgisession import CookieTooLargeError, SessionMiddleware
from wsgisession.signing import SessionIdSigner

HOSTILE_COOKIE_HEADERS = [
    "sessionid=garbage",
    "sessionid=" + "x" * 10_000,
    "sessionid=ключ-сессии".encode().decode("latin-1"),  # UTF-8 bytes, as WSGI passes them
    "sessionid=\xe9\xff\xfe",
    "sessionid=",
    "sessionid",
    "sessionid=a; sessionid=b",
    "sessionid=../../../../etc/passwd",
    "sessionid=" + "../" * 14 + "a",
    "sessionid=" + "a" * 21 + "/" + "a" * 21,
    "sessionid=" + "a" * 42 + "\x00",
    "sessionid=" + "." * 43,
    'sessionid="quoted\\"value"',
    ";;;===;;; sessionid=;=",
    "\x00\x01\x02",
    "sessionid=" + "A" * 43,  # the right shape, but a key nobody issued
]


def files_outside(root: Path, folder: str | None) -> set[Path]:
    """Files under ``root`` outside the file engine's ``folder`` (none are checked for other engines)."""
    if folder is None:
        return set()
    return {path for path in root.rglob("*") if path.is_file() and Path(folder) not in path.parents}


@pytest.mark.parametrize("header", HOSTILE_COOKIE_HEADERS)
def test_hostile_cookies_give_an_empty_new_session(make_client: MakeClient, engine_settings: dict[str, Any],
                                                   tmp_path: Path, header: str) -> None:
    before = files_outside(tmp_path, engine_settings.get("SESSION_FILE_PATH"))
    client = make_client()
    response = client.get("/get", extra_environ={"HTTP_COOKIE": header})
    assert response.status_int == 200 and response.json == {}
    response = client.get("/set?mine=1", extra_environ={"HTTP_COOKIE": header})
    new_value = client.cookies["sessionid"]
    assert new_value not in header  # a client-supplied key is never adopted
    assert client.get("/get").json == {"mine": "1"}
    assert files_outside(tmp_path, engine_settings.get("SESSION_FILE_PATH")) == before


def test_duplicated_cookie_never_shows_another_users_data(make_client: MakeClient) -> None:
    """Only a session whose exact cookie the header carries shows (the first that loads: see
    test_cookie_tossing.py); garbage beside it changes nothing, and sessions never mix."""
    client = make_client()
    client.get("/set?who=alice")
    alice = client.cookies["sessionid"]
    client.reset()
    client.get("/set?who=bob")
    bob = client.cookies["sessionid"]
    for header, shown in [(f"sessionid=garbage; sessionid={bob}", {"who": "bob"}),
                          (f"sessionid={alice}; sessionid={bob}", {"who": "alice"}),
                          (f"sessionid={alice[:-1]}; sessionid={bob[:-1]}", {})]:
        client.reset()
        assert client.get("/get", extra_environ={"HTTP_COOKIE": header}).json == shown


def test_other_cookies_are_left_alone(client: TestApp) -> None:
    response = client.get("/inc", extra_environ={"HTTP_COOKIE": "theme=dark; csrftoken=abc"})
    assert [h for h in response.headers.getall("Set-Cookie") if not h.startswith("sessionid=")] == []


def signed_client(**overrides: Any) -> TestApp:
    settings = {"SESSION_ENGINE": "signed_cookies", "SECRET_KEY": SECRET, **overrides}
    return TestApp(SessionMiddleware(behaviour_app, settings))


def test_tampered_signed_cookie_reads_as_empty_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    client = signed_client()
    client.get("/set?role=user")
    value = client.cookies["sessionid"]
    payload, _, signature = value.rpartition(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    with caplog.at_level(logging.WARNING, logger="wsgisession"):
        response = signed_client().get("/get", extra_environ={"HTTP_COOKIE": f"sessionid={forged}"})
    assert response.json == {} and "bad signature" in caplog.text


def test_signed_cookie_from_another_key_reads_as_empty() -> None:
    client = signed_client(SECRET_KEY="another-secret-key-of-some-length")
    client.get("/set?role=admin")
    stolen = client.cookies["sessionid"]
    assert signed_client().get("/get", extra_environ={"HTTP_COOKIE": f"sessionid={stolen}"}).json == {}


def test_secret_key_rotation_keeps_old_cookies_valid() -> None:
    old_key = "the-old-secret-key-0123456789abcdef"
    client = signed_client(SECRET_KEY=old_key)
    client.get("/set?user=bob")
    cookie = f"sessionid={client.cookies['sessionid']}"
    rotated = signed_client(SECRET_KEY_FALLBACKS=[old_key])
    assert rotated.get("/get", extra_environ={"HTTP_COOKIE": cookie}).json == {"user": "bob"}
    response = rotated.get("/inc", extra_environ={"HTTP_COOKIE": cookie})
    new_cookie = f"sessionid={rotated.cookies['sessionid']}"
    assert signed_client().get("/get", extra_environ={"HTTP_COOKIE": new_cookie}).json == {"user": "bob", "count": 1}
    assert response.status_int == 200


def test_signed_cookie_over_the_browser_limit_is_a_clear_error() -> None:
    client = signed_client()
    with pytest.raises(CookieTooLargeError, match=r"\d+ bytes, over the browser limit of 4096"):
        client.get("/set?big=" + secrets.token_urlsafe(4000))


@pytest.mark.parametrize(("engine", "settings"), [
    ("redis", {"SESSION_REDIS_URL": "redis://127.0.0.1:1/0"}),
    ("db", {"SESSION_DB_URL": "postgresql+psycopg://postgres@127.0.0.1:1/test"}),
])
def test_a_store_that_is_down_fails_the_request_clearly_and_is_logged(
        engine: str, settings: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    middleware = SessionMiddleware(behaviour_app, {"SESSION_ENGINE": engine, "SECRET_KEY": SECRET, **settings})
    client = TestApp(middleware)
    with caplog.at_level(logging.ERROR, logger="wsgisession"):
        response = client.get("/inc", status=503)  # a new session: the save fails
    assert "failed to save" in caplog.text and engine in caplog.text
    assert response.headers["Retry-After"] and "Set-Cookie" not in response.headers
    signed = SessionIdSigner(SECRET).sign("A" * 43)
    client.get("/get", extra_environ={"HTTP_COOKIE": f"sessionid={signed}"}, status=503)  # the load fails
    assert middleware.event_counts().store_failures == 2


@pytest.mark.parametrize("engine_id", STORE_IDS)
def test_a_cookie_signed_with_a_fallback_key_is_signed_again_with_the_current_key(
        engine_settings: dict[str, Any]) -> None:
    old_key = "the-old-secret-key-0123456789abcdef"
    middleware = SessionMiddleware(behaviour_app, {**engine_settings, "SECRET_KEY_FALLBACKS": [old_key]})
    client = TestApp(middleware)
    client.get("/set?user=bob")
    session_key, _ = SessionIdSigner(SECRET).unsign(client.cookies["sessionid"]) or ("", False)
    old_cookie = SessionIdSigner(old_key).sign(session_key)

    TestApp(middleware).get("/inc", extra_environ={"HTTP_COOKIE": f"sessionid={old_cookie}"})
    renewed = TestApp(middleware)
    response = renewed.get("/inc", extra_environ={"HTTP_COOKIE": f"sessionid={old_cookie}"})

    assert response.json == {"user": "bob", "count": 2}
    assert renewed.cookies["sessionid"] == SessionIdSigner(SECRET).sign(session_key)
