"""Concurrent requests of one session under a real gunicorn (issue: no lost updates).

Requests carry the session cookie by hand (no shared cookie jar between threads).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.live.conftest import REPO_ROOT, free_port, gunicorn_command, stop, wait_until_answering
from wsgisession.stores.local_cache import LOCAL_COPY_TTL

pytestmark = pytest.mark.live

#: Server-side engine configurations (tests/conftest.py) the races run on.
RACE_ENGINES = ["redis", "db", "db-postgres", "cached_db", "file"]
ROUNDS = 20
#: Requests that may be needed before every one of gunicorn's 3 workers served one of them.
MAX_REQUESTS_TO_REACH_EVERY_WORKER = 300

StartRace = Callable[..., str]


@pytest.fixture
def start_race_server(tmp_path: Path, engine_settings_factory: Callable[[str], dict[str, Any]]) -> Iterator[StartRace]:
    """``start(engine_id, worker_class, **settings) -> base URL`` of tests/live/race_app.py under gunicorn."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(engine_id: str, worker_class: str, **extra: Any) -> str:
        settings = {**engine_settings_factory(engine_id), **extra}
        port = free_port()
        log = tmp_path / f"gunicorn-{port}.log"
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), "WSGISESSION_TEST_SETTINGS": json.dumps(settings)}
        with log.open("ab") as log_file:
            process = subprocess.Popen(gunicorn_command("tests.live.race_app:app", port, tmp_path, worker_class),
                                       cwd=tmp_path, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_until_answering(process, url, log)
        return url

    yield start
    for process in processes:
        stop(process)


def new_session(url: str) -> str:
    response = requests.get(f"{url}/set?k=init", timeout=10)
    response.raise_for_status()
    return str(response.cookies["sessionid"])


def in_parallel(url: str, key: str, paths: list[str]) -> list[int]:
    def call(path: str) -> int:
        return requests.get(url + path, cookies={"sessionid": key}, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        return list(pool.map(call, paths))


def session_data(url: str, key: str) -> dict[str, Any]:
    return dict(requests.get(f"{url}/get", cookies={"sessionid": key}, timeout=10).json())


@pytest.mark.parametrize("worker_class", ["sync", "gthread"])
@pytest.mark.parametrize("engine_id", RACE_ENGINES)
def test_parallel_writes_of_different_keys_all_land(start_race_server: StartRace, engine_id: str,
                                                    worker_class: str) -> None:
    url = start_race_server(engine_id, worker_class)
    for _ in range(ROUNDS):
        key = new_session(url)
        statuses = in_parallel(url, key, [f"/set?k=t{n}" for n in range(20)])
        assert statuses == [200] * 20
        assert set(session_data(url, key)) == {"init"} | {f"t{n}" for n in range(20)}


@pytest.mark.parametrize("worker_class", ["sync", "gthread"])
@pytest.mark.parametrize("engine_id", RACE_ENGINES)
def test_with_locking_parallel_increments_are_exact(start_race_server: StartRace, engine_id: str,
                                                    worker_class: str) -> None:
    url = start_race_server(engine_id, worker_class, SESSION_LOCKING=True, SESSION_LOCK_TIMEOUT=20)
    for _ in range(ROUNDS):
        key = new_session(url)
        assert in_parallel(url, key, ["/inc"] * 16) == [200] * 16
        assert session_data(url, key)["count"] == 16


@pytest.mark.parametrize("engine_id", RACE_ENGINES)
def test_a_logout_racing_a_slow_write_stays_a_logout(start_race_server: StartRace, engine_id: str,
                                                     tmp_path: Path) -> None:
    url = start_race_server(engine_id, "gthread")
    key = new_session(url)
    loaded, go = tmp_path / "loaded", tmp_path / "go"
    with ThreadPoolExecutor(max_workers=2) as pool:
        slow = pool.submit(requests.get, f"{url}/slow-set?k=late&loaded={loaded}&go={go}",
                           cookies={"sessionid": key}, timeout=60)
        deadline = time.monotonic() + 20
        while not loaded.exists():  # the slow request has loaded the session; it waits for "go" to save
            assert time.monotonic() < deadline, "the slow request never loaded the session"
            time.sleep(0.01)
        requests.get(f"{url}/flush", cookies={"sessionid": key}, timeout=30).raise_for_status()
        go.touch()
        slow_response = slow.result()
    assert slow_response.status_code == 200
    assert "sessionid" not in slow_response.cookies  # no cookie for the dead key
    assert session_data(url, key) == {}


def pids_serving(log: Path, path: str, after_line: int = 0) -> set[str]:
    """The workers that answered requests for ``path`` in the access log, from line ``after_line`` on."""
    lines = log.read_text().splitlines()[after_line:]
    return {line.split(" ", 1)[0] for line in lines if f" {path}" in line}


def test_cached_db_with_a_memory_cache_honours_a_logout_on_every_worker(start_race_server: StartRace,
                                                                       tmp_path: Path) -> None:
    """Each worker caches the session in its own memory; a logout on one reaches all within the bound."""
    url = start_race_server("cached_db", "sync", SESSION_CACHE_URL="memory://")
    log = tmp_path / "access.log"
    key = new_session(url)
    for _ in range(MAX_REQUESTS_TO_REACH_EVERY_WORKER):  # until each worker holds a copy
        assert session_data(url, key) == {"init": True}
        if len(pids_serving(log, "/get")) == 3:
            break
    assert len(pids_serving(log, "/get")) == 3, "some worker never served the session: the test proves nothing"
    requests.get(f"{url}/flush", cookies={"sessionid": key}, timeout=10).raise_for_status()
    time.sleep(LOCAL_COPY_TTL)  # the documented bound
    logged_out_from = len(log.read_text().splitlines())
    for _ in range(MAX_REQUESTS_TO_REACH_EVERY_WORKER):
        assert session_data(url, key) == {}, "a worker served a session logged out on another"
        if len(pids_serving(log, "/get", logged_out_from)) == 3:
            break
    assert len(pids_serving(log, "/get", logged_out_from)) == 3
