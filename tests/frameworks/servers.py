"""Start a framework app under a real server on a free loopback port; stop it by its own pid.

Servers: gunicorn (sync, gthread and gevent workers), waitress, and uWSGI (the ``uwsgi`` binary pip
builds from source into the venv with the ``test`` extra; pip keeps the built wheel in its cache).
Sessions go to Redis under a prefix of the server's own, deleted when it stops.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import servers
from tests.frameworks.apps.common import PAYLOAD_VARIABLE
from tests.live.conftest import REPO_ROOT, free_port, gunicorn_command, server_environ, stop, wait_until_answering

SERVERS = ["gunicorn-sync", "gunicorn-gthread", "gunicorn-gevent", "waitress", "uwsgi"]
#: framework -> its app in tests/frameworks/apps ("module:name").
APPS = {
    "flask-extension": "with_flask:extension",
    "flask-middleware": "with_flask:middleware",
    "django": "with_django:app",
    "pyramid": "with_pyramid:app",
    "bottle": "with_bottle:app",
    "falcon": "with_falcon:app",
    "bare": "bare:app",
}
FRAMEWORKS = list(APPS)
#: The session cookie's name: Flask's own with the extension, the library's default otherwise.
COOKIES = {"flask-extension": "session"}
#: Servers import Pyramid and the rest in every worker: slower than the examples on a busy machine.
START_TIMEOUT = 40.0


@dataclass(frozen=True)
class Served:
    """A framework app answering at ``url``; ``log`` holds the server's output (LintMiddleware's warnings too)."""

    framework: str
    server: str
    url: str
    log: Path
    payload: bytes
    cookie: str


def command(server: str, app: str, port: int, workdir: Path) -> list[str]:
    """The command line that serves ``app`` ("module:name") on ``port``."""
    if server.startswith("gunicorn-"):
        return gunicorn_command(app, port, workdir, server.removeprefix("gunicorn-"))
    if server == "waitress":
        return [sys.executable, "-m", "waitress", "--listen", f"127.0.0.1:{port}", "--threads", "4", app]
    # --http-socket closes each connection: say so (browsers and requests would reuse it and meet a reset)
    return [uwsgi_binary(), "--http-socket", f"127.0.0.1:{port}", "--add-header", "Connection: close",
            "--module", app, "--master", "--processes", "2", "--threads", "2", "--lazy-apps", "--need-app",
            "--die-on-term", "--virtualenv", sys.prefix, "--pythonpath", str(REPO_ROOT), "--disable-logging"]


def uwsgi_binary() -> str:
    """The ``uwsgi`` that ``pip install -e '.[test]'`` built next to this interpreter."""
    binary = Path(sys.executable).parent / "uwsgi"
    if not binary.exists():
        pytest.fail(f"uWSGI is not installed at {binary}: pip install -e '.[test]' builds it from PyPI "
                    "(it needs a C compiler and the Python headers)", pytrace=False)
    return str(binary)


@contextmanager
def serve(framework: str, server: str, workdir: Path) -> Iterator[Served]:
    """The app of ``framework`` under ``server``, on the redis engine; stopped and cleaned up on exit."""
    servers.require_redis()
    prefix = f"wsgisession-frameworks-{uuid.uuid4().hex[:12]}"
    payload = os.urandom(300_000)  # several file_wrapper blocks
    (workdir / "payload.bin").write_bytes(payload)
    env = {**server_environ("redis", workdir, prefix), PAYLOAD_VARIABLE: str(workdir / "payload.bin")}
    port, log = free_port(), workdir / "server.log"
    app = f"tests.frameworks.apps.{APPS[framework]}"
    with log.open("ab") as log_file:
        process = subprocess.Popen(command(server, app, port, workdir), cwd=workdir, env=env, stdout=log_file,
                                   stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_answering(process, url, log, name=server, timeout=START_TIMEOUT)
        yield Served(framework, server, url, log, payload, COOKIES.get(framework, "sessionid"))
    finally:
        stop(process)
        servers.drop_redis_keys(prefix)
