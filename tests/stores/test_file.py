"""The file engine on the real file system: path safety, file modes, corruption, processes, failures."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import resource
import signal
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from wsgisession.engines import build_backend
from wsgisession.errors import ConfigurationError, LockLostError, LockTimeoutError, StoreError
from wsgisession.settings import Settings
from wsgisession.stores.base import Change, CorruptRecord
from wsgisession.stores.file import FileStore, _swap

A = "a" * 64
B = "b" * 64
HOSTILE_IDS = ["../x", "/etc/passwd", "a/b", "..", "a" * 63 + "\x00", "a" * 63, "a" * 65, "A" * 64,
               "a" * 64 + "\n", "../" + "a" * 61, ""]
SPAWN = multiprocessing.get_context("spawn")


def new(data: dict[str, str], expires_in: float = 600) -> Change:
    return Change(set=data, replace=True, create=True, meta='{"c":1}', expires_at=time.time() + expires_in)


def edit(data: dict[str, str]) -> Change:
    return Change(set=data, meta='{"c":2}', expires_at=time.time() + 600)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "sessions"
    path.mkdir()
    return path


@pytest.fixture
def store(folder: Path) -> FileStore:
    return FileStore(folder)


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with the content of its files, to show nothing changed."""
    return {str(path): path.read_bytes() if path.is_file() and not path.is_symlink() else None
            for path in sorted(root.rglob("*"))}


# --- record ids that are not ours never reach the file system --------------------------


@pytest.mark.parametrize("record_id", HOSTILE_IDS)
def test_hostile_record_ids_touch_no_file(record_id: str, store: FileStore, tmp_path: Path,
                                          caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "x").write_text(json.dumps({"m": "", "e": time.time() + 600, "v": 1, "d": {"stolen": "1"}}))
    store.save(A, new({"mine": "1"}))
    before = snapshot(tmp_path)
    caplog.set_level(logging.WARNING, logger="wsgisession.security")

    assert store.save(record_id, new({"evil": "1"})) is False
    assert store.load(record_id) is None
    store.delete(record_id)
    assert store.touch(record_id, time.time() + 3600) is False
    assert store.acquire(record_id, 10, 0.1) is None
    store.release(record_id, "0" * 32)

    assert snapshot(tmp_path) == before
    security = [r for r in caplog.records if r.name == "wsgisession.security"]
    assert len(security) == 6
    assert all(record_id not in r.getMessage() for r in security if record_id)


def test_a_symlink_planted_in_the_folder_is_not_followed(store: FileStore, folder: Path, tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps({"m": "", "e": time.time() + 600, "v": 1, "d": {"stolen": "1"}}))
    (folder / f"wsgisession-{A}").symlink_to(outside)
    before = outside.read_bytes()
    caplog.set_level(logging.WARNING, logger="wsgisession.security")

    assert store.load(A) is None
    assert store.save(A, new({"evil": "1"})) is False
    store.delete(A)
    assert store.touch(A, time.time() + 3600) is False
    assert store.acquire(A, 10, 0.1) is None
    store.release(A, "0" * 32)
    assert store.clear_expired(time.time() + 3600) == 0

    assert outside.read_bytes() == before
    assert len([r for r in caplog.records if r.name == "wsgisession.security"]) == 7


# --- what lands on disk ----------------------------------------------------------------


