"""The Pyramid, Bottle and Falcon examples in process, through WebTest and LintMiddleware.

Run over the signed_cookies, file and db (SQLite in ``tmp_path``) engines; tests/live runs each
example under gunicorn.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from webtest import TestApp
from werkzeug.middleware.lint import LintMiddleware

from tests.conftest import SECRET

pytestmark = pytest.mark.filterwarnings(
    "error::werkzeug.middleware.lint.WSGIWarning",
    "error::werkzeug.middleware.lint.HTTPWarning",
    "ignore:Absolute URLs required for location header:werkzeug.middleware.lint.HTTPWarning",
)


@pytest.fixture
def examples(monkeypatch: pytest.MonkeyPatch) -> dict[str, ModuleType]:
    """The example modules, imported so that their module-level ``app`` writes nothing to disk."""
    for name in [name for name in os.environ if name.startswith("WSGISESSION_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("WSGISESSION_ENGINE", "signed_cookies")
    monkeypatch.setenv("WSGISESSION_SECRET_KEY", SECRET)
    return {name: importlib.import_module(f"examples.{name}_app") for name in ("pyramid", "bottle", "falcon")}


@pytest.fixture(params=["signed_cookies", "file", "db"])
def settings(request: pytest.FixtureRequest,
             engine_settings_factory: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    return engine_settings_factory(str(request.param))


def browser(examples: dict[str, ModuleType], name: str, settings: dict[str, Any]) -> TestApp:
    module = examples[name]
    app = module.main({}, **settings) if name == "pyramid" else module.make_app(settings)
    return TestApp(LintMiddleware(app))


def links(html: str) -> set[str]:
    """The paths a page links to or posts to."""
    return set(re.findall(r'(?:href|action)="(/[^"]*)"', html))


@pytest.mark.parametrize("name", ["pyramid", "bottle", "falcon"])
def test_home_links_every_route(examples: dict[str, ModuleType], settings: dict[str, Any], name: str) -> None:
    response = browser(examples, name, settings).get("/")
    assert response.content_type == "text/html"
    assert links(response.text) >= set(examples[name].ROUTES) - {"/"}


# --- Pyramid ----------------------------------------------------------------------------


def test_pyramid_counts_with_flash_messages(examples: dict[str, ModuleType], settings: dict[str, Any]) -> None:
    client = browser(examples, "pyramid", settings)
    client.get("/count", status=303)
    page = client.get("/count", status=303).follow().text
    assert "Count: 2." in page and "<li>Counted to 2.</li>" in page and "Counted to 1." in page
    assert "Counted to" not in client.get("/").text, "a flash message shows once"


def test_pyramid_name_form_cycles_the_key(examples: dict[str, ModuleType], settings: dict[str, Any]) -> None:
    client = browser(examples, "pyramid", settings)
    form = client.get("/name").form
    before = client.cookies["sessionid"]
    form["name"] = "<b>Ada</b>"
    page = form.submit(status=303).follow().text
    assert "Hello, &lt;b&gt;Ada&lt;/b&gt;." in page and "Saved your name." in page
    assert client.cookies["sessionid"] != before


def test_pyramid_refuses_a_post_without_the_token(examples: dict[str, ModuleType], settings: dict[str, Any]) -> None:
    client = browser(examples, "pyramid", settings)
    client.get("/name")
    client.post("/name", {"name": "Mallory", "csrf_token": "forged"}, status=400)
    client.post("/forget", status=400)
    assert "Hello, stranger." in client.get("/").text


def test_pyramid_forget_deletes_the_cookie(examples: dict[str, ModuleType], settings: dict[str, Any]) -> None:
    client = browser(examples, "pyramid", settings)
    client.get("/count")
    response = client.get("/").forms[0].submit(status=303)
    assert "Max-Age=0" in response.headers["Set-Cookie"]
    assert "Count: 0." in response.follow().text


# --- Bottle -----------------------------------------------------------------------------


def test_bottle_counts(examples: dict[str, ModuleType], settings: dict[str, Any]) -> None:
    client = browser(examples, "bottle", settings)
    assert [client.get("/count").json["count"] for _ in range(3)] == [1, 2, 3]
    assert "Count: 3." in client.get("/").text


def test_bottle_name_form_cycles_the_key(examples: dict[str, ModuleType], settings: dict[str, Any]) -> None:
    client = browser(examples, "bottle", settings)
    form = client.get("/name").form
    before = client.cookies["sessionid"]
    form["name"] = "<b>Ada</b>"
    assert "Hello, &lt;b&gt;Ada&lt;/b&gt;." in form.submit(status=303).follow().text
    assert client.cookies["sessionid"] != before


def test_bottle_refuses_a_post_without_the_token(examples: dict[str, ModuleType], settings: dict[str, Any]) -> None:
    client = browser(examples, "bottle", settings)
    client.get("/name")
    assert "The form expired" in client.post("/name", {"name": "Mallory", "csrf_token": "x"}, status=400).text
    client.post("/forget", status=400)
    assert "Hello, stranger." in client.get("/").text


def test_bottle_forget_deletes_the_cookie(examples: dict[str, ModuleType], settings: dict[str, Any]) -> None:
    client = browser(examples, "bottle", settings)
    client.get("/count")
    response = client.get("/").forms[0].submit(status=303)
    assert "Max-Age=0" in response.headers["Set-Cookie"]
    assert client.get("/count").json == {"count": 1}


# --- Falcon -----------------------------------------------------------------------------


def test_falcon_counts_and_keeps_a_cart(examples: dict[str, ModuleType], settings: dict[str, Any]) -> None:
    client = browser(examples, "falcon", settings)
    assert [client.get("/count").json["count"] for _ in range(3)] == [1, 2, 3]
    client.post("/cart", {"item": "apple"}, status=201)
    assert client.post_json("/cart", {"item": "pear"}, status=201).json == {"cart": ["apple", "pear"]}
    assert client.get("/cart").json == {"cart": ["apple", "pear"]}


def test_falcon_refuses_an_empty_item(examples: dict[str, ModuleType], settings: dict[str, Any]) -> None:
    client = browser(examples, "falcon", settings)
    client.post("/cart", {"item": " "}, status=400)
    client.post_json("/cart", ["not", "an", "object"], status=400)
    assert client.get("/cart").json == {"cart": []}


def test_falcon_forget_deletes_the_cookie(examples: dict[str, ModuleType], settings: dict[str, Any]) -> None:
    client = browser(examples, "falcon", settings)
    client.get("/count")
    response = client.post("/forget")
    assert response.json == {"forgotten": True}
    assert "Max-Age=0" in response.headers["Set-Cookie"]
    assert client.get("/count").json == {"count": 1}
