"""``flask.session`` backed by wsgisession, through Flask's test client, on every engine and both wirings.

The first tests port Flask-Session's own suite (pallets-eco/flask-session, tests/); their
docstrings name the original. The tests taking ``flask_engine`` run on every engine configuration
(tests/conftest.py ``ENGINE_IDS``); those about overlapping requests and revocation leave out
``signed_cookies``, whose data the browser holds (no store to share or revoke).
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable
from typing import Any

import flask
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.middleware.lint import WSGIWarning

from tests import servers
from tests.flask.conftest import FLASK_ENGINES, LINT_ERRORS, MakeApp
from wsgisession.flask import FlaskSession, Session

pytestmark = LINT_ERRORS

#: With signed_cookies the browser holds the data: overlapping requests and revocation do not apply.
SERVER_SIDE_ENGINES = [engine for engine in FLASK_ENGINES if engine != "signed_cookies"]
COOKIE = {"extension": "session", "middleware": "sessionid"}  # Flask's cookie name, and the middleware default's


def session_cookies(response: Any, name: str = "session") -> list[str]:
    return [value for value in response.headers.getlist("Set-Cookie") if value.startswith(f"{name}=")]


def cookie_value(client: FlaskClient, name: str = "session") -> str:
    cookie = client.get_cookie(name)
    assert cookie is not None, f"the browser holds no {name!r} cookie"
    return cookie.value


def browser_with(app: Flask, value: str, name: str = "session") -> FlaskClient:
    """A second browser holding only the session cookie ``value``."""
    other = app.test_client()
    other.set_cookie(name, value)
    return other


def test_session(make_app: MakeApp, flask_engine: str, wiring: str) -> None:
    """Flask-Session's ``Utils.test_session`` (run by test_redis_default, test_memcached_default,
    test_filesystem_default, test_use_signer for SQLAlchemy, and the cachelib test)."""
    client = make_app(flask_engine, wiring).test_client()
    assert client.get("/get").data not in [b"42", b"43", b"44"]
    assert "Vary" not in client.get("/").headers

    assert client.post("/set", data={"value": "42"}).data == b"value set"
    assert client.get("/get").data == b"42"
    assert client.get("/get").headers["Vary"] == "Cookie"

    assert client.post("/modify", data={"value": "43"}).data == b"value set"
    assert client.get("/get").data == b"43"
    assert client.post("/delete").data == b"value deleted"
    assert client.get("/get").data == b"no value set"


def test_session_with_cookie(make_app: MakeApp, flask_engine: str, wiring: str) -> None:
    """Flask-Session's ``Utils.test_session_with_cookie`` and the "session is stored in <store>" checks
    of each backend test: the cookie is set, and another browser holding only it reads the value."""
    app = make_app(flask_engine, wiring)
    response = app.test_client().post("/set", data={"value": "44"})
    (cookie,) = session_cookies(response, COOKIE[wiring])
    value = cookie.split(";")[0].split("=", 1)[1]
    assert browser_with(app, value, COOKIE[wiring]).get("/get").data == b"44"


def test_session_is_the_wsgisession_session(make_app: MakeApp) -> None:
    """Flask-Session's ``assert isinstance(flask.session, RedisSession)`` (test_redis_default and others)."""
    app = make_app("redis")
    with app.test_request_context():
        assert isinstance(flask.session, FlaskSession)


def test_null_session_type_is_refused(make_app: MakeApp) -> None:
    """Flask-Session's ``test_null_session``: an unusable session type fails at init, as a ValueError."""
    with pytest.raises(ValueError, match="SESSION_ENGINE"):
        make_app("file", SESSION_TYPE="null")


def test_login_reload_counter_logout(make_app: MakeApp, flask_engine: str, wiring: str) -> None:
    app = make_app(flask_engine, wiring)
    name = COOKIE[wiring]
    browser = app.test_client()
    browser.get("/inc")
    before_login = cookie_value(browser, name)
    assert browser.post("/login", data={"user": "alice"}).json == {"user": "alice"}
    logged_in = cookie_value(browser, name)
    assert logged_in != before_login, "login must give the session a new key (cycle_key)"
    assert browser.get("/whoami").json == {"user": "alice"}
    if flask_engine != "signed_cookies":  # a cookie copy cannot be revoked (documented)
        assert browser_with(app, before_login, name).get("/whoami").json == {"user": None}
    assert [browser.get("/inc").json["count"] for _ in range(20)] == list(range(2, 22))

    response = browser.post("/logout")
    assert "Max-Age=0" in session_cookies(response, name)[0]
    assert browser.get_cookie(name) is None
    assert browser.get("/whoami").json == {"user": None}
    if flask_engine != "signed_cookies":
        assert browser_with(app, logged_in, name).get("/whoami").json == {"user": None}


