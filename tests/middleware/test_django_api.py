"""Django's session API through the middleware, on every engine.

Ported from Django's ``tests/sessions_tests/tests.py`` (``SessionTestsMixin`` and
``SessionMiddlewareTests``): each test names the original it follows. What the
originals check on a bare ``SessionStore`` is checked here as a browser sees it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from webtest import TestApp
from werkzeug.middleware.lint import LintMiddleware

from tests.middleware.test_behaviour import cookie_attributes, session_cookies
from wsgisession import SessionMiddleware, get_session
from wsgisession.session import Session

pytestmark = pytest.mark.filterwarnings("error::werkzeug.middleware.lint.WSGIWarning")

#: Keys the app reports beside the data, read inside the request.
Seen = dict[str, Any]


def _act(session: Session, path: str, query: dict[str, str]) -> Seen:
    seen: Seen = {}
    if path == "/save":  # Django: request.session.save(), then read the key inside the request
        for key, value in query.items():
            session[key] = value
        seen["before"] = session.session_key
        session.save()
        seen["after"] = session.session_key
    elif path == "/save-then-set":
        session.save()
        session["later"] = "yes"
    elif path == "/save-then-flush":
        session["x"] = "1"
        session.save()
        session.flush()
    elif path == "/set":
        for key, value in query.items():
            session[key] = value
    elif path == "/set-test-cookie":
        session.set_test_cookie()
    elif path == "/test-cookie-worked":
        seen["worked"] = session.test_cookie_worked()
    elif path == "/delete-test-cookie":
        session.delete_test_cookie()
    elif path == "/expire":
        session["x"] = "1"
        session.set_expiry(int(query["seconds"]))
        seen["age"] = session.get_expiry_age()
    elif path == "/expire-past-deadline":
        session["x"] = "1"
        session.set_expiry(-timedelta(seconds=10))
    elif path == "/flush":
        session.flush()
    elif path == "/pop":
        session.pop(query["k"])
    elif path.startswith("/check/"):  # a SessionTestsMixin check, run inside the request
        seen["check"] = CHECKS[path.removeprefix("/check/")](session)
    seen["data"] = dict(session)
    seen["key"] = session.session_key
    return seen


#: name -> a check run inside a request; what it returns goes back to the test.
CHECKS: dict[str, Callable[[Session], Any]] = {}


def check(function: Callable[[Session], Any]) -> Callable[[Session], Any]:
    CHECKS[function.__name__] = function
    return function


def django_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """``/<action>?k=v``; ``status=`` picks the status."""
    session = get_session(environ)
    query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
    status = query.pop("status", "200")
    body = json.dumps(_act(session, environ["PATH_INFO"], query)).encode()
    start_response(f"{status} {'OK' if status == '200' else 'Error'}",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


MakeDjangoClient = Callable[..., TestApp]


@pytest.fixture
def make_django_client(engine_settings: dict[str, Any]) -> MakeDjangoClient:
    def make(**overrides: Any) -> TestApp:
        middleware = SessionMiddleware(LintMiddleware(django_app), {**engine_settings, **overrides})
        return TestApp(LintMiddleware(middleware))

    return make


@pytest.fixture
def django_client(make_django_client: MakeDjangoClient) -> TestApp:
    return make_django_client()


# --- session.save() ----------------------------------------------------------------


def test_save_gives_a_key_inside_the_request_and_the_cookie_at_the_end(django_client: TestApp) -> None:
    """SessionTestsMixin.test_save: after save() the session has a key, and it exists (the next request reads it)."""
    response = django_client.get("/save?cat=dog")
    assert response.json["before"] is None and response.json["after"] is not None
    assert len(session_cookies(response)) == 1
    again = django_client.get("/set")
    assert again.json["data"] == {"cat": "dog"}
    if django_client.app.app.settings.engine != "signed_cookies":  # a signed cookie has no stable key
        assert again.json["key"] == response.json["after"]


def test_save_of_an_empty_session_gives_it_a_key(django_client: TestApp) -> None:
    """SessionTestsMixin.test_save on a new session: an empty session saved by the app gets a key and a cookie."""
    response = django_client.get("/save")
    assert response.json["after"] is not None and len(session_cookies(response)) == 1
    again = django_client.get("/set")
    assert again.json["data"] == {} and again.json["key"] is not None
    assert session_cookies(again) == []  # an unchanged session is not sent again


def test_changes_after_save_are_saved_by_the_commit(django_client: TestApp) -> None:
    """The commit point still saves what changed after save(); a single cookie goes out."""
    response = django_client.get("/save-then-set")
    assert len(session_cookies(response)) == 1
    assert django_client.get("/set").json["data"] == {"later": "yes"}


def test_save_then_flush_leaves_nothing_behind(django_client: TestApp) -> None:
    """SessionTestsMixin.test_flush: the saved session is gone and no cookie names it."""
    response = django_client.get("/save-then-flush")
    assert session_cookies(response) == [] and response.json["key"] is None


def test_saved_session_gets_no_cookie_on_a_server_error(django_client: TestApp) -> None:
    """SessionMiddlewareTests.test_session_save_on_5xx: no cookie goes out with a 5xx response."""
    response = django_client.get("/save?cat=dog&status=500", status=500)
    assert session_cookies(response) == []


# --- the test cookie ---------------------------------------------------------------


def test_test_cookie_round_trip(django_client: TestApp) -> None:
    """Django's set_test_cookie / test_cookie_worked / delete_test_cookie, over two requests."""
    assert django_client.get("/test-cookie-worked").json["worked"] is False
    django_client.get("/set-test-cookie")
    assert django_client.get("/test-cookie-worked").json["worked"] is True
    assert Session.TEST_COOKIE_NAME == "testcookie" and Session.TEST_COOKIE_VALUE == "worked"
    response = django_client.get("/delete-test-cookie")
    assert response.json["data"] == {}
    assert django_client.get("/test-cookie-worked").json["worked"] is False


