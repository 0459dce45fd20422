"""The Pyramid, Bottle and Falcon examples under gunicorn, run as their docstrings say (sessions in Redis)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
import requests

if TYPE_CHECKING:
    from tests.live.conftest import StartServer

pytestmark = pytest.mark.live


def test_pyramid_example(start_server: StartServer) -> None:
    server = start_server("examples.pyramid_app:app", "redis")
    browser = requests.Session()
    browser.get(f"{server.url}/count", timeout=5)
    home = browser.get(f"{server.url}/count", timeout=5).text  # redirected to / with a flash message
    assert "Count: 2." in home and "Counted to 2." in home
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get(f"{server.url}/name", timeout=5).text)
    assert token is not None
    before = browser.cookies["sessionid"]
    home = browser.post(f"{server.url}/name", data={"name": "Ada", "csrf_token": token[1]}, timeout=5).text
    assert "Hello, Ada." in home and browser.cookies["sessionid"] != before
    assert browser.post(f"{server.url}/forget", timeout=5).status_code == 400, "a POST without the token"
    response = browser.post(f"{server.url}/forget", data={"csrf_token": token[1]}, allow_redirects=False, timeout=5)
    assert response.status_code == 303 and "Max-Age=0" in response.headers["Set-Cookie"]
    assert "sessionid" not in browser.cookies


def test_bottle_example(start_server: StartServer) -> None:
    server = start_server("examples.bottle_app:app", "redis")
    browser = requests.Session()
    assert [browser.get(f"{server.url}/count", timeout=5).json()["count"] for _ in range(5)] == [1, 2, 3, 4, 5]
    assert "Count: 5." in browser.get(f"{server.url}/", timeout=5).text


def test_falcon_example(start_server: StartServer) -> None:
    server = start_server("examples.falcon_app:app", "redis")
    browser = requests.Session()
    for item in ("apple", "pear"):
        assert browser.post(f"{server.url}/cart", data={"item": item}, timeout=5).status_code == 201
    assert browser.get(f"{server.url}/cart", timeout=5).json() == {"cart": ["apple", "pear"]}
    assert browser.post(f"{server.url}/forget", timeout=5).json() == {"forgotten": True}
    assert browser.get(f"{server.url}/cart", timeout=5).json() == {"cart": []}
