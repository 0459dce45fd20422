"""A memcached of the test session's own: started on a free loopback port, stopped at the end.

Never a memcached the machine may already run: the tests start theirs with
``-l 127.0.0.1`` on a port the kernel handed out, so nothing else shares its keys.
A memcached binary that is missing is installed with apt-get (the test machines
run as root); if that fails too, the tests fail with a message, never a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

import pytest

#: Seconds a fresh memcached gets to answer before the tests give up on it.
START_TIMEOUT = 10.0


class MemcachedServer:
    """One memcached process listening on ``127.0.0.1:port``."""

    def __init__(self, binary: str) -> None:
        self.port = _free_port()
        command = [binary, "-l", "127.0.0.1", "-p", str(self.port), "-U", "0", "-m", "64"]
        if os.geteuid() == 0:
            command += ["-u", "nobody"]  # memcached refuses to run as root without -u
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    @property
    def url(self) -> str:
        return f"memcached://127.0.0.1:{self.port}"

    def wait_until_ready(self) -> bool:
        """True once the server answers ``version``; False if it exited or stayed silent."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                    connection.sendall(b"version\r\n")
                    if connection.recv(64).startswith(b"VERSION "):
                        return True
            except OSError:
                time.sleep(0.05)
        return False

    def stop(self) -> str:
        """Stop the process (idempotent); return what it wrote to stderr."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            _, errors = self.process.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, errors = self.process.communicate()
        return (errors or b"").decode(errors="replace").strip()


_shared: MemcachedServer | None = None
_shared_lock = threading.Lock()


def require_memcached_binary() -> str:
    """The path of the memcached binary, installed with apt-get if missing; fail the test if it cannot be."""
    found = shutil.which("memcached")
    if found:
        return found
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    output = ""
    for commands in ([["apt-get", "install", "-y", "memcached"]],
                     [["apt-get", "update"], ["apt-get", "install", "-y", "memcached"]]):  # stale package lists
        for command in commands:
            try:
                done = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=600)
                output = (done.stdout + done.stderr)[-2000:]
            except (OSError, subprocess.TimeoutExpired) as exc:
                output = str(exc)
        found = shutil.which("memcached")
        if found:
            return found
    pytest.fail("memcached is not installed and `apt-get install -y memcached` failed; install memcached"
                f" (Debian: apt-get install memcached) and run the tests again. apt-get said:\n{output}", pytrace=False)


def start_memcached() -> MemcachedServer:
    """A running memcached of the test session's own (one per process, whoever asks first starts it)."""
    global _shared
    with _shared_lock:
        if _shared is not None and _shared.process.poll() is None:
            return _shared
        binary = require_memcached_binary()
        for _ in range(3):  # another process may take the free port before memcached binds it
            server = MemcachedServer(binary)
            if server.wait_until_ready():
                _shared = server
                return server
            message = server.stop()
        pytest.fail(f"memcached did not start on 127.0.0.1: {message or 'no answer'}", pytrace=False)


@pytest.fixture(scope="session")
def memcached_url() -> Iterator[str]:
    """``memcached://127.0.0.1:port`` of a memcached started for this test session and stopped after it."""
    server = start_memcached()
    yield server.url
    server.stop()


def memcached_items(url: str, prefix: str) -> dict[str, bytes]:
    """Every item under ``prefix`` on the memcached at ``url``, by key (memcached has no SCAN: lru_crawler lists)."""
    from wsgisession.stores.memcached import client_from_url

    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 11211), timeout=5) as connection:
        connection.sendall(b"lru_crawler metadump all\r\n")
        dump = b""
        while not dump.endswith(b"END\r\n"):
            chunk = connection.recv(65536)
            if not chunk:
                raise ConnectionError(f"memcached at {url} closed the connection during lru_crawler metadump")
            dump += chunk
    # One line per item: "key=<url-encoded key> exp=... la=... ...".
    keys = [unquote(line.split(b" ", 1)[0].removeprefix(b"key=").decode()) for line in dump.splitlines()
            if line.startswith(b"key=")]
    client = client_from_url(url)
    try:
        found: dict[str, bytes] = client.get_many([key for key in keys if key.startswith(prefix)])
        return found
    finally:
        client.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
