"""``wsgisession clearsessions``: deletes expired sessions, from a module dict or a JSON/TOML file."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

from tests.conftest import SECRET
from tests.middleware.apps import behaviour_app
from wsgisession import SessionMiddleware
from wsgisession.cli import main


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
