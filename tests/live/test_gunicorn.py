"""The example apps under a real gunicorn with 3 sync workers, on the redis and db engines.

Requests go out one connection each (sync workers close every connection), so they
land on different worker processes (which one is the kernel's choice): the session must
live in the shared store.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from typing import TYPE_CHECKING

import pytest
import requests
from werkzeug.security import check_password_hash

from tests import servers

if TYPE_CHECKING:
    from tests.live.conftest import LiveServer, StartServer

pytestmark = pytest.mark.live

PASSWORD = "correct horse battery staple"
#: Requests one client may make before a second worker must have served it.
MAX_REQUESTS_TO_REACH_A_SECOND_WORKER = 2000
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def count(client: requests.Session, server: LiveServer) -> int:
    response = client.get(f"{server.url}/session", timeout=5)
    response.raise_for_status()
    return int(response.json()["count"])


def submit(client: requests.Session, server: LiveServer, path: str, **fields: str) -> requests.Response:
    """GET the form at ``path`` and POST it back with its anti-forgery token; redirects not followed."""
    match = _TOKEN.search(client.get(server.url + path, timeout=5).text)
    assert match is not None, f"no anti-forgery token in the form at {path}"
    return client.post(server.url + path, data={"csrf_token": match[1], **fields}, allow_redirects=False, timeout=5)


def session_set_cookie(response: requests.Response) -> str:
    """The one Set-Cookie header for the session cookie."""
    headers = [value for value in response.raw.headers.getlist("Set-Cookie") if value.startswith("sessionid=")]
    assert len(headers) == 1, headers
    return str(headers[0])


def home(server: LiveServer, client: requests.Session | None = None, key: str | None = None) -> str:
    """The home page, as ``client`` or as a fresh browser sending only the session ``key``."""
    if client is not None:
        return client.get(f"{server.url}/", timeout=5).text
    return requests.get(f"{server.url}/", cookies={"sessionid": key} if key else None, timeout=5).text


def assert_store_used(server: LiveServer) -> None:
    """The sessions really went to the engine under test."""
    if server.engine == "redis":
        import redis

        client = redis.Redis.from_url(servers.REDIS_URL)
        try:
            assert next(client.scan_iter(match=f"{server.redis_prefix}*"), None) is not None
        finally:
            client.close()
    else:
        assert server.sessions_db.stat().st_size > 0


def test_counter_stays_exact_across_workers(start_server: StartServer, live_engine: str) -> None:
    server = start_server("examples.counter:app", live_engine)
    client = requests.Session()

    counts = [count(client, server) for _ in range(50)]
    # Which worker accepts a connection is the kernel's choice: a fast app can be served by one
    # worker for a long run, so go on (bounded) until a second worker has served the session.
    while len(server.worker_pids()) < 2 and len(counts) < MAX_REQUESTS_TO_REACH_A_SECOND_WORKER:
        counts.append(count(client, server))
    assert counts == list(range(1, len(counts) + 1))
    assert len(server.worker_pids()) >= 2, "every request went to one worker: the test proves nothing"
    assert_store_used(server)


def test_two_clients_never_see_each_others_data(start_server: StartServer, live_engine: str) -> None:
    server = start_server("examples.counter:app", live_engine)
    alice, bob = requests.Session(), requests.Session()
    seen_alice, seen_bob = [], []
    for _ in range(10):
        seen_alice.append(count(alice, server))
        seen_bob.extend([count(bob, server), count(bob, server)])

    assert seen_alice == list(range(1, 11))
    assert seen_bob == list(range(1, 21))
    assert alice.cookies["sessionid"] != bob.cookies["sessionid"]
    alice.post(f"{server.url}/session/reset", timeout=5).raise_for_status()
    assert (count(alice, server), count(bob, server)) == (1, 21)


def test_login_flow(start_server: StartServer, live_engine: str) -> None:
    server = start_server("examples.login:app", live_engine)
    browser = requests.Session()
    assert "Hello" not in home(server, browser)
    assert submit(browser, server, "/register", username="alice", password=PASSWORD).status_code == 303
    before_login = browser.cookies["sessionid"]  # the form's anti-forgery token started a session

    response = submit(browser, server, "/login", username="alice", password=PASSWORD)
    assert (response.status_code, response.headers["Location"]) == (303, "/")
    cookie = session_set_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    logged_in = browser.cookies["sessionid"]
    assert logged_in != before_login, "login must give the session a new key (cycle_key)"
    assert "Hello, alice" in home(server, browser)
    assert "Hello" not in home(server, key=before_login), "the pre-login key must not be logged in"

    response = browser.post(f"{server.url}/logout", allow_redirects=False, timeout=5)
    assert response.status_code == 303
    assert "Max-Age=0" in session_set_cookie(response)
    assert "sessionid" not in browser.cookies
    assert "Hello" not in home(server, browser)
    assert "Hello" not in home(server, key=logged_in), "logout must delete the session from the store"


def test_users_table_holds_a_hash_not_the_password(start_server: StartServer) -> None:
    server = start_server("examples.login:app", "db")
    assert submit(requests.Session(), server, "/register", username="bob", password=PASSWORD).status_code == 303

    with closing(sqlite3.connect(server.users_db)) as db:
        (stored,) = db.execute("SELECT password_hash FROM users WHERE username = 'bob'").fetchone()
    assert stored != PASSWORD and check_password_hash(stored, PASSWORD)
    assert PASSWORD.encode() not in server.users_db.read_bytes()


def test_threaded_workers_keep_concurrent_clients_apart(start_server: StartServer, live_engine: str) -> None:
    """gthread workers (4 threads each): 8 clients at once, each counter exact and its own."""
    from concurrent.futures import ThreadPoolExecutor

    server = start_server("examples.counter:app", live_engine, worker_class="gthread")

    def run_client(_: int) -> list[int]:
        client = requests.Session()
        return [count(client, server) for _ in range(20)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run_client, range(8)))
    assert results == [list(range(1, 21))] * 8
    assert_store_used(server)
