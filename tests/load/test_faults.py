"""The store fails under load, then comes back (issue 7, "Faults").

About 20 clients (one cookie jar each, sequential requests) call ``/hit`` of
:mod:`tests.load.load_app` under gunicorn while the test stops the store for ~2 s and
starts it again (Redis, PostgreSQL), or fills its disk and frees it (file engine, on a
small tmpfs). With the default ``SESSION_STORE_FAILURE = "raise"``:

- every request served while the store is out is a ``503`` with ``Retry-After`` (no 500,
  no reset); requests that queued in gunicorn's backlog during the outage and were served
  after it may succeed, as they should;
- the gunicorn log names the failure in at most one line per worker per burst, not one
  per request, and holds no traceback;
- the service recovers by itself: every client succeeds again, no worker is restarted;
- afterwards no client's count went backwards, lost an increment or showed another
  client's data, and each client's session holds exactly its successful increments, with
  one exception no session library can avoid: a save *in flight when the store went down*
  may have been applied by the store just before it stopped, its reply lost with the
  connection, so the request answered 503 although its write landed. Such a save may add
  one to the count (never more than the client's failed requests in flight at that moment).
"""

from __future__ import annotations

import errno
import json
import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests

from tests.load.clients import Client, Load, LoadResult
from tests.load.load_run import Server, engine_settings, serve
from tests.load.private_postgres import PrivatePostgres
from tests.private_redis import PrivateRedis
from wsgisession.stores.file._io import TEMP_PREFIX

pytestmark = pytest.mark.live

CLIENTS = 20
#: Seconds the store stays out.
OUTAGE = 2.0
#: Seconds every client has to succeed again once the store is back.
RECOVERY_TIMEOUT = 20.0
#: Gunicorn's workers (tests/live/conftest.py gunicorn_command): each logs at most one line per burst.
WORKERS = 3
#: What the store failure line says (wsgisession.errors.StoreError).
FAILURE_MARK = "failed to"


@dataclass(frozen=True)
class Outage:
    """A load run with the store out for a while: the result, and when the store was out."""

    result: LoadResult
    #: ``time.monotonic()`` when the break began, when it was done, and when the repair began.
    breaking: float
    down: float
    repairing: float
    #: Seconds from the end of the repair until every client had succeeded again.
    recovered_in: float

    def served_while_out(self) -> list[int]:
        """The statuses of the requests sent and answered while the store was out."""
        return [sample.status for sample in self.result.samples
                if sample.sent > self.down and sample.sent + sample.latency < self.repairing]

    def in_doubt(self, client: Client) -> int:
        """The client's failed requests in flight while the store went down: their save may have landed."""
        return sum(1 for sample in client.samples
                   if sample.status != 200 and sample.sent < self.down and sample.sent + sample.latency > self.breaking)

    def consistency_problems(self) -> list[str]:
        """Clients whose counts went backwards, lost or gained what no in-doubt save explains, or were foreign."""
        problems = []
        for client in self.result.clients:
            doubt = self.in_doubt(client)
            steps_back = [step for step in client.bad_steps if not isinstance(step[1], int) or step[1] <= step[0]]
            skipped = sum(step[1] - step[0] - 1 for step in client.bad_steps if step not in steps_back)
            if (client.final is None or client.lost or client.foreign or client.final_is_foreign() or steps_back
                    or client.extra > doubt or skipped > doubt):
                problems.append(f"client {client.ident}: {client.successes} successes, stored {client.final},"
                                f" {client.foreign} foreign answers, {doubt} failed saves in doubt,"
                                f" steps (previous, received) {client.bad_steps[:5]}")
        return problems


