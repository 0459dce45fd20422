"""examples/metrics_app.py under a real gunicorn: the session metrics scraped from /metrics."""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests import servers
from tests.live.conftest import free_port, gunicorn_command, server_environ, stop, wait_until_answering

pytestmark = pytest.mark.live


@pytest.fixture
def metrics_server(tmp_path: Path) -> Iterator[str]:
    """The example on Redis, in one gunicorn worker with threads: Prometheus scrapes one process."""
    servers.require_redis()
    prefix = f"wsgisession-live-{uuid.uuid4().hex[:12]}"
    port = free_port()
    command = gunicorn_command("examples.metrics_app:app", port, tmp_path, "gthread")
    command[command.index("--workers") + 1] = "1"
    log = tmp_path / "gunicorn.log"
    with log.open("ab") as log_file:
        process = subprocess.Popen(command, cwd=tmp_path, env=server_environ("redis", tmp_path, prefix),
                                   stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(process, url + "/metrics", log)
        yield url
    finally:
        stop(process)
        servers.drop_redis_keys(prefix)


def sample(text: str, name: str, **labels: str) -> float:
    """The value of the Prometheus sample ``name`` whose labels include ``labels`` (0 if none)."""
    for line in text.splitlines():
        found = re.match(rf"{name}\{{(.*)\}} (\S+)$", line)
        if found and all(f'{key}="{value}"' in found.group(1) for key, value in labels.items()):
            return float(found.group(2))
    return 0.0


def test_the_session_metrics_are_scraped(metrics_server: str) -> None:
    browser = requests.Session()
    for _ in range(3):
        browser.get(metrics_server + "/session", timeout=5).raise_for_status()
    browser.get(metrics_server + "/session/reset", timeout=5).raise_for_status()
    scraped = requests.get(metrics_server + "/metrics", timeout=5)
    assert scraped.status_code == 200
    text = scraped.text
    assert sample(text, "wsgisession_sessions_created_total", engine="redis") == 1
    assert sample(text, "wsgisession_session_saves_total", engine="redis", outcome="saved") == 3
    assert sample(text, "wsgisession_session_loads_total", engine="redis", outcome="loaded") == 3
    assert sample(text, "wsgisession_sessions_ended_total", engine="redis", reason="logout") == 1
    assert sample(text, "wsgisession_store_duration_seconds_count", engine="redis", operation="load") == 3
    assert browser.cookies.get("sessionid") is None  # the reset deleted it