# --- sessions that expire as they are saved ------------------------------------------


def test_negative_expiry_ends_the_session(django_client: TestApp) -> None:
    """SessionTestsMixin.test_actual_expiry: with an expiry in the past the session expires at once."""
    django_client.get("/set?a=1")
    response = django_client.get("/expire?seconds=-10")
    assert response.json["age"] == -10
    [header] = session_cookies(response)
    assert cookie_attributes(header)["max-age"] == "0"  # the browser drops its cookie
    assert django_client.get("/set").json["data"] == {}


def test_deadline_in_the_past_ends_the_session(django_client: TestApp) -> None:
    """SessionTestsMixin.test_actual_expiry (set_expiry(-timedelta(seconds=10))), on a fresh session: no cookie."""
    response = django_client.get("/expire-past-deadline")
    assert session_cookies(response) == []
    assert django_client.get("/set").json["data"] == {}


def test_cookie_age_zero_keeps_no_session(make_django_client: MakeDjangoClient) -> None:
    """SESSION_COOKIE_AGE = 0 (Django accepts it): every session is expired as it is saved."""
    client = make_django_client(SESSION_COOKIE_AGE=0)
    response = client.get("/set?a=1")
    assert session_cookies(response) == []
    assert client.get("/set").json["data"] == {}


# --- cookie attributes (SessionMiddlewareTests) ------------------------------------


def test_secure_session_cookie(make_django_client: MakeDjangoClient) -> None:
    """SessionMiddlewareTests.test_secure_session_cookie."""
    client = make_django_client(SESSION_COOKIE_SECURE=True)
    [header] = session_cookies(client.get("/set?hello=world", extra_environ={"wsgi.url_scheme": "https"}))
    assert "secure" in cookie_attributes(header)


@pytest.mark.parametrize("httponly", [True, False])
def test_httponly_session_cookie(make_django_client: MakeDjangoClient, httponly: bool) -> None:
    """SessionMiddlewareTests.test_httponly_session_cookie and test_no_httponly_session_cookie."""
    client = make_django_client(SESSION_COOKIE_HTTPONLY=httponly)
    [header] = session_cookies(client.get("/set?hello=world"))
    assert ("httponly" in cookie_attributes(header)) is httponly


def test_samesite_session_cookie(make_django_client: MakeDjangoClient) -> None:
    """SessionMiddlewareTests.test_samesite_session_cookie."""
    client = make_django_client(SESSION_COOKIE_SAMESITE="Strict")
    [header] = session_cookies(client.get("/set?hello=world"))
    assert cookie_attributes(header)["samesite"] == "Strict"


