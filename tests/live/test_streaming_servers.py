"""Sessions used while the body streams, and file downloads, under real servers (gunicorn, wsgiref)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, make_server

import pytest
import requests

from tests.live.conftest import REPO_ROOT, free_port, stop, wait_until_answering
from tests.live.stream_app import make_app

if TYPE_CHECKING:
    from tests.live.conftest import StartServer

pytestmark = pytest.mark.live

#: How long a worker may take to close a response the client already has in full.
CLOSE_TIMEOUT = 5.0


def session_once_closed(client: requests.Session, url: str, expected: dict[str, object]) -> dict[str, object]:
    """The session as ``url`` shows it: ``expected`` as soon as it shows that, else the last answer.

    A server closes the body after the client has all of it (gunicorn's sync worker even
    closes the connection first), so the next request can arrive, on another worker,
    before the save at close is done: ask again, for a bounded time, until it shows.
    """
    deadline = time.monotonic() + CLOSE_TIMEOUT
    while (latest := client.get(url, timeout=5).json()) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return dict(latest)


@pytest.mark.parametrize("worker_class", ["sync", "gthread", "gevent"])
def test_a_write_made_while_the_body_streams_is_saved_under_gunicorn(start_server: StartServer, live_engine: str,
                                                                     worker_class: str) -> None:
    server = start_server("tests.live.stream_app:make_app()", live_engine, worker_class)
    client = requests.Session()
    client.get(f"{server.url}/inc", timeout=5).raise_for_status()  # the browser now holds a cookie
    for value in ("one", "two", "three"):
        client.get(f"{server.url}/stream-write", params={"v": value}, timeout=5).raise_for_status()
        expected = {"count": 1, "streamed": value}
        assert session_once_closed(client, f"{server.url}/get", expected) == expected


def test_a_download_is_whole_and_saves_the_session_under_gunicorn(start_server: StartServer, live_engine: str,
                                                                 tmp_path: Path) -> None:
    server = start_server("tests.live.stream_app:make_app()", live_engine)
    content = os.urandom(3 * 1024 * 1024 + 17)
    (tmp_path / "download.bin").write_bytes(content)
    client = requests.Session()
    for _ in range(2):
        response = client.get(f"{server.url}/download", params={"path": str(tmp_path / "download.bin")}, timeout=10)
        assert response.content == content
    assert client.get(f"{server.url}/get", timeout=5).json() == {"downloads": 2, "last": "download"}


class _SendfileHandler(ServerHandler):
    """wsgiref's handler, with the zero-copy path a production server has: ``os.sendfile``."""

    #: How many responses went out through sendfile.
    sendfile_uses: ClassVar[int] = 0

    def _source(self) -> Any:
        return self.result.filelike  # type: ignore[union-attr]  # a wsgiref FileWrapper (result_is_file)

    def sendfile(self) -> bool:
        _SendfileHandler.sendfile_uses += 1  # first: the client can have the whole file before this returns
        source = self._source()
        if not self.headers_sent:
            self.send_headers()
        self._flush()  # type: ignore[attr-defined]  # wsgiref's own: the headers go out before the file
        offset = 0
        while sent := os.sendfile(self.stdout.fileno(), source.fileno(), offset, 1 << 20):  # type: ignore[union-attr]
            offset += sent
        return True


class _UwsgiStyleHandler(_SendfileHandler):
    """As uWSGI does: ``wsgi.file_wrapper`` returns the file itself, sent by sendfile if the app returns it."""

    def setup_environ(self) -> None:
        super().setup_environ()
        self.environ["wsgi.file_wrapper"] = self._remember
        self._wrapped: object = None

    def _remember(self, file: Any, block_size: int = 8192) -> Any:
        self._wrapped = file
        return file

    def result_is_file(self) -> bool:
        return self.result is not None and self.result is self._wrapped

    def _source(self) -> Any:
        return self.result


def _request_handler(handler_class: type[ServerHandler]) -> type[WSGIRequestHandler]:
    class RequestHandler(WSGIRequestHandler):
        def handle(self) -> None:
            """WSGIRequestHandler.handle, with ``handler_class``."""
            self.raw_requestline = self.rfile.readline(65537)
            if not self.parse_request():
                return
            handler = handler_class(self.rfile, self.wfile, self.get_stderr(), self.get_environ(), multithread=False)
            handler.request_handler = self  # type: ignore[attr-defined]  # wsgiref's back pointer, for its log
            handler.run(self.server.get_app())  # type: ignore[attr-defined]

        def log_message(self, format: str, *args: object) -> None:
            """No access log on the test output."""

    return RequestHandler