@pytest.mark.parametrize("can_swap", [True, False], ids=["swapped", "renamed"])
def test_session_files_are_private_and_compact_json(can_swap: bool, store: FileStore, folder: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    if not can_swap:  # as on macOS, or on a file system without RENAME_EXCHANGE
        monkeypatch.setattr(_swap, "_renameat2", None)
    store.save(A, new({"user": '"bob"'}))
    store.save(A, edit({"n": "1"}))  # over the existing file
    path = folder / f"wsgisession-{A}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = json.loads(path.read_text())
    assert content["d"] == {"user": '"bob"', "n": "1"} and content["m"] == '{"c":2}' and content["v"] == 2
    assert b" " not in path.read_bytes()
    assert [name for name in os.listdir(folder) if not name.startswith(".wsgisession-lock-")] == [path.name]


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe\x00", b"[]", b'{"m": "", "e": 1, "v": 1}',
                                     b'{"m": "", "e": "soon", "v": 1, "d": {}}',
                                     b'{"m": "", "e": 1, "v": 1, "d": {"k": 5}}', b"",
                                     b'{"m": "", "e": 1, "v": 1, "d": {}, "lt": "t"}',
                                     b'{"m": "", "e": 1, "v": 1, "d": {}, "lt": 5, "lx": 1}',
                                     b'{"m": "", "e": 1, "v": 1, "d": {}, "lt": "t", "lx": true}'])
def test_a_corrupted_file_is_reported_as_corrupt_without_naming_it(content: bytes, store: FileStore,
                                                                   folder: Path) -> None:
    (folder / f"wsgisession-{A}").write_bytes(content)
    with pytest.raises(CorruptRecord) as caught:
        store.load(A)
    assert A not in str(caught.value)


def test_a_corrupted_file_is_replaced_by_a_new_session(store: FileStore, folder: Path) -> None:
    (folder / f"wsgisession-{A}").write_bytes(b"{not json")
    assert store.save(A, edit({"x": "1"})) is False
    assert store.save(A, new({"x": "1"})) is True
    record = store.load(A)
    assert record is not None and record.data == {"x": "1"}


# --- touch and session locks ----------------------------------------------------------


def on_disk(folder: Path, record_id: str = A) -> dict[str, Any]:
    content: dict[str, Any] = json.loads((folder / f"wsgisession-{record_id}").read_text())
    return content


def test_touch_moves_only_the_expiry(store: FileStore, folder: Path) -> None:
    store.save(A, new({"x": "1"}))
    store.save(A, edit({"y": "2"}))
    token = store.acquire(A, 30, 0.1)
    before = on_disk(folder)
    later = time.time() + 7200

    assert store.touch(A, later) is True

    after = on_disk(folder)
    assert after.pop("e") == pytest.approx(later) and before.pop("e") != after.get("e")
    assert after == before  # data, metadata, version and lease
    assert after["v"] == 2 and after["lt"] == token


def test_a_save_without_a_token_keeps_the_lease_of_another_request(store: FileStore, folder: Path) -> None:
    store.save(A, new({"x": "1"}))
    token = store.acquire(A, 30, 0.1)
    assert token is not None

    assert store.save(A, edit({"other": "1"})) is True  # a request that does not lock
    assert store.save(A, new({"replaced": "1"})) is True  # replace: the data, not the lease
    assert on_disk(folder)["lt"] == token
    with pytest.raises(LockTimeoutError):
        store.acquire(A, 30, 0.1)

    assert store.save(A, Change(set={"mine": "1"}, meta='{"c":3}', expires_at=time.time() + 600,
                                lock_token=token)) is True
    store.release(A, token)
    record = store.load(A)
    assert record is not None and record.data == {"replaced": "1", "mine": "1"}
    assert "lt" not in on_disk(folder)


def test_a_save_with_a_token_that_does_not_hold_the_lease_saves_nothing(store: FileStore) -> None:
    store.save(A, new({"x": "1"}))
    token = store.acquire(A, 30, 0.1)
    assert token is not None
    stale = Change(set={"x": "2"}, meta='{"c":3}', expires_at=time.time() + 600, lock_token="0" * 32)
    with pytest.raises(LockLostError):
        store.save(A, stale)
    store.release(A, token)
    with pytest.raises(LockLostError):
        store.save(A, Change(set={"x": "2"}, meta='{"c":3}', expires_at=time.time() + 600, lock_token=token))
    record = store.load(A)
    assert record is not None and record.data == {"x": "1"} and record.version == 1
    assert store.save(B, Change(set={}, meta="", expires_at=time.time() + 600, lock_token=token)) is False