def run_outage(server: Server, break_store: Callable[[], None], repair_store: Callable[[], None]) -> Outage:
    """Load ``server``; once every client has its session, break the store for :data:`OUTAGE` s, repair it."""
    load = Load(server.url, CLIENTS).start()
    try:
        load.wait_until(lambda client: client.successes >= 3, 20, "had 3 successful requests")
        breaking = time.monotonic()
        break_store()
        down = time.monotonic()
        time.sleep(OUTAGE)
        repairing = time.monotonic()
        repair_store()
        marks = {client.ident: client.successes for client in load.clients}
        recovered_in = load.wait_until(lambda client: client.successes > marks[client.ident], RECOVERY_TIMEOUT,
                                       "succeeded again after the store came back")
        time.sleep(1)  # some load after the recovery too
    finally:
        result = load.finish()
    return Outage(result, breaking, down, repairing, recovered_in)


def failure_lines(server: Server) -> list[str]:
    return [line for line in server.log_text().splitlines() if FAILURE_MARK in line]


def assert_failed_clearly_and_recovered(outage: Outage, server: Server) -> None:
    """The checks of the module docstring; call it while the server still runs."""
    result = outage.result
    lines = failure_lines(server)
    extra = {client.ident: client.extra for client in result.clients if client.extra}
    print(f"\n{result.statuses}, recovered in {outage.recovered_in:.2f} s, saves in doubt that landed: {extra},"
          f" {len(lines)} failure lines:\n" + "\n".join(lines))
    while_out = outage.served_while_out()
    assert while_out, "no request was answered while the store was out"
    assert set(while_out) == {503}, f"answers while the store was out: {sorted(set(while_out))}"
    assert set(result.statuses) <= {200, 503}, f"answers other than 200 and 503: {result.statuses}"
    for client in result.clients:
        if client.first_5xx is not None:
            status, headers, body = client.first_5xx
            assert (status, headers.get("Retry-After")) == (503, "5")
            assert "session store cannot be reached" in body
    assert 1 <= len(lines) <= WORKERS, f"{len(lines)} store failure lines for {result.statuses[503]} 503s"
    assert "Traceback" not in server.log_text()
    assert server.process.poll() is None
    assert server.worker_boots() == WORKERS, "a worker was restarted"
    assert outage.consistency_problems() == []


@pytest.mark.parametrize("worker_class", ["sync", "gthread", "gevent"])
def test_redis_stopped_and_started_under_load(tmp_path: Path, private_redis: PrivateRedis, worker_class: str) -> None:
    with engine_settings("redis", tmp_path, redis_url=private_redis.url) as settings, \
            serve(settings, worker_class, tmp_path) as server:
        outage = run_outage(server, private_redis.stop, private_redis.start)
        assert_failed_clearly_and_recovered(outage, server)
        assert "session store 'redis' failed to" in failure_lines(server)[0]


@pytest.mark.parametrize("worker_class", ["sync", "gthread"])
def test_postgres_stopped_and_started_under_load(tmp_path: Path, private_postgres: PrivatePostgres,
                                                 worker_class: str) -> None:
    with engine_settings("db-postgres", tmp_path, postgres_url=private_postgres.url) as settings, \
            serve(settings, worker_class, tmp_path) as server:
        outage = run_outage(server, private_postgres.stop, private_postgres.start)
        assert_failed_clearly_and_recovered(outage, server)
        assert "session store 'db' failed to" in failure_lines(server)[0]


def test_redis_slow_for_a_moment_under_gevent_makes_requests_wait_not_fail(tmp_path: Path,
                                                                            private_redis: PrivateRedis) -> None:
    # Redis answers nothing for 2 s (CLIENT PAUSE stands for a slow command or a fork): 200 requests,
    # so at least 67 in one of the 3 workers, wait on it. The pause is shorter than the socket
    # timeout (3 s): every request should be answered 200 once it ends.
    requests_in_flight = 200
    with engine_settings("redis", tmp_path, redis_url=private_redis.url) as settings, \
            serve(settings, "gevent", tmp_path) as server:
        redis.Redis(port=private_redis.port).client_pause(2000, all=True)
        with ThreadPoolExecutor(max_workers=requests_in_flight) as pool:
            statuses = Counter(pool.map(lambda n: requests.get(f"{server.url}/hit", params={"client": n},
                                                               timeout=30).status_code,
                                        range(requests_in_flight)))
        print(statuses, failure_lines(server))
    assert statuses == {200: requests_in_flight}


