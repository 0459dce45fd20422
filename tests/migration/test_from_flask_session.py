"""Leaving Flask-Session: a real Flask app with Flask-Session (Redis, msgpack, SESSION_USE_SIGNER) logs a
browser in; the application switches to wsgisession with SESSION_MIGRATE_FROM; the browser stays logged in."""

from __future__ import annotations

import pickle
import warnings
from typing import Any

import flask
import pytest
import redis
from flask_session import Session as FlaskSession
from itsdangerous import Signer
from webtest import TestApp

from tests import servers
from tests.middleware.apps import behaviour_app
from wsgisession import SessionMiddleware

FLASK_SECRET = "flask-app-secret-key-0p9o8i7u6y5t4r3e2w1q"
OUR_SECRET = "wsgisession-key-0a9s8d7f6g5h4j3k2l1qwerty"


def flask_app(prefix: str, use_signer: bool = True) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY=FLASK_SECRET, SESSION_TYPE="redis",
                      SESSION_REDIS=redis.Redis.from_url(servers.REDIS_URL),
                      SESSION_KEY_PREFIX=f"{prefix}:", SESSION_USE_SIGNER=use_signer)

    @app.route("/login")
    def login() -> dict[str, Any]:
        flask.session["user"] = flask.request.args["user"]
        flask.session["cart"] = ["book", 2]
        return {"user": flask.session["user"]}

    FlaskSession(app)
    return app


def flask_login(prefix: str, use_signer: bool = True) -> str:
    """Log alice in with Flask-Session; her cookie."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # SESSION_USE_SIGNER: deprecated in Flask-Session 0.7
        app = flask_app(prefix, use_signer)
    with app.test_client() as client:
        assert client.get("/login?user=alice").json == {"user": "alice"}
        cookie = client.get_cookie("session")
        assert cookie is not None
        return cookie.value


def settings(prefix: str, engine: str = "flask_session.redis") -> dict[str, Any]:
    return {"SECRET_KEY": OUR_SECRET, "SESSION_ENGINE": "redis", "SESSION_REDIS_URL": servers.REDIS_URL,
            "SESSION_REDIS_PREFIX": f"{prefix}-new",
            "SESSION_MIGRATE_FROM": {"SESSION_ENGINE": engine, "SESSION_REDIS_URL": servers.REDIS_URL,
                                     "SESSION_REDIS_PREFIX": f"{prefix}:", "SECRET_KEY": FLASK_SECRET,
                                     "SESSION_COOKIE_NAME": "session"}}


def flask_keys(prefix: str) -> list[bytes]:
    return list(redis.Redis.from_url(servers.REDIS_URL).scan_iter(match=f"{prefix}:*"))


def browser(prefix: str, cookie: str, engine: str = "flask_session.redis") -> tuple[TestApp, SessionMiddleware]:
    middleware = SessionMiddleware(behaviour_app, settings(prefix, engine))
    app = TestApp(middleware)
    app.set_cookie("session", cookie)
    return app, middleware


@pytest.mark.parametrize("signed", [True, False])
def test_a_flask_session_browser_stays_logged_in_and_the_record_goes(redis_prefix: str, signed: bool) -> None:
    cookie = flask_login(redis_prefix, signed)
    assert len(flask_keys(redis_prefix)) == 1
    app, _ = browser(redis_prefix, cookie, "flask_session.redis" if signed else "flask_session.redis.unsigned")

    assert app.get("/").json == {"user": "alice", "cart": ["book", 2]}
    assert "sessionid" in app.cookies  # wsgisession's cookie, in the same response
    assert flask_keys(redis_prefix) == []
    app.set_cookie("session", "")  # as if the browser dropped the old cookie: the new one carries the session
    assert app.get("/").json == {"user": "alice", "cart": ["book", 2]}


@pytest.mark.parametrize("forge", [
    lambda cookie: cookie.rpartition(".")[0],  # the bare id, without its signature
    lambda cookie: cookie.rpartition(".")[0] + ".AAAAAAAAAAAAAAAAAAAAAAAAAAA",
    lambda cookie: Signer("another-flask-key-0p9o8i7u6y5t4r3e2w1q", salt="flask-session",
                          key_derivation="hmac").sign(cookie.rpartition(".")[0]).decode(),
])
def test_a_cookie_flask_session_did_not_sign_is_refused(redis_prefix: str, forge: Any) -> None:
    cookie = flask_login(redis_prefix)
    app, middleware = browser(redis_prefix, forge(cookie))
    assert app.get("/").json == {}
    assert middleware.event_counts().bad_signatures == 1
    assert len(flask_keys(redis_prefix)) == 1


def test_pickled_data_is_never_unpickled(redis_prefix: str) -> None:
    sid = "p" * 43
    client = redis.Redis.from_url(servers.REDIS_URL)
    client.set(f"{redis_prefix}:{sid}", pickle.dumps({"user": "mallory"}), ex=60)
    signed = Signer(FLASK_SECRET, salt="flask-session", key_derivation="hmac").sign(sid).decode()
    app, middleware = browser(redis_prefix, signed)
    assert app.get("/").json == {}
    assert middleware.event_counts().undecodable == 1
