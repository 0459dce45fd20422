"""A real gunicorn serving an example app: 3 sync workers on a free loopback port.

Each test gets its own server, working directory (``tmp_path``), SQLite files and
Redis key prefix; the server is stopped and the Redis keys deleted afterwards.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests import servers

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET = "live-test-secret-key-0123456789abcdef"
#: How long gunicorn may take to answer its first request.
START_TIMEOUT = 15.0
#: The engines the live tests run on: sessions shared by every worker through a server or a file.
LIVE_ENGINES = ["redis", "db"]


@dataclass(frozen=True)
class LiveServer:
    """A running gunicorn: where it answers and where it keeps its files."""

    url: str
    engine: str
    workdir: Path
    redis_prefix: str

    @property
    def users_db(self) -> Path:
        """The login example's users file (its default name, in the working directory)."""
        return self.workdir / "examples-users.sqlite3"

    @property
    def sessions_db(self) -> Path:
        return self.workdir / "sessions.sqlite3"

    def worker_pids(self) -> set[str]:
        """The pids of the workers that served a request so far (from the access log)."""
        lines = (self.workdir / "access.log").read_text().splitlines()
        return {line.split(" ", 1)[0] for line in lines if line}


#: ``start(app, engine, worker_class="sync")``: what the ``start_server`` fixture gives.
StartServer = Callable[..., LiveServer]


def free_port() -> int:
    """A loopback port free right now (gunicorn cannot bind port 0 and report it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_environ(engine: str, workdir: Path, prefix: str) -> dict[str, str]:
    """The environment for gunicorn: ours, without WSGISESSION_* variables, plus the example settings."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("WSGISESSION_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update(WSGISESSION_ENGINE=engine, WSGISESSION_SECRET_KEY=SECRET)
    if engine == "redis":
        env.update(WSGISESSION_REDIS_URL=servers.REDIS_URL, WSGISESSION_REDIS_PREFIX=prefix)
    if engine == "db":
        env["WSGISESSION_DB_URL"] = f"sqlite:///{workdir / 'sessions.sqlite3'}"
    return env


def gunicorn_command(app: str, port: int, workdir: Path, worker_class: str) -> list[str]:
    command = [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", "--workers", "3",
               "--worker-class", worker_class, "--graceful-timeout", "5",
               "--access-logfile", str(workdir / "access.log"), "--access-logformat", "%(p)s %(r)s %(s)s"]
    if worker_class == "gthread":  # with sync, gunicorn turns any --threads above 1 into gthread
        command += ["--threads", "4"]
    from gunicorn.config import Config

    if "control_socket_disable" in Config().settings:  # gunicorn >= 25: one shared socket path otherwise
        command.append("--no-control-socket")
    return command


def wait_until_answering(process: subprocess.Popen[bytes], url: str, log: Path, name: str = "gunicorn",
                         timeout: float = START_TIMEOUT) -> None:
    """Return once the server (gunicorn by default) answers HTTP; fail with its log if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited with status {process.returncode}:\n{log.read_text()}", pytrace=False)
        try:
            requests.get(url, timeout=1)
            return
        except (requests.ConnectionError, requests.Timeout):  # not bound yet, or no worker booted yet
            time.sleep(0.1)
    stop(process)
    pytest.fail(f"{name} did not answer at {url} within {timeout} s:\n{log.read_text()}", pytrace=False)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (graceful shutdown), then SIGKILL if it is still running after 10 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(params=LIVE_ENGINES)
def live_engine(request: pytest.FixtureRequest) -> str:
    """Each engine the live tests run on."""
    return str(request.param)


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """Returns ``start(app, engine) -> LiveServer``, e.g. ``start("examples.counter:app", "redis")``."""
    processes: list[subprocess.Popen[bytes]] = []
    prefixes: list[str] = []

    def start(app: str, engine: str, worker_class: str = "sync") -> LiveServer:
        prefix = f"wsgisession-live-{uuid.uuid4().hex[:12]}"
        if engine == "redis":
            servers.require_redis()
            prefixes.append(prefix)
        port = free_port()
        log = tmp_path / "gunicorn.log"
        with log.open("ab") as log_file:
            process = subprocess.Popen(gunicorn_command(app, port, tmp_path, worker_class), cwd=tmp_path,
                                       env=server_environ(engine, tmp_path, prefix),
                                       stdout=log_file, stderr=subprocess.STDOUT)
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_until_answering(process, url, log)
        return LiveServer(url, engine, tmp_path, prefix)

    yield start
    for process in processes:
        stop(process)
    for prefix in prefixes:
        servers.drop_redis_keys(prefix)
