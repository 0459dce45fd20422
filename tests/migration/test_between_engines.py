"""SESSION_MIGRATE_FROM between wsgisession engines: the same browser stays logged in, the old record goes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from webtest import TestApp
from werkzeug.middleware.lint import LintMiddleware

from tests.middleware.apps import behaviour_app
from wsgisession import SessionMiddleware
from wsgisession.backends.server_side import StoreBackend
from wsgisession.migration import MigratingBackend

Factory = Callable[[str], dict[str, Any]]
OTHER_SECRET = "another-secret-key-fedcba9876543210"


def client(settings: dict[str, Any]) -> TestApp:
    return TestApp(LintMiddleware(SessionMiddleware(LintMiddleware(behaviour_app), settings)))


def cookie_value(app: TestApp, name: str = "sessionid") -> str:
    return str(app.cookies[name])


def logged_in(old: dict[str, Any], name: str = "sessionid") -> tuple[TestApp, str]:
    """A browser logged in with the old engine, and its cookie."""
    browser = client(old)
    browser.get("/set", {"user": "alice"})
    return browser, cookie_value(browser, name)


def read_with(settings: dict[str, Any], cookie: str, name: str = "sessionid") -> Any:
    """What a fresh browser holding only ``cookie`` finds in the session."""
    app = client(settings)
    app.set_cookie(name, cookie)
    return app.get("/").json


def switch(browser: TestApp, settings: dict[str, Any]) -> TestApp:
    """The same browser (its cookies) against the app now configured with ``settings``."""
    switched = client(settings)
    switched.cookiejar = browser.cookiejar
    return switched


@pytest.mark.parametrize(("old_id", "new_id"), [("redis", "db"), ("file", "redis"), ("db", "cached_db"),
                                                ("signed_cookies", "file")])
def test_the_same_browser_stays_logged_in_and_the_old_record_goes(engine_settings_factory: Factory, old_id: str,
                                                                   new_id: str) -> None:
    old = engine_settings_factory(old_id)
    browser, old_cookie = logged_in(old)
    migrating = switch(browser, {**engine_settings_factory(new_id), "SESSION_MIGRATE_FROM": old})

    assert migrating.get("/").json == {"user": "alice"}
    new_cookie = cookie_value(migrating)
    assert new_cookie != old_cookie  # a fresh key, sent in the same response
    assert migrating.get("/").json == {"user": "alice"}  # from the new store now
    if old_id != "signed_cookies":  # a signed cookie holds its data: nothing to delete
        assert read_with(old, old_cookie) == {}


def test_a_session_moved_keeps_working_once_migration_is_off(engine_settings_factory: Factory) -> None:
    old, new = engine_settings_factory("redis"), engine_settings_factory("db")
    browser, _ = logged_in(old)
    migrating = switch(browser, {**new, "SESSION_MIGRATE_FROM": old})
    migrating.get("/inc")
    assert switch(migrating, new).get("/").json == {"user": "alice", "count": 1}


def test_the_old_engine_s_own_cookie_name_and_secret_key(engine_settings_factory: Factory) -> None:
    old = {**engine_settings_factory("redis"), "SESSION_COOKIE_NAME": "oldsid", "SECRET_KEY": OTHER_SECRET}
    browser, old_cookie = logged_in(old, "oldsid")
    assert read_with(old, old_cookie, "oldsid") == {"user": "alice"}
    migrating = switch(browser, {**engine_settings_factory("file"), "SESSION_MIGRATE_FROM": old})

    assert migrating.get("/").json == {"user": "alice"}
    assert "sessionid" in migrating.cookies
    assert migrating.get("/").json == {"user": "alice"}
    assert read_with(old, old_cookie, "oldsid") == {}


def test_a_server_error_moves_nothing(engine_settings_factory: Factory) -> None:
    old = engine_settings_factory("redis")
    browser, _ = logged_in(old)
    migrating = switch(browser, {**engine_settings_factory("db"), "SESSION_MIGRATE_FROM": old})

    response = migrating.get("/", {"status": "500"}, status=500)
    assert "Set-Cookie" not in response.headers
    assert migrating.get("/").json == {"user": "alice"}  # still in the old store, moved now


def test_logout_in_the_first_request_deletes_the_old_record(engine_settings_factory: Factory) -> None:
    old = engine_settings_factory("redis")
    browser, old_cookie = logged_in(old)
    migrating = switch(browser, {**engine_settings_factory("db"), "SESSION_MIGRATE_FROM": old})

    migrating.get("/flush")
    assert read_with(old, old_cookie) == {}


def test_login_in_the_first_request_moves_the_session_once(engine_settings_factory: Factory) -> None:
    old = engine_settings_factory("redis")
    browser, old_cookie = logged_in(old)
    migrating = switch(browser, {**engine_settings_factory("db"), "SESSION_MIGRATE_FROM": old})

    migrating.get("/cycle")
    assert migrating.get("/").json == {"user": "alice"}
    assert read_with(old, old_cookie) == {}


def test_a_forged_cookie_is_an_empty_session_counted_as_forged(engine_settings_factory: Factory) -> None:
    old = engine_settings_factory("redis")
    logged_in(old)
    middleware = SessionMiddleware(behaviour_app, {**engine_settings_factory("db"), "SESSION_MIGRATE_FROM": old})
    app = TestApp(middleware)
    app.set_cookie("sessionid", "x" * 43 + ".forged")
    assert app.get("/").json == {}
    assert middleware.event_counts().bad_signatures == 1


def test_values_are_carried_across_serializers(engine_settings_factory: Factory) -> None:
    old = {**engine_settings_factory("redis"), "SESSION_SERIALIZER": "tests.migration.serializers:Reversed"}
    browser, _ = logged_in(old)
    migrating = switch(browser, {**engine_settings_factory("db"), "SESSION_MIGRATE_FROM": old})
    assert migrating.get("/").json == {"user": "alice"}


def test_no_migration_no_wrapper(engine_settings_factory: Factory) -> None:
    assert type(SessionMiddleware(behaviour_app, engine_settings_factory("db")).backend) is StoreBackend
    settings = {**engine_settings_factory("db"), "SESSION_MIGRATE_FROM": engine_settings_factory("redis")}
    assert type(SessionMiddleware(behaviour_app, settings).backend) is MigratingBackend


@pytest.mark.parametrize("value", ["", "é" * 40, "a" * 5000, "../../etc/passwd", "a.b.c", '"quoted"', "\x00" * 32,
                                   "a" * 32, "Zm9v." + "A" * 43])
@pytest.mark.parametrize("old_id", ["redis", "signed_cookies", "file"])
def test_hostile_cookies_give_an_empty_session(engine_settings_factory: Factory, value: str, old_id: str) -> None:
    old = {**engine_settings_factory(old_id), "SESSION_COOKIE_NAME": "oldsid"}
    app = TestApp(SessionMiddleware(behaviour_app, {**engine_settings_factory("db"), "SESSION_MIGRATE_FROM": old}))
    for name in ("sessionid", "oldsid"):
        response = app.get("/", extra_environ={"HTTP_COOKIE": f"{name}={value}"})
        assert response.json == {}