def fill(folder: Path) -> None:
    """Write a file ``filler`` into ``folder`` until its file system is full (ENOSPC)."""
    chunk = b"\0" * 65536
    with (folder / "filler").open("wb", buffering=0) as file:
        for _ in range(100_000):  # bounded: far more than the small tmpfs holds
            try:
                file.write(chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                return
    raise AssertionError(f"{folder} never filled up")


def fill_when_no_save_holds_space(server: Server, folder: Path) -> None:
    """Fill ``folder``'s file system at a moment no save in flight holds space there.

    A save writes a temporary file, swaps it in and deletes the old one. A save that took
    its space before the disk filled up would free the old file's space after, and each
    save from then on frees what it takes: the full disk would accept saves. So the workers
    are paused (SIGSTOP) until one such moment, the disk is filled, and they go on.
    """
    workers = worker_pids(server)
    for _ in range(1000):
        pause(workers, signal.SIGSTOP)
        try:
            if not space_to_be_freed(folder, workers):
                fill(folder)
                return
        finally:
            pause(workers, signal.SIGCONT)
        time.sleep(0.001)
    raise AssertionError("the workers never paused with no save in flight")


def worker_pids(server: Server) -> list[int]:
    """The pids of the gunicorn master's children: its workers (it starts them a moment apart)."""
    deadline = time.monotonic() + 10
    while True:
        workers = [int(stat_file.parent.name) for stat_file in Path("/proc").glob("[0-9]*/stat")
                   if parent_pid(stat_file) == server.process.pid]
        if len(workers) == WORKERS or time.monotonic() > deadline:
            assert len(workers) == WORKERS, f"gunicorn workers found: {workers}"
            return workers
        time.sleep(0.05)


def parent_pid(stat_file: Path) -> int | None:
    try:
        return int(process_status(stat_file)[1])
    except (FileNotFoundError, ProcessLookupError):  # the process has ended
        return None


def process_status(stat_file: Path) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command's name: state, ppid, ..."""
    return stat_file.read_text().rsplit(")", 1)[1].split()


def pause(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        os.kill(pid, sig)
    if sig == signal.SIGSTOP:  # kill returns before the process has stopped
        for pid in pids:
            while process_status(Path(f"/proc/{pid}/stat"))[0] != "T":
                time.sleep(0.0001)


def space_to_be_freed(folder: Path, workers: list[int]) -> list[str]:
    """Space in ``folder`` that saves in flight will free: temporary files, deleted files held open."""
    held = [name for name in os.listdir(folder)
            if name.startswith(TEMP_PREFIX) and (folder / name).stat().st_blocks]
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except FileNotFoundError:
                continue
            if target.startswith(f"{folder}/") and target.endswith(" (deleted)"):
                held.append(target)
    return held


def test_file_store_on_a_full_disk_under_load(tmp_path: Path, small_tmpfs: Path) -> None:
    with engine_settings("file", tmp_path, file_path=small_tmpfs) as settings, \
            serve(settings, "sync", tmp_path) as server:
        outage = run_outage(server, lambda: fill_when_no_save_holds_space(server, small_tmpfs),
                            (small_tmpfs / "filler").unlink)
        assert_failed_clearly_and_recovered(outage, server)
        assert "session store 'file' failed to save: No space left on device" in failure_lines(server)[0]
    # Nothing corrupted: no temporary file left behind, every session file whole.
    names = os.listdir(small_tmpfs)
    assert [name for name in names if name.startswith(TEMP_PREFIX)] == []
    sessions = [small_tmpfs / name for name in names if name.startswith("wsgisession-")]
    assert len(sessions) == CLIENTS
    for path in sessions:
        assert set(json.loads(path.read_bytes())) == {"m", "e", "v", "d"}
