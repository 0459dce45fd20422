"""wsgisession.pyramid wiring: settings from a Pyramid ``.ini``, clear errors, no Pyramid in ``import wsgisession``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pyramid.config import Configurator
from pyramid.response import Response
from webtest import TestApp

import wsgisession.pyramid
from tests.private_redis import PrivateRedis
from wsgisession import ConfigurationError, MiddlewareMissingError, SessionMiddleware, get_session
from wsgisession._pyramid_settings import from_pyramid_settings, ini_name, settings_key

SECRET = "pyramid-config-test-secret-0123456789"


def counting_view(request: object) -> Response:
    session = request.session  # type: ignore[attr-defined]
    session["n"] = session.get("n", 0) + 1
    return Response(str(session["n"]))


def app_from(settings: dict[str, str]) -> TestApp:
    config = Configurator(settings=settings)
    config.include("wsgisession.pyramid")
    config.add_route("count", "/")
    config.add_view(counting_view, route_name="count")
    return TestApp(wsgisession.pyramid.make_wsgi_app(config))


def test_ini_strings_configure_the_cookie(tmp_path: Path) -> None:
    """What ``main(global_config, **settings)`` receives from an .ini file: every value a string."""
    app = app_from({"wsgisession.secret_key": SECRET, "wsgisession.engine": "file",
                    "wsgisession.file_path": str(tmp_path), "wsgisession.cookie_name": "pyr",
                    "wsgisession.cookie_age": "3600", "wsgisession.cookie_httponly": "false",
                    "wsgisession.cookie_samesite": "Strict", "pyramid.reload_templates": "true"})
    cookie = app.get("/").headers["Set-Cookie"]
    assert cookie.startswith("pyr=") and "Max-Age=3600" in cookie and "SameSite=Strict" in cookie
    assert "HttpOnly" not in cookie
    assert app.get("/").text == "2"
    assert any(path.name.startswith("wsgisession-") for path in tmp_path.iterdir()), "not in the file engine"


def test_upper_case_keys_are_read_too(tmp_path: Path) -> None:
    app = app_from({"SECRET_KEY": SECRET, "SESSION_ENGINE": "file", "SESSION_FILE_PATH": str(tmp_path),
                    "SESSION_COOKIE_NAME": "upper"})
    assert app.get("/").headers["Set-Cookie"].startswith("upper=")


def test_a_bad_setting_fails_at_include_naming_the_key() -> None:
    config = Configurator(settings={"wsgisession.secret_key": SECRET, "wsgisession.cookie_age": "two weeks"})
    with pytest.raises(ConfigurationError, match=r"SESSION_COOKIE_AGE.*'two weeks'"):
        config.include("wsgisession.pyramid")


def test_a_missing_secret_key_fails_at_include() -> None:
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        Configurator(settings={}).include("wsgisession.pyramid")


def test_a_setting_given_in_both_spellings_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"SESSION_ENGINE.*both"):
        from_pyramid_settings({"SESSION_ENGINE": "db", "wsgisession.engine": "redis"})


def test_make_wsgi_app_without_the_include_says_what_is_missing() -> None:
    with pytest.raises(ConfigurationError, match=r'config.include\("wsgisession.pyramid"\)'):
        wsgisession.pyramid.make_wsgi_app(Configurator(settings={}))


def test_request_session_outside_the_middleware_is_a_clear_error() -> None:
    config = Configurator(settings={"wsgisession.secret_key": SECRET})
    config.include("wsgisession.pyramid")
    config.add_route("count", "/")
    config.add_view(counting_view, route_name="count")
    with pytest.raises(MiddlewareMissingError, match="SessionMiddleware"):
        TestApp(config.make_wsgi_app()).get("/")


def test_wiring_by_hand(tmp_path: Path) -> None:
    config = Configurator()
    config.set_session_factory(wsgisession.pyramid.session_factory)
    config.add_route("count", "/")
    config.add_view(counting_view, route_name="count")
    app = TestApp(SessionMiddleware(config.make_wsgi_app(), {"SECRET_KEY": SECRET, "SESSION_ENGINE": "file",
                                                             "SESSION_FILE_PATH": str(tmp_path)}))
    assert [app.get("/").text for _ in range(3)] == ["1", "2", "3"]


@pytest.mark.parametrize(("text", "key", "value"), [
    ("true", "SESSION_COOKIE_SECURE", True), ("auto", "SESSION_COOKIE_SECURE", "auto"),
    ("Off", "SESSION_LOCKING", False),
    ("42", "SESSION_COOKIE_AGE", 42), ("2.5", "SESSION_LOCK_TIMEOUT", 2.5),
    ("none", "SESSION_ABSOLUTE_AGE", None), ("3600", "SESSION_ABSOLUTE_AGE", 3600),
    ("None", "SESSION_COOKIE_SAMESITE", "None"), ("6380", "SESSION_REDIS_PORT", 6380),
    ("old-key-1\nold-key-2", "SECRET_KEY_FALLBACKS", ("old-key-1", "old-key-2")),
    ("maybe", "SESSION_COOKIE_SECURE", "maybe"), ("many", "SESSION_COOKIE_AGE", "many"),
])
def test_ini_values_read_as_the_type_of_their_key(text: str, key: str, value: object) -> None:
    assert from_pyramid_settings({ini_name(key): text}) == {key: value}


def test_names_map_both_ways() -> None:
    assert settings_key("wsgisession.secret_key") == "SECRET_KEY"
    assert settings_key("wsgisession.redis_url") == "SESSION_REDIS_URL"
    assert ini_name("SESSION_REDIS_URL") == "wsgisession.redis_url"
    assert ini_name("SECRET_KEY_FALLBACKS") == "wsgisession.secret_key_fallbacks"


def test_other_settings_are_left_alone() -> None:
    assert from_pyramid_settings({"pyramid.debug_all": "true", "sqlalchemy.url": "sqlite://"}) == {}


def test_importing_wsgisession_does_not_import_pyramid() -> None:
    code = "import sys, wsgisession; print('pyramid' in sys.modules, 'zope.interface' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_a_store_that_is_down_answers_503(private_redis: PrivateRedis) -> None:
    """StoreError from request.session, left to the middleware: 503, and the browser keeps its cookie."""
    app = app_from({"SECRET_KEY": SECRET, "SESSION_ENGINE": "redis", "SESSION_REDIS_URL": private_redis.url})
    assert app.get("/").text == "1"
    private_redis.stop()
    response = app.get("/", status=503)
    assert "Set-Cookie" not in response.headers
    private_redis.start()
    assert app.get("/").text == "2"


def test_without_pyramid_the_import_error_says_what_to_install() -> None:
    code = ("import sys; sys.modules['pyramid'] = sys.modules['pyramid.interfaces'] = None\n"
            "try:\n    import wsgisession.pyramid\nexcept ImportError as exc:\n    print(exc)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'wsgi-session[pyramid]'" in result.stdout


def test_the_wsgisession_session_is_underneath(tmp_path: Path) -> None:
    def view(request: Any) -> Response:
        request.session.wsgisession.set_expiry(0)
        request.session["a"] = 1
        return Response(str(request.session.wsgisession is get_session(request.environ)))

    config = Configurator(settings={"SECRET_KEY": SECRET, "SESSION_ENGINE": "file", "SESSION_FILE_PATH": str(tmp_path)})
    config.include("wsgisession.pyramid")
    config.add_route("home", "/")
    config.add_view(view, route_name="home")
    response = TestApp(wsgisession.pyramid.make_wsgi_app(config)).get("/")
    assert response.text == "True"
    assert "Max-Age" not in response.headers["Set-Cookie"], "set_expiry(0): a browser-session cookie"
