"""The counter example under the standard library's wsgiref server (another WSGI server than gunicorn)."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import requests

pytestmark = pytest.mark.live


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No access log on the test output."""


@pytest.fixture
def wsgiref_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    secret = "wsgiref-test-secret-key-0123456789"
    # Importing the example builds its module-level app from the environment, which needs a key.
    monkeypatch.setenv("WSGISESSION_SECRET_KEY", secret)
    monkeypatch.setenv("WSGISESSION_ENGINE", "signed_cookies")
    make_app = importlib.import_module("examples.counter").make_app
    settings = {"SECRET_KEY": secret, "SESSION_ENGINE": "file", "SESSION_FILE_PATH": str(tmp_path)}
    server = make_server("127.0.0.1", 0, make_app(settings), handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_counter_and_reset_under_wsgiref(wsgiref_url: str) -> None:
    client = requests.Session()
    assert [client.get(f"{wsgiref_url}/session", timeout=5).json()["count"] for _ in range(5)] == [1, 2, 3, 4, 5]
    response = client.get(f"{wsgiref_url}/session/reset", timeout=5)
    assert "sessionid" not in client.cookies and response.headers["Vary"] == "Cookie"
    assert client.get(f"{wsgiref_url}/session", timeout=5).json() == {"count": 1}