def test_partitioned_session_cookie(make_django_client: MakeDjangoClient) -> None:
    """SESSION_COOKIE_PARTITIONED (CHIPS): the cookie carries Partitioned and Secure."""
    client = make_django_client(SESSION_COOKIE_PARTITIONED=True, SESSION_COOKIE_SECURE=True,
                                SESSION_COOKIE_SAMESITE="None")
    response = client.get("/set?hello=world", extra_environ={"wsgi.url_scheme": "https"})
    [header] = session_cookies(response)
    attributes = cookie_attributes(header)
    assert "partitioned" in attributes and "secure" in attributes and attributes["samesite"] == "None"


def test_session_delete_on_end(django_client: TestApp) -> None:
    """SessionMiddlewareTests.test_session_delete_on_end: flush() deletes the cookie, not recreates it."""
    django_client.get("/set?a=1")
    [header] = session_cookies(django_client.get("/flush"))
    attributes = cookie_attributes(header)
    assert attributes[""] == "sessionid=" and attributes["max-age"] == "0"


def test_flush_empty_without_session_cookie_doesnt_set_cookie(django_client: TestApp) -> None:
    """SessionMiddlewareTests.test_flush_empty_without_session_cookie_doesnt_set_cookie."""
    response = django_client.get("/flush")
    assert session_cookies(response) == [] and response.headers["Vary"] == "Cookie"


# --- SESSION_COOKIE_SECURE = "auto" ------------------------------------------------


@pytest.mark.parametrize(("scheme", "secure"), [("https", True), ("http", False)])
def test_secure_auto_follows_the_request_scheme(make_django_client: MakeDjangoClient, scheme: str,
                                                secure: bool) -> None:
    """SESSION_COOKIE_SECURE = "auto": Secure on HTTPS requests only (as express-session's secure: 'auto')."""
    client = make_django_client(SESSION_COOKIE_SECURE="auto")
    [header] = session_cookies(client.get("/set?a=1", extra_environ={"wsgi.url_scheme": scheme}))
    assert ("secure" in cookie_attributes(header)) is secure
    [flushed] = session_cookies(client.get("/flush", extra_environ={"wsgi.url_scheme": scheme}))
    assert ("secure" in cookie_attributes(flushed)) is secure


def test_secure_auto_behind_proxy_fix(engine_settings: dict[str, Any]) -> None:
    """Behind a proxy, werkzeug's ProxyFix turns X-Forwarded-Proto into wsgi.url_scheme, which "auto" reads."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    middleware = SessionMiddleware(django_app, {**engine_settings, "SESSION_COOKIE_SECURE": "auto"})
    client = TestApp(ProxyFix(middleware, x_proto=1))
    response = client.get("/set?a=1", headers={"X-Forwarded-Proto": "https"})
    [header] = session_cookies(response)
    assert "secure" in cookie_attributes(header)


def test_secure_cookie_on_plain_http_is_logged_once(make_django_client: MakeDjangoClient,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """A Secure cookie sent on a plain-HTTP request is dropped by browsers: one warning says so."""
    client = make_django_client(SESSION_COOKIE_SECURE=True)
    with caplog.at_level(logging.WARNING, logger="wsgisession"):
        client.get("/set?a=1")
        client.get("/set?a=2")
    lines = [record.getMessage() for record in caplog.records if "plain-HTTP" in record.getMessage()]
    assert len(lines) == 1 and "ProxyFix" in lines[0]


# --- SESSION_FILE_PATH as a pathlib.Path ------------------------------------------


def test_file_path_may_be_a_pathlib_path(tmp_path: Path) -> None:
    """Django's settings template writes paths as pathlib.Path (BASE_DIR / "sessions")."""
    folder = tmp_path / "sessions"
    folder.mkdir(mode=0o700)
    settings = {"SECRET_KEY": "test-secret-key-0123456789abcdef", "SESSION_ENGINE": "file",
                "SESSION_FILE_PATH": folder}
    client = TestApp(SessionMiddleware(django_app, settings))
    client.get("/set?a=1")
    assert client.get("/set").json["data"] == {"a": "1"}
    assert len([path for path in folder.iterdir() if path.name.startswith("wsgisession-")]) == 1


