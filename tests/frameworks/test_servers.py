"""Each framework app under each real server, through a real cookie jar.

The matrix: 7 apps (Flask through ``wsgisession.flask`` and through ``app.wsgi_app = SessionMiddleware(...)``,
Django as a plain WSGI app, Pyramid, Bottle, Falcon, bare WSGI) x 5 servers (gunicorn sync, gthread and
gevent workers, waitress, uWSGI), one server per cell shared by the cell's tests, sessions in Redis.
Every cell runs the whole flow: login with ``cycle_key``, reload, a 20-request counter, a streamed body,
a ``wsgi.file_wrapper`` response, ``HEAD`` (headers only, on the wire too), an exception (nothing saved)
and logout; then the server's log must hold no LintMiddleware warning.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.frameworks.apps.common import STREAM_CHUNKS
from tests.frameworks.servers import FRAMEWORKS, SERVERS, Served, serve

pytestmark = pytest.mark.live

#: The apps that let the exception out to the server (Bottle and Falcon answer 500 themselves).
EXCEPTION_ESCAPES = ("pyramid", "bare")
#: Seconds a save made when the body is closed may take to land after the client has the whole body.
CLOSE_SAVE_WAIT = 3.0
CELLS = [(framework, server) for server in SERVERS for framework in FRAMEWORKS]


@pytest.fixture(scope="module", params=CELLS, ids=[f"{framework}-{server}" for framework, server in CELLS])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    framework, server = request.param
    with serve(framework, server, tmp_path_factory.mktemp(f"{framework}-{server}")) as cell:
        yield cell


def state(browser: requests.Session, served: Served) -> dict[str, Any]:
    response = browser.get(f"{served.url}/state", timeout=10)
    assert response.status_code == 200, log_tail(served)
    return response.json()  # type: ignore[no-any-return]


def state_once_finished(browser: requests.Session, served: Served, key: str) -> dict[str, Any]:
    """The session once ``key`` is "finished", or as it stands after :data:`CLOSE_SAVE_WAIT` seconds.

    A change made while the body streams is saved when the server closes the body, which servers do
    after sending its last byte (gunicorn sends the final chunk first): the next request can overtake it.
    """
    deadline = time.monotonic() + CLOSE_SAVE_WAIT
    while True:
        current = state(browser, served)
        if current.get(key) == "finished" or time.monotonic() > deadline:
            return current
        time.sleep(0.05)


def log_tail(served: Served) -> str:
    return f"{served.server} log:\n" + "\n".join(served.log.read_text(errors="replace").splitlines()[-40:])


def logged_in(served: Served) -> requests.Session:
    browser = requests.Session()
    response = browser.post(f"{served.url}/login", data={"username": "alice"}, timeout=10)
    assert response.status_code == 200, log_tail(served)
    return browser


def test_login_cycles_the_key_and_survives_a_reload(served: Served) -> None:
    browser = requests.Session()
    assert browser.get(f"{served.url}/count", timeout=10).text == "1"
    anonymous_key = browser.cookies[served.cookie]
    response = browser.post(f"{served.url}/login", data={"username": "alice"}, timeout=10)
    assert response.status_code == 200, log_tail(served)
    assert browser.cookies[served.cookie] != anonymous_key, "login must give the session a new key (cycle_key)"
    assert state(browser, served) == {"count": 1, "user": "alice"}
    assert state(browser, served) == {"count": 1, "user": "alice"}, "a reload keeps the session"
    planted = requests.Session()
    planted.cookies.set(served.cookie, anonymous_key)
    assert state(planted, served) == {}, "the key from before login must be dead"


def test_counter_is_exact_over_20_requests(served: Served) -> None:
    browser = logged_in(served)
    counts = [browser.get(f"{served.url}/count", timeout=10).text for _ in range(20)]
    assert counts == [str(number) for number in range(1, 21)], log_tail(served)
    assert state(browser, served)["count"] == 20


def test_streamed_body_arrives_whole_and_its_late_change_is_saved(served: Served) -> None:
    browser = logged_in(served)
    response = browser.get(f"{served.url}/stream", timeout=10)
    assert (response.status_code, response.content) == (200, b"".join(STREAM_CHUNKS)), log_tail(served)
    assert state_once_finished(browser, served, "stream")["stream"] == "finished", log_tail(served)


def test_a_change_made_only_while_streaming_is_saved(served: Served) -> None:
    """The app touches the session for the first time after the response started (SessionMiddleware's promise:
    saved when the body is closed, for a browser that holds the session cookie)."""
    browser = logged_in(served)
    response = browser.get(f"{served.url}/stream-late", timeout=10)
    assert (response.status_code, response.content) == (200, b"".join(STREAM_CHUNKS)), log_tail(served)
    assert state_once_finished(browser, served, "late").get("late") == "finished", log_tail(served)


def test_file_wrapper_response_arrives_whole_and_the_session_is_saved(served: Served) -> None:
    browser = logged_in(served)
    for _ in range(2):
        response = browser.get(f"{served.url}/file", timeout=10)
        assert (response.status_code, len(response.content)) == (200, len(served.payload)), log_tail(served)
        assert response.content == served.payload
    assert state(browser, served)["files"] == 2, log_tail(served)


def test_head_answers_headers_only_and_keeps_the_session(served: Served) -> None:
    browser = logged_in(served)
    response = browser.head(f"{served.url}/state", timeout=10)
    assert (response.status_code, response.content) == (200, b""), log_tail(served)
    assert "Cookie" in response.headers.get("Vary", ""), "the answer depends on the session cookie"
    assert "Set-Cookie" not in response.headers, "reading the session changes nothing"
    # requests reads no body after HEAD: one sent anyway would be taken for the next answer on the connection
    _, _, body = raw_answer(served, "HEAD", "/state", str(browser.cookies[served.cookie])).partition(b"\r\n\r\n")
    assert body == b"", "the HEAD answer must end with its headers"
    assert state(browser, served) == {"user": "alice"}


def raw_answer(served: Served, method: str, path: str, cookie: str) -> bytes:
    """The bytes the server sends for one request on a connection of its own, up to the server's close."""
    url = urlsplit(served.url)
    request = (f"{method} {path} HTTP/1.1\r\nHost: {url.netloc}\r\nCookie: {served.cookie}={cookie}\r\n"
               "Connection: close\r\n\r\n")
    received = []
    with socket.create_connection((url.hostname, url.port), timeout=10) as connection:
        connection.sendall(request.encode())
        while chunk := connection.recv(65536):
            received.append(chunk)
    return b"".join(received)