@pytest.fixture(params=[_SendfileHandler, _UwsgiStyleHandler], ids=["wrapper-class", "uwsgi-style"])
def sendfile_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The stream app on the file engine, under wsgiref with a sendfile path; its URL."""
    settings = {"SECRET_KEY": "wsgiref-test-secret-key-0123456789", "SESSION_ENGINE": "file",
                "SESSION_FILE_PATH": str(tmp_path)}
    server = make_server("127.0.0.1", 0, make_app(settings), handler_class=_request_handler(request.param))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_a_download_that_used_the_session_goes_out_by_the_servers_sendfile(sendfile_server: str,
                                                                           tmp_path: Path) -> None:
    content = os.urandom(1024 * 1024 + 5)
    (tmp_path / "download.bin").write_bytes(content)
    _SendfileHandler.sendfile_uses = 0
    client = requests.Session()
    for _ in range(2):
        response = client.get(f"{sendfile_server}/download", params={"path": str(tmp_path / "download.bin")},
                              timeout=10)
        assert response.content == content
    assert _SendfileHandler.sendfile_uses == 2  # the middleware gave the server its own object back
    assert client.get(f"{sendfile_server}/get", timeout=5).json() == {"downloads": 2, "last": "download"}


@pytest.fixture
def waitress_url(tmp_path: Path) -> Iterator[str]:
    """The stream app on the file engine under waitress (in this process, on a free port); its URL."""
    import waitress

    settings = {"SECRET_KEY": "waitress-test-secret-key-0123456789", "SESSION_ENGINE": "file",
                "SESSION_FILE_PATH": str(tmp_path / "sessions")}
    (tmp_path / "sessions").mkdir()
    server = waitress.create_server(make_app(settings), host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"  # type: ignore[union-attr]
    server.close()
    thread.join(timeout=10)


def test_a_write_made_while_the_body_streams_is_saved_under_waitress(waitress_url: str) -> None:
    client = requests.Session()
    client.get(f"{waitress_url}/inc", timeout=5).raise_for_status()
    for value in ("one", "two"):
        client.get(f"{waitress_url}/stream-write", params={"v": value}, timeout=5).raise_for_status()
        expected = {"count": 1, "streamed": value}
        assert session_once_closed(client, f"{waitress_url}/get", expected) == expected


def test_a_download_is_whole_and_saves_the_session_under_waitress(waitress_url: str, tmp_path: Path) -> None:
    content = os.urandom(2 * 1024 * 1024 + 3)
    (tmp_path / "download.bin").write_bytes(content)
    client = requests.Session()
    for _ in range(2):
        response = client.get(f"{waitress_url}/download", params={"path": str(tmp_path / "download.bin")}, timeout=10)
        assert response.content == content
    assert client.get(f"{waitress_url}/get", timeout=5).json() == {"downloads": 2, "last": "download"}


class _NoReuse(requests.Session):
    """A browser that opens a new connection per request: uWSGI's --http-socket keeps none alive."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        try:
            return super().request(*args, **kwargs)
        finally:
            self.close()  # the pooled connection goes; the cookies stay


@pytest.fixture
def uwsgi_url(tmp_path: Path) -> Iterator[str]:
    """The stream app on the file engine under uWSGI (1 process, a free port); its URL. Stopped by its pid."""
    binary = Path(sys.executable).with_name("uwsgi")
    if not binary.exists():
        pytest.fail(f"no uWSGI at {binary}: install the test extra (pip install -e '.[test]')", pytrace=False)
    (tmp_path / "sessions").mkdir()
    settings = {"SECRET_KEY": "uwsgi-test-secret-key-0123456789", "SESSION_ENGINE": "file",
                "SESSION_FILE_PATH": str(tmp_path / "sessions")}
    (tmp_path / "uwsgi_app.py").write_text(f"from tests.live.stream_app import make_app\n"
                                          f"application = make_app({settings!r})\n")
    port = free_port()
    log = tmp_path / "uwsgi.log"
    with log.open("ab") as log_file:
        process = subprocess.Popen([str(binary), "--http-socket", f"127.0.0.1:{port}", "--wsgi-file",
                                    str(tmp_path / "uwsgi_app.py"), "--pythonpath", str(REPO_ROOT),
                                    "--virtualenv", sys.prefix, "--processes", "1", "--need-app", "--die-on-term"],
                                   cwd=tmp_path, stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(process, f"{url}/get", log)
        yield url
    finally:
        stop(process)


def test_a_write_made_while_the_body_streams_is_saved_under_uwsgi(uwsgi_url: str) -> None:
    client = _NoReuse()
    client.get(f"{uwsgi_url}/inc", timeout=5).raise_for_status()
    for value in ("one", "two"):
        client.get(f"{uwsgi_url}/stream-write", params={"v": value}, timeout=5).raise_for_status()
        expected = {"count": 1, "streamed": value}
        assert session_once_closed(client, f"{uwsgi_url}/get", expected) == expected


def test_a_download_is_whole_and_saves_the_session_under_uwsgi(uwsgi_url: str, tmp_path: Path) -> None:
    content = os.urandom(2 * 1024 * 1024 + 3)
    (tmp_path / "download.bin").write_bytes(content)
    client = _NoReuse()
    for _ in range(2):
        response = client.get(f"{uwsgi_url}/download", params={"path": str(tmp_path / "download.bin")}, timeout=10)
        assert response.content == content
    assert client.get(f"{uwsgi_url}/get", timeout=5).json() == {"downloads": 2, "last": "download"}