def test_an_app_exception_saves_nothing(make_app: MakeApp, wiring: str) -> None:
    browser = make_app("file", wiring).test_client()
    browser.get("/inc")
    response = browser.get("/boom")
    assert response.status_code == 500 and session_cookies(response, COOKIE[wiring]) == []
    assert browser.get("/data").json == {"count": 1}


def test_changes_in_a_streamed_body_are_saved(make_app: MakeApp, flask_engine: str, wiring: str) -> None:
    browser = make_app(flask_engine, wiring).test_client()
    browser.get("/inc")
    assert browser.get("/stream").data == b"count=1\ndone\n"
    if flask_engine != "signed_cookies":  # the cookie is the data: it was sent before the body
        assert browser.get("/data").json == {"count": 1, "streamed": True}


@pytest.mark.parametrize("flask_engine", SERVER_SIDE_ENGINES)
def test_a_streamed_body_may_use_a_session_its_view_never_touched(make_app: MakeApp, flask_engine: str) -> None:
    browser = make_app(flask_engine).test_client()
    browser.get("/inc")
    assert browser.get("/stream-only").data == b"done\n"
    assert browser.get("/data").json == {"count": 1, "streamed_only": 1}


def test_head_runs_the_view_and_keeps_the_session(make_app: MakeApp, wiring: str) -> None:
    browser = make_app("file", wiring).test_client()
    browser.get("/inc")
    with warnings.catch_warnings():  # a HEAD answer has the GET's Content-Length and no body (RFC 9110, 9.3.2)
        warnings.filterwarnings("ignore", "Content-Length and the number of bytes", WSGIWarning)
        response = browser.head("/inc")
    assert response.status_code == 200 and response.data == b""
    assert browser.get("/inc").json == {"count": 3}


def test_permanent_false_is_a_browser_session_cookie(client: FlaskClient) -> None:
    app = client.application

    @app.get("/permanent/<int:value>")
    def permanent(value: int) -> dict[str, bool]:
        flask.session["user"] = "alice"
        flask.session.permanent = bool(value)
        return {"permanent": flask.session.permanent}

    (cookie,) = session_cookies(client.get("/permanent/0"))
    assert "Max-Age" not in cookie and "Expires" not in cookie
    (cookie,) = session_cookies(client.get("/permanent/1"))
    assert f"Max-Age={31 * 24 * 3600}" in cookie  # Flask's PERMANENT_SESSION_LIFETIME


def test_permanent_set_on_every_request_writes_nothing(client: FlaskClient) -> None:
    """The common ``@before_request: session.permanent = True`` costs no save when it already is."""
    app = client.application

    @app.before_request
    def make_permanent() -> None:
        flask.session.permanent = True

    client.get("/inc")
    response = client.get("/get")
    assert session_cookies(response) == [] and response.headers["Vary"] == "Cookie"


def test_new_modified_accessed(client: FlaskClient) -> None:
    app = client.application

    @app.get("/flags")
    def flags() -> dict[str, bool]:
        before = {"accessed": flask.session.accessed}  # the proxy itself sets accessed, as Flask's does
        return {**before, "new": flask.session.new, "modified": flask.session.modified}

    assert client.get("/flags").json == {"accessed": True, "new": True, "modified": False}
    client.get("/inc")
    assert client.get("/flags").json == {"accessed": True, "new": False, "modified": False}


def test_values_changed_in_place_are_saved_without_modified(client: FlaskClient) -> None:
    app = client.application

    @app.get("/append")
    def append() -> dict[str, Any]:
        flask.session.setdefault("cart", []).append("apple")
        return {"cart": flask.session["cart"]}

    client.get("/inc")
    client.get("/append")
    assert client.get("/append").json == {"cart": ["apple", "apple"]}


@pytest.mark.parametrize("flask_engine", SERVER_SIDE_ENGINES)
def test_writes_of_different_keys_by_overlapping_requests_both_land(make_app: MakeApp, flask_engine: str) -> None:
    """Per-key saves: a request that loaded the session before another one saved keeps that one's write."""
    app = make_app(flask_engine)

    @app.get("/overlap")
    def overlap() -> str:
        flask.session.get("count")  # loaded
        browser_with(app, flask.request.cookies["session"]).post("/set", data={"value": "from the other request"})
        flask.session["mine"] = True
        return "ok"

    browser = app.test_client()
    browser.get("/inc")
    browser.get("/overlap")
    assert browser.get("/data").json == {"count": 1, "mine": True, "value": "from the other request"}