def test_an_app_exception_answers_500_and_saves_nothing(served: Served) -> None:
    browser = logged_in(served)
    cookie = browser.cookies[served.cookie]
    if served.server == "uwsgi" and served.framework in EXCEPTION_ESCAPES:
        # uWSGI has no 500 page of its own: it logs the exception and closes the connection unanswered
        with pytest.raises(requests.ConnectionError):
            browser.get(f"{served.url}/boom", timeout=10)
    else:
        response = browser.get(f"{served.url}/boom", timeout=10)
        assert response.status_code == 500, log_tail(served)
        assert "Set-Cookie" not in response.headers
    assert browser.cookies[served.cookie] == cookie
    assert state(browser, served) == {"user": "alice"}, "the failed request's change must not be saved"


def test_logout_deletes_the_cookie_and_the_session(served: Served) -> None:
    browser = logged_in(served)
    cookie = browser.cookies[served.cookie]
    response = browser.post(f"{served.url}/logout", timeout=10)
    assert response.status_code == 200, log_tail(served)
    assert "Max-Age=0" in response.headers["Set-Cookie"]
    assert served.cookie not in browser.cookies
    assert state(browser, served) == {}
    replay = requests.Session()
    replay.cookies.set(served.cookie, cookie)
    assert state(replay, served) == {}, "logout must delete the session from the store"


def test_lint_middleware_found_nothing(served: Served) -> None:
    """Runs last in each cell: werkzeug's LintMiddleware warned about nothing the cell's requests did."""
    lines = served.log.read_text(errors="replace").splitlines()
    found = [line for line in lines if "WSGIWarning" in line or "HTTPWarning" in line]
    assert found == [], log_tail(served)
