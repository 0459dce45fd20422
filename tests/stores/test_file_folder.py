"""The file engine where another local account can reach: planted files, FIFOs, lock files, the folder itself.

"Another user" is played by chowning what the test plants to ``nobody`` (uid 65534): the
tests run as root, who can write anywhere, so "ours" means owned by ``os.geteuid()``.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

from tests.conftest import SECRET
from tests.middleware.apps import behaviour_app
from wsgisession import SessionMiddleware
from wsgisession.engines import build_backend
from wsgisession.errors import ConfigurationError, StoreError
from wsgisession.settings import Settings
from wsgisession.stores.base import Change, CorruptRecord
from wsgisession.stores.file import LOCK_PREFIX, LOCK_STRIPES, FileStore

A = "a" * 64
NOBODY = 65534
#: How long an operation may take before the test calls it hung (a guard, not a measure of speed).
HANG_GUARD = 20.0


def new(data: dict[str, str], expires_in: float = 600) -> Change:
    return Change(set=data, replace=True, create=True, meta='{"c":1}', expires_at=time.time() + expires_in)


@pytest.fixture
def as_root() -> None:
    if os.geteuid() != 0:
        pytest.fail("these tests play another user by chowning files to nobody: run them as root", pytrace=False)


@pytest.fixture
def folder(tmp_path: Path, as_root: None) -> Path:
    path = tmp_path / "sessions"
    path.mkdir(mode=0o700)
    return path


@pytest.fixture
def store(folder: Path) -> FileStore:
    return FileStore(folder)


@pytest.fixture
def shared_tmp(tmp_path: Path, as_root: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temp dir every account can write in (mode 1777, like /tmp), made this process's temp dir."""
    path = tmp_path / "tmp"
    path.mkdir()
    path.chmod(0o1777)
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    yield path


def planted(path: Path, content: bytes = b"") -> Path:
    """``path`` written by another user."""
    path.write_bytes(content)
    os.chown(path, NOBODY, NOBODY)
    return path


