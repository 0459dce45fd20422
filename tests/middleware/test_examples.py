"""The example apps in process: login and counter flows through WebTest, checked by LintMiddleware.

Run over the engines signed_cookies, file and db (SQLite in ``tmp_path``). The live
suite (tests/live) runs the same flows under gunicorn.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from webtest import TestApp
from werkzeug.middleware.lint import LintMiddleware

from examples.settings import MissingSecretKey, example_settings
from tests.conftest import SECRET
from wsgisession import Settings

# Lint findings fail the test; except relative Location headers, allowed since RFC 7231 (section 7.1.2).
pytestmark = pytest.mark.filterwarnings(
    "error::werkzeug.middleware.lint.WSGIWarning",
    "error::werkzeug.middleware.lint.HTTPWarning",
    "ignore:Absolute URLs required for location header:werkzeug.middleware.lint.HTTPWarning",
)

PASSWORD = "correct horse battery staple"


@pytest.fixture
def examples(monkeypatch: pytest.MonkeyPatch) -> dict[str, ModuleType]:
    """The example modules, imported so that their module-level ``app`` writes nothing to disk."""
    for name in [name for name in os.environ if name.startswith("WSGISESSION_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("WSGISESSION_ENGINE", "signed_cookies")
    monkeypatch.setenv("WSGISESSION_SECRET_KEY", SECRET)
    return {name: importlib.import_module(f"examples.{name}") for name in ("login", "counter")}


@pytest.fixture(params=["signed_cookies", "file", "db"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(engine: str, engine_settings_factory: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    return engine_settings_factory(engine)


@pytest.fixture
def login_app(examples: dict[str, ModuleType], settings: dict[str, Any], tmp_path: Path) -> LintMiddleware:
    return LintMiddleware(examples["login"].make_app(settings, users_db=str(tmp_path / "users.sqlite3")))


@pytest.fixture
def counter_app(examples: dict[str, ModuleType], settings: dict[str, Any]) -> LintMiddleware:
    return LintMiddleware(examples["counter"].make_app(settings))


def submit(browser: TestApp, path: str, status: int = 303, **fields: str) -> Any:
    """Fill in and post the form at ``path`` (its anti-forgery token included)."""
    form = browser.get(path).form
    for name, value in fields.items():
        form[name] = value
    return form.submit(status=status)


def home(app: LintMiddleware, key: str) -> str:
    """The home page as a fresh browser sending only the session ``key``."""
    return str(TestApp(app).get("/", headers={"Cookie": f"sessionid={key}"}).text)


def register_and_login(browser: TestApp, username: str = "alice") -> None:
    submit(browser, "/register", username=username, password=PASSWORD)
    submit(browser, "/login", username=username, password=PASSWORD)


# --- login ------------------------------------------------------------------------------


def test_home_offers_login_and_sets_no_cookie(login_app: LintMiddleware) -> None:
    response = TestApp(login_app).get("/")
    assert 'href="/login"' in response.text and 'href="/register"' in response.text
    assert "Set-Cookie" not in response.headers
    assert response.headers["Vary"] == "Cookie"


def test_login_flow(login_app: LintMiddleware, engine: str) -> None:
    browser = TestApp(login_app)
    submit(browser, "/register", username="alice", password=PASSWORD)
    before_login = browser.cookies["sessionid"]

    response = submit(browser, "/login", username="alice", password=PASSWORD)
    assert response.headers["Location"] == "/"
    assert "HttpOnly" in response.headers["Set-Cookie"] and "SameSite=Lax" in response.headers["Set-Cookie"]
    logged_in = browser.cookies["sessionid"]
    assert logged_in != before_login
    assert "Hello, alice" in response.follow().text
    assert "Hello" not in home(login_app, before_login)

    response = browser.get("/").form.submit(status=303)  # the Log out button
    assert "Max-Age=0" in response.headers["Set-Cookie"]
    assert "sessionid" not in browser.cookies
    assert "Hello" not in response.follow().text
    if engine != "signed_cookies":  # a copy of a signed cookie stays valid until it expires (see the docs)
        assert "Hello" not in home(login_app, logged_in)


def test_logout_by_get_as_in_the_tutorial(login_app: LintMiddleware) -> None:
    browser = TestApp(login_app)
    register_and_login(browser)
    browser.get("/logout", status=303)
    assert "Hello" not in browser.get("/").text


def test_wrong_password_does_not_log_in(login_app: LintMiddleware) -> None:
    browser = TestApp(login_app)
    submit(browser, "/register", username="alice", password=PASSWORD)
    response = submit(browser, "/login", status=400, username="alice", password="wrong")
    assert "Wrong username or password." in response.text
    assert "Hello" not in browser.get("/").text


def test_usernames_are_unique(login_app: LintMiddleware) -> None:
    submit(TestApp(login_app), "/register", username="alice", password=PASSWORD)
    response = submit(TestApp(login_app), "/register", status=400, username="alice", password="other")
    assert "That username is taken." in response.text


def test_a_form_without_its_token_is_refused(login_app: LintMiddleware) -> None:
    browser = TestApp(login_app)
    submit(browser, "/register", username="alice", password=PASSWORD)
    response = browser.post("/login", {"username": "alice", "password": PASSWORD, "csrf_token": "forged"}, status=400)
    assert "The form expired" in response.text
    assert "Hello" not in browser.get("/").text


def test_user_input_is_escaped(login_app: LintMiddleware) -> None:
    browser = TestApp(login_app)
    register_and_login(browser, "<script>x</script>")
    text = browser.get("/").text
    assert "Hello, &lt;script&gt;x&lt;/script&gt;" in text and "<script>" not in text


def test_unknown_path_and_method(login_app: LintMiddleware) -> None:
    browser = TestApp(login_app)
    browser.get("/nowhere", status=404)
    assert set(browser.delete("/login", status=405).headers["Allow"].split(", ")) == {"GET", "HEAD", "POST"}


def links(html: str) -> set[str]:
    """The paths a page links to or posts to."""
    return set(re.findall(r'(?:href|action)="(/[^"]*)"', html))


def test_home_links_every_route_logged_out_and_in(login_app: LintMiddleware, examples: dict[str, ModuleType]) -> None:
    browser = TestApp(login_app)
    seen = links(browser.get("/").text)
    register_and_login(browser)
    seen |= links(browser.get("/").text)
    assert seen >= set(examples["login"].ROUTES) - {"/"}


# --- counter ----------------------------------------------------------------------------


def test_counter_home_links_every_route_and_starts_no_session(counter_app: LintMiddleware,
                                                               examples: dict[str, ModuleType]) -> None:
    response = TestApp(counter_app).get("/")
    assert response.content_type == "text/html"
    assert links(response.text) >= set(examples["counter"].ROUTES) - {"/"}
    assert "Set-Cookie" not in response.headers


def test_counter_home_shows_the_counts_it_was_sent(counter_app: LintMiddleware) -> None:
    browser = TestApp(counter_app)
    browser.get("/cookie")
    browser.get("/session")
    browser.get("/session")
    text = browser.get("/").text
    assert "cookie: 1" in text and "session: 2" in text


def test_session_counter_counts_and_resets(counter_app: LintMiddleware) -> None:
    browser = TestApp(counter_app)
    assert [browser.get("/session").json["count"] for _ in range(5)] == [1, 2, 3, 4, 5]
    response = browser.post("/session/reset")
    assert response.json == {"count": 0} and "Max-Age=0" in response.headers["Set-Cookie"]
    assert browser.get("/session").json == {"count": 1}


def test_two_browsers_have_their_own_counts(counter_app: LintMiddleware) -> None:
    alice, bob = TestApp(counter_app), TestApp(counter_app)
    seen = [(alice.get("/session").json["count"], bob.get("/session").json["count"], bob.get("/session").json["count"])
            for _ in range(3)]
    assert seen == [(1, 1, 2), (2, 3, 4), (3, 5, 6)]


def test_cookie_counter_uses_a_plain_cookie_and_no_session(counter_app: LintMiddleware) -> None:
    browser = TestApp(counter_app)
    assert [browser.get("/cookie").json["res"] for _ in range(3)] == [1, 2, 3]
    assert browser.cookies == {"res": "3"}
    tampered = TestApp(counter_app).get("/cookie", headers={"Cookie": "res=not-a-number"})
    assert tampered.json == {"res": 1}


# --- examples/settings.py ---------------------------------------------------------------


def test_example_settings_defaults() -> None:
    settings = example_settings({"WSGISESSION_SECRET_KEY": SECRET})
    assert settings == {"SESSION_ENGINE": "db", "SECRET_KEY": SECRET}
    assert Settings.from_mapping(settings).db_url == "sqlite:///wsgisession.sqlite3"


def test_examples_refuse_to_start_without_a_key_outside_the_demo_mode() -> None:
    for environ in ({}, {"WSGISESSION_SECRET_KEY": ""}, {"WSGISESSION_DEMO": "0"}, {"WSGISESSION_ENGINE": "redis"}):
        with pytest.raises(MissingSecretKey, match=r"WSGISESSION_SECRET_KEY .* or set WSGISESSION_DEMO=1"):
            example_settings(environ)


def test_the_demo_mode_makes_a_random_key_per_process_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    first, second = (example_settings({"WSGISESSION_DEMO": "1"})["SECRET_KEY"] for _ in range(2))
    assert first != second
    assert Settings.from_mapping({"SECRET_KEY": first}).secret_key == first
    assert capsys.readouterr().err.count("DEMO MODE") == 2


def test_a_key_given_wins_over_the_demo_mode(capsys: pytest.CaptureFixture[str]) -> None:
    assert example_settings({"WSGISESSION_DEMO": "1", "WSGISESSION_SECRET_KEY": SECRET})["SECRET_KEY"] == SECRET
    assert capsys.readouterr().err == ""


def test_example_settings_pass_only_what_is_set() -> None:
    settings = example_settings({
        "WSGISESSION_ENGINE": "redis", "WSGISESSION_SECRET_KEY": SECRET,
        "WSGISESSION_REDIS_URL": "redis://127.0.0.1:6379/3", "WSGISESSION_REDIS_PREFIX": "demo",
    })
    assert settings == {"SESSION_ENGINE": "redis", "SECRET_KEY": SECRET,
                        "SESSION_REDIS_URL": "redis://127.0.0.1:6379/3", "SESSION_REDIS_PREFIX": "demo"}
    assert Settings.from_mapping(settings).redis_prefix == "demo"


def test_example_settings_for_the_file_and_cache_engines() -> None:
    key = {"WSGISESSION_SECRET_KEY": SECRET}
    assert example_settings({**key, "WSGISESSION_ENGINE": "file", "WSGISESSION_FILE_PATH": "/srv/sessions"}) == {
        "SESSION_ENGINE": "file", "SECRET_KEY": SECRET, "SESSION_FILE_PATH": "/srv/sessions"}
    assert example_settings({**key, "WSGISESSION_ENGINE": "cached_db", "WSGISESSION_CACHE_URL": "redis://h/1",
                             "WSGISESSION_DB_URL": "sqlite:///s.sqlite3"}) == {
        "SESSION_ENGINE": "cached_db", "SECRET_KEY": SECRET,
        "SESSION_DB_URL": "sqlite:///s.sqlite3", "SESSION_CACHE_URL": "redis://h/1"}