@pytest.mark.parametrize("engine_id", ["redis"])
def test_save_then_commit_writes_once(engine_settings: dict[str, Any]) -> None:
    """After session.save() the commit point saves nothing more unless the session changed again."""
    middleware = SessionMiddleware(django_app, engine_settings)
    client = TestApp(middleware)
    client.get("/set?a=1")
    client.get("/set?a=2")  # the save script is loaded on the server by now
    store_client = middleware.backend.store.client  # type: ignore[attr-defined]
    sent: list[str] = []
    original = store_client.execute_command

    def counting(*args: Any, **options: Any) -> Any:
        sent.append(str(args[0]).upper())
        return original(*args, **options)

    store_client.execute_command = counting
    response = client.get("/save?a=3")
    assert sent == ["HGETALL", "EVALSHA"] and len(session_cookies(response)) == 1
    assert client.get("/set").json["data"] == {"a": "3"}


def test_empty_session_saved(django_client: TestApp) -> None:
    """SessionMiddlewareTests.test_empty_session_saved: emptied but keyed, it is saved and its cookie kept."""
    django_client.get("/set?foo=bar")
    response = django_client.get("/pop?k=foo")
    assert response.json["data"] == {} and response.headers["Vary"] == "Cookie"
    [header] = session_cookies(response)
    assert cookie_attributes(header)[""] != "sessionid="  # not a deletion
    assert django_client.get("/set").json["data"] == {}


def test_session_delete_on_end_with_custom_domain_and_path(make_django_client: MakeDjangoClient) -> None:
    """SessionMiddlewareTests.test_session_delete_on_end_with_custom_domain_and_path."""
    client = make_django_client(SESSION_COOKIE_DOMAIN=".example.local", SESSION_COOKIE_PATH="/example/")
    [set_header] = session_cookies(client.get("/set?a=1"))
    cookie = cookie_attributes(set_header)[""]  # sent by hand: the client's jar keeps it for /example/ only
    [header] = session_cookies(client.get("/flush", headers={"Cookie": cookie}))
    attributes = cookie_attributes(header)
    assert attributes["max-age"] == "0" and attributes["domain"] == "example.local"
    assert attributes["path"] == "/example/"


# --- SessionTestsMixin, inside a request ----------------------------------------------


@check
def new_session(session: Session) -> Any:
    return [session.modified, session.accessed, session.get("cat"), session.session_key]


def test_new_session_and_get_empty(django_client: TestApp) -> None:
    """SessionTestsMixin.test_new_session, test_get_empty."""
    assert django_client.get("/check/new_session").json["check"] == [False, False, None, None]


@check
def store_pop_setdefault_update(session: Session) -> Any:
    session["cat"] = "dog"
    seen = [session.modified, session.pop("cat"), session.pop("some key", "does not exist")]
    with_default = session.pop("nothing", default="named")
    try:
        session.pop("nothing")
        raised = False
    except KeyError:
        raised = True
    seen += [with_default, raised, session.setdefault("foo", "bar"), session.setdefault("foo", "baz")]
    session.update({"update key": 1})
    return [*seen, session.get("update key"), session.has_key("foo"), sorted(session.keys()),
            sorted(session.values(), key=str), sorted(session.items(), key=str)]


def test_mapping_api(django_client: TestApp) -> None:
    """SessionTestsMixin.test_store, test_pop, test_pop_default, test_pop_default_named_argument,
    test_pop_no_default_keyerror_raised, test_setdefault, test_update, test_has_key, test_keys,
    test_values, test_items."""
    response = django_client.get("/check/store_pop_setdefault_update")
    assert response.json["check"] == [True, "dog", "does not exist", "named", True, "bar", "bar", 1, True,
                                      ["foo", "update key"], [1, "bar"], [["foo", "bar"], ["update key", 1]]]
    assert django_client.get("/set").json["data"] == {"foo": "bar", "update key": 1}


@check
def read_flags(session: Session) -> Any:
    session.modified = False
    session.accessed = False
    present = "x" in session
    return [present, session.accessed, session.modified]


