"""Servers configured to refuse: a redis-server of the test's own that requires a password, and a closed port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

#: The password the test's redis-server requires.
PASSWORD = "correct-horse-battery-staple"


@dataclass
class PasswordRedis:
    """A redis-server on a free loopback port started with ``--requirepass``."""

    port: int

    def url(self, password: str | None) -> str:
        auth = f":{password}@" if password is not None else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"


def free_port() -> int:
    """A loopback port nothing listens on (the kernel's pick, closed again)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def password_redis(tmp_path: Path) -> Iterator[PasswordRedis]:
    """A running redis-server that requires :data:`PASSWORD`; stopped after the test."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)", pytrace=False)
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path),
                                "--save", "", "--appendonly", "no", "--requirepass", PASSWORD],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=port, password=PASSWORD, socket_connect_timeout=0.2).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the test's redis-server did not start on port {port}", pytrace=False)
                time.sleep(0.05)
        yield PasswordRedis(port)
    finally:
        process.terminate()
        process.wait(timeout=10)