def without_hanging(action: Callable[[], Any], unblock: Callable[[], None]) -> Any:
    """What ``action`` returns (or raises); fails the test if it blocks, after ``unblock`` freed it."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = action()
        except BaseException as exc:  # handed to the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_GUARD)
    if thread.is_alive():
        unblock()
        thread.join(HANG_GUARD)
        pytest.fail("the store blocked on a file another user planted", pytrace=False)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def open_writer(fifo: Path) -> Callable[[], None]:
    """Frees a reader blocked opening ``fifo`` (it then reads an empty file)."""
    def unblock() -> None:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    return unblock


def security_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "wsgisession.security"]


# --- (a) a session file planted after a logout ------------------------------------------


def test_a_session_file_planted_after_logout_does_not_bring_the_old_cookie_back(
        folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    app = TestApp(SessionMiddleware(behaviour_app, {"SECRET_KEY": SECRET, "SESSION_ENGINE": "file",
                                                    "SESSION_FILE_PATH": str(folder)}))
    app.get("/set?user=mallory")
    old_cookie = app.cookies["sessionid"]
    [session_file] = folder.glob("wsgisession-*")
    forged = json.loads(session_file.read_bytes())
    forged["d"]["user"] = '"admin"'
    app.get("/flush")
    assert not session_file.exists()
    planted(session_file, json.dumps(forged).encode())  # by mallory, who knows the hash of her old key
    caplog.set_level(logging.WARNING, logger="wsgisession")

    app.set_cookie("sessionid", old_cookie)
    assert app.get("/").json == {}

    assert any("not a regular file owned by this process" in message for message in security_warnings(caplog))


def test_a_session_file_of_another_user_reads_as_corrupt_and_a_new_session_replaces_it(
        store: FileStore, folder: Path) -> None:
    store.save(A, new({"user": '"mallory"'}))
    path = folder / f"wsgisession-{A}"
    os.chown(path, NOBODY, NOBODY)
    with pytest.raises(CorruptRecord):
        store.load(A)
    assert store.touch(A, time.time() + 3600) is False
    assert store.acquire(A, 10, 0.1) is None
    assert store.save(A, new({"user": '"alice"'})) is True
    record = store.load(A)
    assert record is not None and record.data == {"user": '"alice"'}
    assert path.stat().st_uid == os.geteuid()


# --- (b) a FIFO where a session file belongs -------------------------------------------


def test_a_fifo_at_a_session_path_reads_as_corrupt_without_blocking(
        store: FileStore, folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    fifo = folder / f"wsgisession-{A}"
    os.mkfifo(fifo)
    caplog.set_level(logging.WARNING, logger="wsgisession")

    with pytest.raises(CorruptRecord):
        without_hanging(lambda: store.load(A), open_writer(fifo))
    assert without_hanging(lambda: store.touch(A, time.time() + 60), open_writer(fifo)) is False
    assert without_hanging(lambda: store.clear_expired(time.time()), open_writer(fifo)) == 0
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # left in place, reported
    assert without_hanging(lambda: store.save(A, new({"x": "1"})), open_writer(fifo)) is True

    record = store.load(A)
    assert record is not None and record.data == {"x": "1"}
    assert security_warnings(caplog)


# --- (c) lock files planted -----------------------------------------------------------


def test_lock_files_planted_in_the_temp_dir_do_not_stop_saves_with_the_default_folder(
        tmp_path: Path, as_root: None) -> None:
    shared = tmp_path / "tmp"
    shared.mkdir()
    shared.chmod(0o1777)
    for stripe in range(LOCK_STRIPES):  # the old default folder: every lock name taken by another user
        lock = shared / f"{LOCK_PREFIX}{stripe:02d}"
        lock.mkdir()
        os.chown(lock, NOBODY, NOBODY)
    script = ("from webtest import TestApp\n"
              "from tests.middleware.apps import behaviour_app\n"
              "from wsgisession import SessionMiddleware\n"
              f"settings = {{'SECRET_KEY': {SECRET!r}, 'SESSION_ENGINE': 'file'}}\n"
              "app = TestApp(SessionMiddleware(behaviour_app, settings))\n"
              "print(app.get('/set?user=alice', expect_errors=True).status_int)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "TMPDIR": str(shared), "PYTHONPATH": str(Path.cwd())}, check=False)

    assert (result.returncode, result.stdout.strip()) == (0, "200"), result.stderr
    own = shared / f"wsgisession-{os.geteuid()}"
    assert len(list(own.glob("wsgisession-*"))) == 1


@pytest.mark.parametrize("kind", ["held by another user", "a fifo", "a folder"])
def test_a_lock_file_that_is_not_ours_fails_the_save_clearly_instead_of_blocking(
        kind: str, store: FileStore, folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    lock = folder / f"{LOCK_PREFIX}{int(A[:2], 16) % LOCK_STRIPES:02d}"
    holder: list[int] = []
    if kind == "held by another user":
        planted(lock).chmod(0o666)
        holder.append(os.open(lock, os.O_RDONLY))
        fcntl.flock(holder[0], fcntl.LOCK_SH)  # and never lets go
    elif kind == "a fifo":
        os.mkfifo(lock)
    else:
        lock.mkdir()
    caplog.set_level(logging.WARNING, logger="wsgisession")
    try:
        with pytest.raises(StoreError) as raised:
            without_hanging(lambda: store.save(A, new({"x": "1"})), lambda: os.close(holder.pop()))
    finally:
        for fd in holder:
            os.close(fd)
    assert raised.value.operation == "save"
    assert "lock file" in str(raised.value) and str(folder) in str(raised.value)
    assert security_warnings(caplog)


# --- the folder, checked at start --------------------------------------------------------


def build_file_store(path: str | None) -> Any:
    return build_backend(Settings(engine="file", file_path=path, secret_key=SECRET))


@pytest.mark.parametrize(("mode", "owner", "why"), [
    (0o777, None, "group or others can write"), (0o770, None, "group or others can write"),
    (0o1777, None, "group or others can write"), (0o720, None, "group or others can write"),
    (0o700, NOBODY, f"owned by uid {NOBODY}"),
], ids=["0777", "0770", "1777", "0720", "another-owner"])
def test_a_folder_others_can_write_in_is_refused_at_start(mode: int, owner: int | None, why: str,
                                                          folder: Path) -> None:
    folder.chmod(mode)
    if owner is not None:
        os.chown(folder, owner, owner)
    with pytest.raises(ConfigurationError) as raised:
        build_file_store(str(folder))
    assert [problem.key for problem in raised.value.problems] == ["SESSION_FILE_PATH"]
    message = str(raised.value)
    assert str(folder) in message and why in message
    assert "chmod 700" in message and "folder of its own" in message
    assert os.listdir(folder) == []


@pytest.mark.parametrize("mode", [0o700, 0o750, 0o755])
def test_a_folder_only_we_can_write_in_is_accepted(mode: int, folder: Path) -> None:
    folder.chmod(mode)
    assert build_file_store(str(folder)) is not None


def test_the_default_folder_is_private_to_the_user_the_app_runs_as(shared_tmp: Path) -> None:
    umask = os.umask(0)  # the modes must not depend on the umask
    try:
        backend = build_file_store(None)
        backend.store.save(A, new({"x": "1"}))
    finally:
        os.umask(umask)
    own = shared_tmp / f"wsgisession-{os.geteuid()}"
    assert backend.store.folder == str(own)
    info = own.lstat()
    assert stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == os.geteuid()
    assert {stat.S_IMODE(path.lstat().st_mode) for path in own.iterdir()} == {0o600}  # session and lock files
    assert build_file_store(None).store.folder == str(own)  # the next worker uses it as it is
    assert Settings.from_mapping({"SECRET_KEY": SECRET, "SESSION_FILE_PATH": None}).file_path is None  # as in Django


@pytest.mark.parametrize("squat", ["a folder of another user", "a symlink to a folder of ours", "a file"])
def test_a_default_folder_another_user_made_first_is_refused(squat: str, shared_tmp: Path, tmp_path: Path) -> None:
    own = shared_tmp / f"wsgisession-{os.geteuid()}"
    if squat == "a folder of another user":
        own.mkdir(mode=0o700)
        os.chown(own, NOBODY, NOBODY)
    elif squat == "a symlink to a folder of ours":
        target = tmp_path / "ours"
        target.mkdir(mode=0o700)
        own.symlink_to(target)
    else:
        planted(own)
    with pytest.raises(ConfigurationError) as raised:
        build_file_store(None)
    assert [problem.key for problem in raised.value.problems] == ["SESSION_FILE_PATH"]
    assert str(own) in str(raised.value) and "folder of its own" in str(raised.value)


def test_session_and_lock_files_are_created_0600_whatever_the_umask(store: FileStore, folder: Path) -> None:
    umask = os.umask(0)
    try:
        store.save(A, new({"x": "1"}))
        store.save(A, new({"x": "2"}))  # swapped over the first
    finally:
        os.umask(umask)
    names = os.listdir(folder)
    assert f"wsgisession-{A}" in names and any(name.startswith(LOCK_PREFIX) for name in names)
    assert {stat.S_IMODE((folder / name).lstat().st_mode) for name in names} == {0o600}
