"""What the extension reads from ``app.config``: SESSION_* keys and the secret keys, nothing else.

Flask's own SESSION_COOKIE_* keys (always present, with Flask's defaults) are shared with
Flask; Flask-Session's keys are refused with the wsgisession key to use instead.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import flask
import pytest
from flask import Flask

from tests.conftest import SECRET
from tests.flask.conftest import LINT_ERRORS
from wsgisession import ConfigurationError, Settings
from wsgisession._flask_config import FLASK_SESSION_KEYS, settings_from_config
from wsgisession.flask import Session

pytestmark = LINT_ERRORS


def flask_config(**config: Any) -> dict[str, Any]:
    """A Flask app's config: Flask's defaults, a secret key, ``config``."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET, **config)
    return dict(app.config)


def read(**config: Any) -> Settings:
    return Settings.from_mapping(settings_from_config(flask_config(**config), Flask.default_config))


def problems(**config: Any) -> dict[str, str]:
    with pytest.raises(ConfigurationError) as caught:
        read(**config)
    return {problem.key: str(problem) for problem in caught.value.problems}


def test_flask_defaults_map_to_flask_names_and_safe_attributes() -> None:
    settings = read()
    assert settings.cookie_name == "session"  # Flask's name, not the middleware's "sessionid"
    assert settings.cookie_age == 31 * 24 * 3600  # PERMANENT_SESSION_LIFETIME
    assert settings.cookie_samesite == "Lax"  # Flask's default sends no SameSite at all
    assert (settings.cookie_path, settings.cookie_domain) == ("/", None)
    assert (settings.cookie_httponly, settings.cookie_secure) == (True, False)


def test_flask_cookie_settings_are_honoured() -> None:
    settings = read(SESSION_COOKIE_NAME="__Host-sid", SESSION_COOKIE_SECURE=True, SESSION_COOKIE_SAMESITE="Strict",
                    SESSION_COOKIE_HTTPONLY=True, PERMANENT_SESSION_LIFETIME=timedelta(hours=8))
    assert (settings.cookie_name, settings.cookie_secure, settings.cookie_samesite) == ("__Host-sid", True, "Strict")
    assert settings.cookie_age == 8 * 3600


def test_cookie_path_falls_back_to_application_root_as_in_flask() -> None:
    assert read(APPLICATION_ROOT="/shop").cookie_path == "/shop"
    assert read(APPLICATION_ROOT="/shop", SESSION_COOKIE_PATH="/shop/cart").cookie_path == "/shop/cart"


def test_session_cookie_age_wins_over_flask_default_lifetime_and_must_agree_with_a_set_one() -> None:
    assert read(SESSION_COOKIE_AGE=3600).cookie_age == 3600
    assert read(SESSION_COOKIE_AGE=3600, PERMANENT_SESSION_LIFETIME=3600).cookie_age == 3600
    found = problems(SESSION_COOKIE_AGE=3600, PERMANENT_SESSION_LIFETIME=timedelta(days=2))
    assert "SESSION_COOKIE_AGE" in found["PERMANENT_SESSION_LIFETIME"]


def test_unrelated_keys_are_ignored() -> None:
    """Flask's app.config holds every extension's keys; only ours are read."""
    settings = read(DEBUG=True, SQLALCHEMY_DATABASE_URI="sqlite://", WTF_CSRF_ENABLED=False,
                    SESSION_PROTECTION="strong",
                    SESSION_REFRESH_EACH_REQUEST=False, MAX_CONTENT_LENGTH=10)
    assert settings.engine == "db"


@pytest.mark.parametrize("key", ["SESSION_TYPE", "SESSION_PERMANENT", "SESSION_USE_SIGNER", "SESSION_KEY_PREFIX",
                                 "SESSION_REDIS"])
def test_flask_session_keys_name_our_equivalent(key: str) -> None:
    value: Any = object() if key == "SESSION_REDIS" else "redis"
    message = problems(**{key: value})[key]
    assert FLASK_SESSION_KEYS[key] in message
    expected = {"SESSION_TYPE": "SESSION_ENGINE", "SESSION_PERMANENT": "SESSION_EXPIRE_AT_BROWSER_CLOSE",
                "SESSION_USE_SIGNER": "SECRET_KEY", "SESSION_KEY_PREFIX": "SESSION_REDIS_PREFIX",
                "SESSION_REDIS": "SESSION_REDIS_URL"}[key]
    assert expected in message


def test_every_problem_is_reported_at_once_and_typos_get_a_suggestion() -> None:
    found = problems(SESSION_TYPE="redis", SESSION_ENGIN="redis", SESSION_COOKIE_PARTITIONED=True)
    assert set(found) == {"SESSION_TYPE", "SESSION_ENGIN", "SESSION_COOKIE_PARTITIONED"}
    assert "did you mean SESSION_ENGINE?" in found["SESSION_ENGIN"]


def test_a_missing_secret_key_is_named_and_a_secret_never_shown() -> None:
    app = Flask(__name__)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        Session(app)
    app.config["SECRET_KEY"] = "too-short-secret"[:10]
    with pytest.raises(ConfigurationError) as caught:
        Session(app)
    assert "too-short" not in str(caught.value)


def test_a_bytes_secret_key_as_flask_allows(tmp_path: Any) -> None:
    app = Flask(__name__)
    app.config.update(SECRET_KEY=os.urandom(24), SESSION_ENGINE="file", SESSION_FILE_PATH=str(tmp_path))
    Session(app)
    app.get("/inc")(lambda: {"count": flask.session.setdefault("count", 1)})
    client = app.test_client()
    assert client.get("/inc").json == {"count": 1} and client.get_cookie("session") is not None


def test_secret_key_fallbacks_keep_sessions_across_a_key_rotation(tmp_path: Any) -> None:
    def app_with(**keys: Any) -> Flask:
        app = Flask(__name__)
        app.config.update(SESSION_ENGINE="file", SESSION_FILE_PATH=str(tmp_path), **keys)
        Session(app)

        @app.get("/inc")
        def inc() -> dict[str, int]:
            flask.session["count"] = flask.session.get("count", 0) + 1
            return {"count": flask.session["count"]}

        return app

    old = app_with(SECRET_KEY="old-secret-key-0123456789abcdefghijk").test_client()
    old.get("/inc")
    new = app_with(SECRET_KEY="new-secret-key-0123456789abcdefghijk",
                   SECRET_KEY_FALLBACKS=["old-secret-key-0123456789abcdefghijk"]).test_client()
    new.set_cookie("session", old.get_cookie("session").value)  # type: ignore[union-attr]
    assert new.get("/inc").json == {"count": 2}