def test_the_lease_deadline_is_unix_time_shared_by_every_process(store: FileStore, folder: Path) -> None:
    path = folder / f"wsgisession-{A}"
    content = {"m": "", "e": time.time() + 600, "v": 1, "d": {}, "lt": "f" * 32, "lx": time.time() + 30}
    path.write_text(json.dumps(content))  # as another process (or machine) would leave it
    with pytest.raises(LockTimeoutError):
        store.acquire(A, 10, 0.1)
    path.write_text(json.dumps({**content, "lx": time.time() - 1}))
    token = store.acquire(A, 10, 0.1)
    assert token is not None and on_disk(folder)["lx"] == pytest.approx(time.time() + 10, abs=1)


def test_clear_expired_deletes_a_dead_session_even_while_it_is_locked(store: FileStore) -> None:
    store.save(A, new({"x": "1"}, expires_in=-10))
    assert store.acquire(A, 30, 0.1) is not None
    assert store.clear_expired(time.time()) == 1
    assert store.load(A) is None


def _hold_the_lock(folder: str, lease: float, acquired: Any, release: Any, crash: bool) -> None:
    store = FileStore(folder)
    token = store.acquire(A, lease, 10)
    if token is None:
        raise SystemExit(1)
    acquired.set()
    if crash:
        os._exit(0)  # dies holding the lock: no release, no cleanup
    release.wait(60)
    store.release(A, token)


def test_a_lock_held_by_another_process_blocks_until_it_is_released(store: FileStore, folder: Path) -> None:
    store.save(A, new({"x": "1"}))
    acquired, release = SPAWN.Event(), SPAWN.Event()
    child = SPAWN.Process(target=_hold_the_lock, args=(str(folder), 60.0, acquired, release, False))
    child.start()
    try:
        assert acquired.wait(60)
        with pytest.raises(LockTimeoutError):
            store.acquire(A, 10, 0.3)
        timer = threading.Timer(0.5, release.set)
        started = time.monotonic()
        timer.start()
        token = store.acquire(A, 10, 30)
        waited = time.monotonic() - started
    finally:
        release.set()
        child.join(timeout=60)
    assert child.exitcode == 0
    assert token is not None and 0.4 <= waited < 10


def test_a_process_that_dies_holding_the_lock_blocks_others_only_until_its_lease_ends(
        store: FileStore, folder: Path) -> None:
    store.save(A, new({"x": "1"}))
    acquired, never = SPAWN.Event(), SPAWN.Event()  # both referenced until the child has unpickled them
    child = SPAWN.Process(target=_hold_the_lock, args=(str(folder), 2.0, acquired, never, True))
    child.start()
    assert acquired.wait(60)
    started = time.monotonic()
    child.join(timeout=60)
    assert child.exitcode == 0

    with pytest.raises(LockTimeoutError):
        store.acquire(A, 10, 0.2)
    token = store.acquire(A, 10, 30)
    waited = time.monotonic() - started
    assert token is not None and 1.0 <= waited < 2.5
    assert store.save(A, Change(set={"y": "2"}, meta='{"c":2}', expires_at=time.time() + 600, lock_token=token))


# --- concurrency across processes ------------------------------------------------------


def _update_many(folder: str, worker: int, count: int, barrier: Any) -> None:
    store = FileStore(folder)
    barrier.wait()
    for i in range(count):
        if not store.save(A, edit({f"p{worker}-{i}": str(i)})):
            raise SystemExit(1)


def test_concurrent_saves_from_two_processes_all_land(store: FileStore, folder: Path) -> None:
    store.save(A, new({"base": "0"}))
    barrier = SPAWN.Barrier(2)
    workers = [SPAWN.Process(target=_update_many, args=(str(folder), n, 30, barrier)) for n in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0, 0]

    record = store.load(A)
    assert record is not None
    assert set(record.data) == {"base"} | {f"p{n}-{i}" for n in range(2) for i in range(30)}
    assert record.version == 61


