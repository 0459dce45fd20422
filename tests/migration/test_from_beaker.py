"""Leaving Beaker: a real Beaker app (cookie-only sessions, JSON, validate_key) logs a browser in; the
application switches to wsgisession with SESSION_MIGRATE_FROM; the browser stays logged in."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from beaker.middleware import SessionMiddleware as BeakerMiddleware
from webtest import TestApp

from tests.middleware.apps import behaviour_app
from wsgisession import SessionMiddleware

VALIDATE_KEY = "beaker-validate-key-0p9o8i7u6y5t4r3e2w1q"
OUR_SECRET = "wsgisession-key-0a9s8d7f6g5h4j3k2l1qwerty"


def beaker_login(serializer: str = "json") -> str:
    """Log alice in with Beaker's cookie-only sessions; her cookie."""
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        session = environ["beaker.session"]
        session["user"] = "alice"
        session["cart"] = ["book", 2]
        session.save()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(dict(session)).encode()]

    browser = TestApp(BeakerMiddleware(app, {"session.type": "cookie", "session.validate_key": VALIDATE_KEY,
                                             "session.data_serializer": serializer, "session.timeout": 3600}))
    browser.get("/")
    return str(browser.cookies["beaker.session.id"])


def migrating(tmp_path: Path, clock: Any = time.time) -> TestApp:
    return TestApp(SessionMiddleware(behaviour_app, {
        "SECRET_KEY": OUR_SECRET, "SESSION_ENGINE": "file", "SESSION_FILE_PATH": str(tmp_path),
        "SESSION_MIGRATE_FROM": {"SESSION_ENGINE": "beaker.cookie", "SECRET_KEY": VALIDATE_KEY,
                                 "SESSION_COOKIE_NAME": "beaker.session.id", "SESSION_COOKIE_AGE": 3600}},
        clock=clock))


def test_a_beaker_browser_stays_logged_in(tmp_path: Path) -> None:
    app = migrating(tmp_path)
    app.set_cookie("beaker.session.id", beaker_login())
    assert app.get("/").json == {"user": "alice", "cart": ["book", 2]}
    assert "sessionid" in app.cookies
    app.set_cookie("beaker.session.id", "")
    assert app.get("/").json == {"user": "alice", "cart": ["book", 2]}


@pytest.mark.parametrize("forge", [
    lambda cookie: "0" * 40 + cookie.strip('"')[40:],  # another signature
    lambda cookie: cookie.strip('"')[:40] + cookie.strip('"')[41:],  # the data changed
])
def test_a_cookie_beaker_did_not_sign_is_refused(tmp_path: Path, forge: Any) -> None:
    app = migrating(tmp_path)
    app.set_cookie("beaker.session.id", forge(beaker_login()))
    assert app.get("/").json == {}


def test_a_pickled_beaker_cookie_is_never_unpickled(tmp_path: Path) -> None:
    app = migrating(tmp_path)
    app.set_cookie("beaker.session.id", beaker_login("pickle"))
    assert app.get("/").json == {}


def test_a_beaker_session_past_its_timeout_is_not_a_session(tmp_path: Path) -> None:
    app = migrating(tmp_path, clock=lambda: time.time() + 3601)
    app.set_cookie("beaker.session.id", beaker_login())
    assert app.get("/").json == {}
