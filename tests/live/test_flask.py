"""Flask apps through a real cookie jar (requests.Session), under gunicorn and ``flask run``.

gunicorn runs sync, gthread and gevent workers (3 each) on the redis engine, for both
wirings (the extension, and ``app.wsgi_app = SessionMiddleware(...)``), the user flows
then parallel requests of one session; werkzeug's
LintMiddleware wraps both sides of the middleware, its findings errors in the worker.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import servers
from tests.live.conftest import StartServer, free_port, server_environ, stop, wait_until_answering

pytestmark = pytest.mark.live

COOKIE = {"extension": "session", "middleware": "sessionid"}
#: How often to look for a save made when a streamed body was closed (the next request may reach
#: another worker before that worker has closed the body).
LATE_SAVE_POLLS = 100


def check_flows(url: str, cookie: str) -> None:
    """Login with cycle_key, reload, a 20-request counter, a streamed body, HEAD, an app exception, logout."""
    browser = requests.Session()

    def data() -> dict[str, Any]:
        return dict(browser.get(f"{url}/data", timeout=5).json())

    assert browser.get(f"{url}/inc", timeout=5).json() == {"count": 1}
    before_login = browser.cookies[cookie]
    assert browser.post(f"{url}/login", data={"user": "alice"}, timeout=5).json() == {"user": "alice"}
    logged_in = browser.cookies[cookie]
    assert logged_in != before_login, "login must give the session a new key (cycle_key)"
    assert browser.get(f"{url}/whoami", timeout=5).json() == {"user": "alice"}  # reload
    assert requests.get(f"{url}/whoami", cookies={cookie: before_login}, timeout=5).json() == {"user": None}

    assert [browser.get(f"{url}/inc", timeout=5).json()["count"] for _ in range(20)] == list(range(2, 22))

    assert browser.get(f"{url}/stream", timeout=5).text == "count=21\ndone\n"
    for _ in range(LATE_SAVE_POLLS):
        if data().get("streamed"):
            break
        time.sleep(0.05)
    assert data().get("streamed") is True, "the change made while streaming was not saved"

    head = browser.head(f"{url}/inc", timeout=5)
    assert head.status_code == 200 and head.content == b""
    boom = browser.get(f"{url}/boom", timeout=5)
    assert boom.status_code == 500 and "Set-Cookie" not in boom.headers
    assert data() == {"count": 22, "streamed": True, "user": "alice"}  # HEAD counted; the failed request saved nothing

    logout = browser.post(f"{url}/logout", timeout=5)
    assert logout.status_code == 200 and cookie not in browser.cookies
    assert browser.get(f"{url}/whoami", timeout=5).json() == {"user": None}
    assert requests.get(f"{url}/whoami", cookies={cookie: logged_in}, timeout=5).json() == {"user": None}


def check_parallel_writes(url: str, cookie: str) -> None:
    """Requests of one session, in parallel, each setting its own key: every write lands (per-key saves)."""
    from concurrent.futures import ThreadPoolExecutor

    browser = requests.Session()
    browser.get(f"{url}/inc", timeout=5)
    key = browser.cookies[cookie]

    def mark(name: str) -> int:
        return requests.get(f"{url}/mark/{name}", cookies={cookie: key}, timeout=10).status_code

    names = [f"k{n}" for n in range(12)]
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        assert list(pool.map(mark, names)) == [200] * len(names)
    assert browser.get(f"{url}/data", timeout=5).json() == {"count": 1, **dict.fromkeys(names, True)}


def assert_only_the_app_exception_in(log: Path) -> None:
    """The one traceback is /boom's (Flask logs it); nothing else failed, lint included."""
    text = log.read_text()
    assert text.count("Traceback") == text.count("RuntimeError: the app failed") == 1, text


@pytest.mark.parametrize("wiring", ["extension", "middleware"])
@pytest.mark.parametrize("worker_class", ["sync", "gthread", "gevent"])
def test_flask_under_gunicorn(start_server: StartServer, tmp_path: Path, worker_class: str, wiring: str) -> None:
    server = start_server(f"tests.live.flask_apps:{wiring}", "redis", worker_class=worker_class)
    check_flows(server.url, COOKIE[wiring])
    check_parallel_writes(server.url, COOKIE[wiring])
    assert_only_the_app_exception_in(tmp_path / "gunicorn.log")


StartFlaskRun = Callable[[str], str]


@pytest.fixture
def start_flask_run(tmp_path: Path) -> Iterator[StartFlaskRun]:
    """``start(app) -> url``: Flask's development server (``flask --app APP run``) on the file engine."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(app: str) -> str:
        port, log = free_port(), tmp_path / "flask-run.log"
        env = server_environ("file", tmp_path, "unused")
        env.update(WSGISESSION_FILE_PATH=str(tmp_path))
        with log.open("ab") as log_file:
            process = subprocess.Popen([sys.executable, "-m", "flask", "--app", app, "run", "--host", "127.0.0.1",
                                        "--port", str(port), "--no-reload", "--no-debugger"], cwd=tmp_path, env=env,
                                       stdout=log_file, stderr=subprocess.STDOUT)
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_until_answering(process, url, log)
        return url

    yield start
    for process in processes:
        stop(process)


@pytest.mark.parametrize("wiring", ["extension", "middleware"])
def test_flask_run_serves_both_wirings(start_flask_run: StartFlaskRun, wiring: str) -> None:
    url = start_flask_run(f"tests.live.flask_apps:{wiring}")
    check_flows(url, COOKIE[wiring])


def test_the_flask_example_under_flask_run(start_flask_run: StartFlaskRun) -> None:
    url = start_flask_run("examples.flask_app")
    browser = requests.Session()
    assert browser.get(f"{url}/", timeout=5).json() == {"visits": 1, "cart": [], "new": True}
    browser.post(f"{url}/cart", data={"item": "apple"}, timeout=5)
    assert browser.get(f"{url}/", timeout=5).json() == {"visits": 2, "cart": ["apple"], "new": False}


def test_the_quick_start_wiring_fails_under_flask_run(start_flask_run: StartFlaskRun,
                                                      start_server: StartServer) -> None:
    """``app = SessionMiddleware(flask_app, ...)``: flask run serves the inner app, so the session is missing (500).

    The same module is fine under gunicorn, which serves ``app``; the docs say to use the extension.
    """
    url = start_flask_run("tests.live.flask_quickstart")
    assert requests.get(f"{url}/inc", timeout=5).status_code == 500
    servers.require_redis()
    server = start_server("tests.live.flask_quickstart:app", "redis")
    assert requests.get(f"{server.url}/inc", timeout=5).json() == {"count": 1}
