"""``wsgisession clearsessions``: deletes expired sessions, from a module dict or a JSON/TOML file.

On the SQL engines it deletes in batches, with a progress line on a terminal only.
"""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from webtest import TestApp

from tests.conftest import SECRET
from tests.middleware.apps import behaviour_app
from wsgisession import SessionMiddleware
from wsgisession.cli import ProgressLine, main
from wsgisession.settings import Settings
from wsgisession.stores.sql import SqlStore


def make_sessions(settings: dict[str, Any], count: int, clock: Callable[[], float] = time.time) -> None:
    app = SessionMiddleware(behaviour_app, settings, clock=clock)
    for _ in range(count):
        TestApp(app).get("/inc")


def write_json(tmp_path: Path, settings: dict[str, Any]) -> str:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(settings))
    return str(path)


@pytest.mark.parametrize("engine_id", ["db", "file", "cached_db", "db-postgres"])
def test_deletes_exactly_the_expired_sessions(engine_settings: dict[str, Any], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    settings = {**engine_settings, "SESSION_COOKIE_AGE": 60}
    make_sessions(settings, 3, clock=lambda: time.time() - 3600)  # saved an hour ago, dead for 59 minutes
    make_sessions(settings, 2)
    assert main(["clearsessions", "--settings", write_json(tmp_path, settings)]) == 0
    assert capsys.readouterr().out.strip() == "Deleted 3 expired sessions."
    assert main(["clearsessions", "--settings", write_json(tmp_path, settings)]) == 0
    assert capsys.readouterr().out.strip() == "Deleted 0 expired sessions."


@pytest.mark.parametrize("engine_id", ["redis", "cache-redis"])
def test_stores_that_expire_by_themselves_say_so(engine_settings: dict[str, Any], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clearsessions", "--settings", write_json(tmp_path, engine_settings)]) == 0
    assert "expires sessions by itself" in capsys.readouterr().out


def test_reads_toml_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    path = tmp_path / "settings.toml"
    path.write_text(f'SECRET_KEY = "{SECRET}"\nSESSION_ENGINE = "file"\nSESSION_FILE_PATH = "{folder}"\n'
                    'SESSION_COOKIE_AGE = 60\n')
    make_sessions({"SECRET_KEY": SECRET, "SESSION_ENGINE": "file", "SESSION_FILE_PATH": str(folder),
                   "SESSION_COOKIE_AGE": 60}, 2,
                  clock=lambda: time.time() - 3600)
    assert main(["clearsessions", "--settings", str(path)]) == 0
    assert capsys.readouterr().out.strip() == "Deleted 2 expired sessions."


def test_python_dash_m_with_a_module_dict(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    settings = {"SECRET_KEY": SECRET, "SESSION_ENGINE": "file", "SESSION_FILE_PATH": str(folder),
                "SESSION_COOKIE_AGE": 60}
    (tmp_path / "mysite_settings.py").write_text(f"SESSIONS = {settings!r}\n")
    make_sessions(settings, 1, clock=lambda: time.time() - 3600)
    result = subprocess.run([sys.executable, "-m", "wsgisession", "clearsessions", "--settings",
                             "mysite_settings:SESSIONS"], cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONPATH": f"{tmp_path}:{Path.cwd()}", "PATH": "/usr/bin:/bin"}, check=False)
    assert (result.returncode, result.stdout.strip()) == (0, "Deleted 1 expired session."), result.stderr


def test_a_fifo_planted_in_the_file_folder_does_not_hang_clearsessions(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    settings = {"SECRET_KEY": SECRET, "SESSION_ENGINE": "file", "SESSION_FILE_PATH": str(folder),
                "SESSION_COOKIE_AGE": 60}
    make_sessions(settings, 2, clock=lambda: time.time() - 3600)
    fifo = folder / f"wsgisession-{'f' * 64}"
    os.mkfifo(fifo)
    # The timeout guards against a hang (the child is killed), it measures nothing.
    result = subprocess.run([sys.executable, "-m", "wsgisession", "clearsessions", "--settings",
                             write_json(tmp_path, settings)], capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(Path.cwd()), "PATH": "/usr/bin:/bin"}, check=False)
    assert (result.returncode, result.stdout.strip()) == (0, "Deleted 2 expired sessions."), result.stderr
    assert "1 session files" in result.stderr and fifo.exists()


@pytest.mark.parametrize(("content", "message"), [
    ('{"SESSION_ENGIN": "db"}', "did you mean SESSION_ENGINE"),
    ("[1, 2]", "does not hold a settings dict"),
])
def test_bad_settings_exit_2_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             content: str, message: str) -> None:
    path = tmp_path / "settings.json"
    path.write_text(content)
    assert main(["clearsessions", "--settings", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_missing_source_and_unknown_form_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clearsessions", "--settings", "/nonexistent/settings.json"]) == 2
    assert main(["clearsessions", "--settings", "just-a-word"]) == 2
    assert "package.module:NAME" in capsys.readouterr().err


def test_a_store_that_is_down_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = {"SECRET_KEY": SECRET, "SESSION_DB_URL": "postgresql+psycopg://postgres@127.0.0.1:1/test"}
    assert main(["clearsessions", "--settings", write_json(tmp_path, settings)]) == 1
    assert "failed" in capsys.readouterr().err


def add_rows(settings: dict[str, Any], dead: int, live: int) -> SqlStore:
    """``dead`` rows expired a minute ago and ``live`` unexpired ones, written straight into the table."""
    store = SqlStore.from_settings(Settings.from_mapping(settings))
    store.create_table()
    now = time.time()
    rows = [{"session_key": f"{n:064x}", "session_data": '{"m":"","d":{}}', "version": 1,
             "expire_date": now - 60 if n < dead else now + 600} for n in range(dead + live)]
    database = sa.create_engine(store.url)
    with database.begin() as connection:
        connection.execute(sa.insert(store.table), rows)
    database.dispose()
    return store


def row_count(store: SqlStore) -> int:
    database = sa.create_engine(store.url)
    with database.connect() as connection:
        count = connection.execute(sa.select(sa.func.count()).select_from(store.table)).scalar_one()
    database.dispose()
    return int(count)


def run_command(args: list[str], stderr_is_a_terminal: bool) -> tuple[str, bytes]:
    """Run ``python -m wsgisession`` with stdout on a pipe and stderr on a pipe or a pseudo-terminal."""
    env = {"PYTHONPATH": str(Path.cwd()), "PATH": "/usr/bin:/bin"}
    if not stderr_is_a_terminal:
        result = subprocess.run([sys.executable, "-m", "wsgisession", *args], capture_output=True, env=env,
                                check=True, timeout=60)
        return result.stdout.decode(), result.stderr
    leader, follower = pty.openpty()
    with subprocess.Popen([sys.executable, "-m", "wsgisession", *args], stdout=subprocess.PIPE,
                          stderr=follower, env=env) as process:
        os.close(follower)
        terminal = b""
        while True:
            try:
                chunk = os.read(leader, 1024)
            except OSError:  # EIO: the child closed its end
                break
            if not chunk:
                break
            terminal += chunk
        stdout = process.communicate(timeout=60)[0]
    os.close(leader)
    assert process.returncode == 0, terminal
    return stdout.decode(), terminal


@pytest.mark.parametrize("engine_id", ["db", "db-postgres", "db-mariadb"])
def test_deletes_thousands_in_batches_and_reports_the_count(engine_settings: dict[str, Any], tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    store = add_rows(engine_settings, dead=2500, live=3)
    assert main(["clearsessions", "--settings", write_json(tmp_path, engine_settings), "--batch-size", "1000"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "Deleted 2500 expired sessions.\n"
    assert captured.err == ""  # not a terminal: no progress line
    assert row_count(store) == 3


@pytest.mark.parametrize("engine_id", ["db"])
def test_a_terminal_sees_the_progress_and_a_pipe_does_not(engine_settings: dict[str, Any], tmp_path: Path) -> None:
    args = ["clearsessions", "--settings", write_json(tmp_path, engine_settings), "--batch-size", "1000"]
    add_rows(engine_settings, dead=2500, live=0)
    stdout, terminal = run_command(args, stderr_is_a_terminal=True)
    assert stdout == "Deleted 2500 expired sessions.\n"
    text = terminal.decode()
    updates = [f"\rdeleted {count} expired sessions…" for count in ("1,000", "2,000", "2,500")]
    assert all(update in text for update in updates), repr(text)
    assert text.index(updates[0]) < text.index(updates[1]) < text.index(updates[2])
    assert text.endswith("\n")  # the line is finished before the count is printed
    add_rows(engine_settings, dead=1200, live=0)
    stdout, stderr = run_command(args, stderr_is_a_terminal=False)
    assert (stdout, stderr) == ("Deleted 1200 expired sessions.\n", b"")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_line_rewrites_itself_on_a_terminal_only() -> None:
    terminal, pipe = FakeTerminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = ProgressLine(stream)
        progress(500)
        progress(12000)
        progress.finish()
        progress.finish()
    assert terminal.getvalue() == "\rdeleted 500 expired sessions…\rdeleted 12,000 expired sessions…\n"
    assert pipe.getvalue() == ""


def test_a_batch_size_below_1_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["clearsessions", "--settings", "x.json", "--batch-size", "0"])
    assert exited.value.code == 2
    assert "--batch-size: a whole number of at least 1" in capsys.readouterr().err


def test_a_custom_store_that_can_neither_purge_nor_expire_fails_naming_the_store(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A cron job must notice: Django's clearsessions fails on an engine without clear_expired."""
    settings = {"SECRET_KEY": SECRET, "SESSION_ENGINE": "tests.cli.custom_stores.KeepsEverythingStore"}
    assert main(["clearsessions", "--settings", write_json(tmp_path, settings)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "KeepsEverythingStore" in captured.err and "clear_expired" in captured.err
    assert "expires sessions by itself" not in captured.err


def test_a_custom_store_that_expires_its_records_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = {"SECRET_KEY": SECRET, "SESSION_ENGINE": "tests.cli.custom_stores.TimeToLiveStore"}
    assert main(["clearsessions", "--settings", write_json(tmp_path, settings)]) == 0
    assert "TimeToLiveStore expires sessions by itself" in capsys.readouterr().out


@pytest.mark.parametrize("store", ["DjangoStyleStore", "StubPurgeStore"])
def test_a_custom_store_whose_clear_expired_is_a_stub_fails_naming_the_store(
        store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Django's stub raises NotImplementedError; another returns None: neither has deleted anything."""
    settings = {"SECRET_KEY": SECRET, "SESSION_ENGINE": f"tests.cli.custom_stores.{store}"}
    assert main(["clearsessions", "--settings", write_json(tmp_path, settings)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert store in captured.err and "clear_expired" in captured.err
    assert "Traceback" not in captured.err and "expires sessions by itself" not in captured.err