def test_has_key_reads_without_modifying(django_client: TestApp) -> None:
    """SessionTestsMixin.test_has_key (and test_keys/test_values flags): reading marks accessed, not modified."""
    django_client.get("/set?x=1")
    response = django_client.get("/check/read_flags")
    assert response.json["check"] == [True, True, False] and session_cookies(response) == []


@check
def clear_it(session: Session) -> Any:
    session.clear()
    return [session.modified, session.accessed, dict(session)]


def test_clear(django_client: TestApp) -> None:
    """SessionTestsMixin.test_clear: the data goes, the session stays (its key is kept)."""
    django_client.get("/set?x=1")
    first = django_client.get("/set").json["key"]
    response = django_client.get("/check/clear_it")
    assert response.json["check"] == [True, True, {}]
    assert django_client.get("/set").json["data"] == {}
    if django_client.app.app.settings.engine != "signed_cookies":
        assert response.json["key"] == first


@check
def cycle(session: Session) -> Any:
    before = session.session_key
    session.cycle_key()
    return [before, session.session_key]


def test_cycle(django_client: TestApp) -> None:
    """SessionTestsMixin.test_cycle: the data stays under a new key; the old key is gone."""
    [first] = session_cookies(django_client.get("/set?a=c&b=d"))
    response = django_client.get("/check/cycle")
    before, after = response.json["check"]
    assert before != after and after is not None and len(session_cookies(response)) == 1
    assert django_client.get("/set").json["data"] == {"a": "c", "b": "d"}
    if django_client.app.app.settings.engine != "signed_cookies":  # a signed cookie cannot be revoked
        old = TestApp(django_client.app).get("/set", headers={"Cookie": cookie_attributes(first)[""]})
        assert old.json["data"] == {}


def test_invalid_key(django_client: TestApp) -> None:
    """SessionTestsMixin.test_invalid_key, test_session_key_empty_string_invalid, _too_short_invalid:
    a made-up cookie gives an empty session, which a save gives a new key."""
    for made_up in ("1", "", "a" * 43):
        django_client.reset()  # only the made-up cookie: beside a real one, the one that loads would win
        django_client.set_cookie("sessionid", made_up)
        response = django_client.get("/save?cat=dog")
        assert response.json["before"] is None and response.json["after"] not in (None, made_up)


def test_session_load_does_not_create_record(django_client: TestApp) -> None:
    """SessionTestsMixin.test_session_load_does_not_create_record: a read of an unknown session writes nothing."""
    django_client.set_cookie("sessionid", "someunknownkey")
    response = django_client.get("/set")
    assert response.json["key"] is None
    assert [cookie_attributes(header)[""] for header in session_cookies(response)] == ["sessionid="]  # dropped


@check
def key_is_read_only(session: Session) -> Any:
    try:
        session.session_key = "chosen"  # type: ignore[misc]
    except AttributeError:
        return True
    return False


def test_session_key_is_read_only(django_client: TestApp) -> None:
    """SessionTestsMixin.test_session_key_is_read_only."""
    assert django_client.get("/check/key_is_read_only").json["check"] is True


@check
def expiry(session: Session) -> Any:
    seen = [session.get_expiry_age()]
    session.set_expiry(0)
    seen += [session.get_expiry_age(), session.get_expire_at_browser_close()]
    session.set_expiry(10)
    seen += [session.get_expiry_age(), session.get_expire_at_browser_close()]
    session.set_expiry(timedelta(seconds=10))
    seen.append(session.get_expiry_age())
    session.set_expiry(None)
    seen += [session.get_expiry_age(), session.get_expire_at_browser_close()]
    session.set_expiry(-10)
    seen.append(session.get_expiry_age())
    session.set_expiry(None)
    return seen


def test_expiry_api(django_client: TestApp) -> None:
    """SessionTestsMixin.test_default_expiry, test_custom_expiry_seconds, test_custom_expiry_timedelta,
    test_custom_expiry_reset, test_get_expire_at_browser_close (negative values as Django computes them)."""
    [default, zero, zero_closes, ten, ten_closes, delta, reset, reset_closes, negative] = django_client.get(
        "/check/expiry").json["check"]
    assert (default, zero, zero_closes, ten, ten_closes) == (1209600, 1209600, True, 10, False)
    assert delta in (9, 10) and (reset, reset_closes, negative) == (1209600, False, -10)