@pytest.mark.parametrize("flask_engine", SERVER_SIDE_ENGINES)
def test_a_logout_during_a_request_is_not_undone_by_its_save(make_app: MakeApp, flask_engine: str) -> None:
    """No resurrection: a session flushed while another request of it ran stays gone."""
    app = make_app(flask_engine)

    @app.get("/late-write")
    def late_write() -> str:
        flask.session.get("count")
        browser_with(app, flask.request.cookies["session"]).post("/logout")
        flask.session["late"] = True
        return "ok"

    browser = app.test_client()
    browser.get("/inc")
    key = cookie_value(browser)
    assert session_cookies(browser.get("/late-write")) == []  # no cookie for the dead key
    assert browser_with(app, key).get("/data").json == {}


def test_clear_ends_the_session_as_flask_does(client: FlaskClient) -> None:
    """Flask deletes a cleared session's cookie; its tutorial logs in with clear() then new values."""
    app = client.application

    @app.post("/clear")
    def clear() -> str:
        flask.session.clear()
        return "cleared"

    @app.post("/tutorial-login")
    def tutorial_login() -> str:
        flask.session.clear()
        flask.session["user_id"] = 7
        return "logged in"

    client.get("/inc")
    old_key = cookie_value(client)
    assert "Max-Age=0" in session_cookies(client.post("/clear"))[0] and client.get_cookie("session") is None
    assert browser_with(app, old_key).get("/data").json == {}

    client.get("/inc")
    before_login = cookie_value(client)
    client.post("/tutorial-login")
    assert cookie_value(client) != before_login  # a new key at login: no session fixation
    assert client.get("/data").json == {"user_id": 7}
    assert browser_with(app, before_login).get("/data").json == {}


def test_flash_messages_are_shown_once(client: FlaskClient) -> None:
    app = client.application

    @app.post("/flash")
    def flash() -> str:
        flask.flash("saved", "info")
        return "ok"

    @app.get("/messages")
    def messages() -> list[Any]:
        return [list(pair) for pair in flask.get_flashed_messages(with_categories=True)]

    client.post("/flash")
    assert client.get("/messages").json == [["info", "saved"]]
    assert client.get("/messages").json == []


def test_session_transaction(client: FlaskClient) -> None:
    """Flask's ``FlaskClient.session_transaction`` reads and writes the stored session."""
    client.get("/inc")
    with client.session_transaction() as sess:
        assert isinstance(sess, FlaskSession) and sess["count"] == 1
        sess["count"] = 41
    assert client.get("/inc").json == {"count": 42}


def test_application_factory(engine_settings_factory: Callable[[str], dict[str, Any]]) -> None:
    """One ``Session()`` for several apps (``init_app``), each with its own settings; twice on one app is refused."""
    extension = Session()
    apps = []
    for cookie in ("first", "second"):
        app = Flask(__name__)
        app.config.update(engine_settings_factory("file"), SESSION_COOKIE_NAME=cookie)
        extension.init_app(app)
        app.get("/inc")(lambda: {"count": flask.session.setdefault("count", 1)})
        apps.append(app)
    assert [session_cookies(app.test_client().get("/inc"), name) != [] for app, name in
            zip(apps, ("first", "second"), strict=True)] == [True, True]
    with pytest.raises(RuntimeError, match="already installed"):
        extension.init_app(apps[0])


def test_the_middleware_is_in_app_extensions(client: FlaskClient) -> None:
    client.get("/inc")
    assert client.application.extensions["wsgisession"].event_counts().store_failures == 0


def test_importing_wsgisession_does_not_import_flask() -> None:
    code = "import sys, wsgisession, wsgisession.middleware; assert 'flask' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_redis_sessions_land_under_the_configured_prefix(make_app: MakeApp, redis_prefix: str) -> None:
    """Flask-Session's test_redis_default reads the stored session from Redis; ours finds it under the prefix."""
    import redis

    make_app("redis", SESSION_REDIS_PREFIX=redis_prefix).test_client().post("/set", data={"value": "44"})
    client = redis.Redis.from_url(servers.REDIS_URL)
    try:
        assert next(client.scan_iter(match=f"{redis_prefix}*"), None) is not None
    finally:
        client.close()