# --- system failures -------------------------------------------------------------------


def test_a_read_only_folder_raises_store_error(store: FileStore, folder: Path) -> None:
    store.save(A, new({"old": "1"}))  # its lock file exists: the failure comes from the write itself
    if os.geteuid() == 0:  # root writes through chmod 0500: use a folder the kernel refuses files in
        target, listing = FileStore("/proc/self"), Path("/proc/self")
    else:
        folder.chmod(0o500)
        target, listing = store, folder
    try:
        with pytest.raises(StoreError) as raised:
            target.save(A, new({"new": "1"}))
    finally:
        folder.chmod(0o700)
    assert raised.value.operation == "save"
    assert A not in str(raised.value)
    assert [name for name in os.listdir(listing) if name.startswith(".wsgisession-tmp-")] == []
    record = store.load(A)
    assert record is not None and record.data == {"old": "1"}


def _save_with_tiny_file_size_limit(folder: str, results: Any) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG, like a full disk
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    try:
        FileStore(folder).save(A, new({"big": "x" * 100_000}))
        results.put(("saved", None))
    except StoreError as exc:
        results.put(("StoreError", exc.operation))


def test_a_full_disk_raises_store_error_and_keeps_the_old_session(store: FileStore, folder: Path) -> None:
    store.save(A, new({"old": "1"}))
    results = SPAWN.Queue()
    child = SPAWN.Process(target=_save_with_tiny_file_size_limit, args=(str(folder), results))
    child.start()
    outcome = results.get(timeout=60)
    child.join(timeout=60)

    assert outcome == ("StoreError", "save")
    record = store.load(A)
    assert record is not None and record.data == {"old": "1"}
    assert [name for name in os.listdir(folder) if name.startswith(".wsgisession-tmp-")] == []


@pytest.mark.parametrize("make_path", [lambda tmp: tmp / "missing", lambda tmp: tmp / "a-file"])
def test_a_missing_folder_is_a_configuration_error(make_path: Callable[[Path], Path], tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    path = make_path(tmp_path)
    settings = Settings(engine="file", file_path=str(path), secret_key="unit-test-secret-key-0123456789abcdef")
    with pytest.raises(ConfigurationError) as raised:
        build_backend(settings)
    assert [problem.key for problem in raised.value.problems] == ["SESSION_FILE_PATH"]
    assert str(path) in str(raised.value)
    assert not (tmp_path / "missing").exists()


# --- purging ---------------------------------------------------------------------------


def test_clear_expired_deletes_exactly_the_dead_sessions_and_stale_temp_files(
        store: FileStore, folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    dead = [f"{n:x}" * 64 for n in range(3)]
    live = [f"{n:x}" * 64 for n in range(3, 5)]
    for record_id in dead:
        store.save(record_id, new({"x": "1"}, expires_in=-10))
    for record_id in live:
        store.save(record_id, new({"x": "1"}))
    (folder / f"wsgisession-{'f' * 64}").write_bytes(b"{corrupt")
    stale, fresh = folder / ".wsgisession-tmp-stale", folder / ".wsgisession-tmp-fresh"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    caplog.set_level(logging.WARNING, logger="wsgisession")

    assert store.clear_expired(time.time()) == 3

    sessions = sorted(name for name in os.listdir(folder) if name.startswith("wsgisession-"))
    assert sessions == sorted(f"wsgisession-{record_id}" for record_id in [*live, "f" * 64])
    assert not stale.exists() and fresh.exists()
    assert all(store.load(record_id) is not None for record_id in live)
    assert len([r for r in caplog.records if "could not be decoded" in r.getMessage()]) == 1
    assert store.clear_expired(time.time()) == 0
