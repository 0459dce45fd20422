"""examples/flask_app.py in process: the visit counter, the cart, ``session.permanent`` and the reset."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.conftest import SECRET
from tests.flask.conftest import LINT_ERRORS

pytestmark = LINT_ERRORS


def test_counter_cart_remember_reset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WSGISESSION_SECRET_KEY", SECRET)  # the module builds its own app from the environment
    monkeypatch.setenv("WSGISESSION_FILE_PATH", str(tmp_path))
    create_app = importlib.import_module("examples.flask_app").create_app
    app = create_app({"SECRET_KEY": SECRET, "SESSION_ENGINE": "file", "SESSION_FILE_PATH": str(tmp_path)})
    browser = app.test_client()
    assert browser.get("/").json == {"visits": 1, "cart": [], "new": True}
    assert browser.post("/cart", data={"item": "apple"}).json == {"cart": ["apple"]}
    assert browser.post("/cart", data={"item": "pear"}).json == {"cart": ["apple", "pear"]}
    assert browser.get("/").json == {"visits": 2, "cart": ["apple", "pear"], "new": False}

    response = browser.post("/remember", data={"remember": "0"})
    assert response.json == {"permanent": False}
    (cookie,) = response.headers.getlist("Set-Cookie")
    assert "Max-Age" not in cookie and "Expires" not in cookie
    assert browser.post("/remember", data={"remember": "1"}).json == {"permanent": True}

    response = browser.post("/reset")
    assert "Max-Age=0" in response.headers["Set-Cookie"] and browser.get_cookie("session") is None
    assert browser.get("/").json == {"visits": 1, "cart": [], "new": True}
