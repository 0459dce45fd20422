"""``--settings SOURCE``, read the same way by every command; ``--version``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import wsgisession
from tests.conftest import SECRET
from wsgisession._settings_source import SourceError, read_settings_source
from wsgisession.cli import main

#: The console script pip installed beside this interpreter.
WSGISESSION = str(Path(sys.executable).parent / "wsgisession")


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed command, as a shell runs it: no PYTHONPATH, the working directory ``cwd``."""
    return subprocess.run([WSGISESSION, *args], cwd=cwd, capture_output=True, text=True, check=False,
                          env={"PATH": "/usr/bin:/bin"})


def test_the_readmes_module_example_works_from_the_folder_that_holds_the_package(tmp_path: Path) -> None:
    """``wsgisession clearsessions --settings myapp.settings:SESSIONS``, as the README says."""
    (tmp_path / "myapp").mkdir()
    (tmp_path / "myapp" / "__init__.py").write_text("")
    settings = {"SECRET_KEY": SECRET, "SESSION_ENGINE": "file", "SESSION_FILE_PATH": str(tmp_path)}
    (tmp_path / "myapp" / "settings.py").write_text(f"SESSIONS = {settings!r}\n")
    result = run(["clearsessions", "--settings", "myapp.settings:SESSIONS"], tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "Deleted 0 expired sessions."), result.stderr


def test_a_custom_engine_in_the_working_directory_is_found_too(tmp_path: Path) -> None:
    (tmp_path / "mystores.py").write_text("from wsgisession.stores.memory import MemoryStore\n"
                                          "def make(settings):\n    return MemoryStore()\n")
    source = tmp_path / "settings.json"
    source.write_text(json.dumps({"SECRET_KEY": SECRET, "SESSION_ENGINE": "mystores.make"}))
    result = run(["clearsessions", "--settings", str(source)], tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "Deleted 0 expired sessions."), result.stderr


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"wsgisession {wsgisession.__version__}"


@pytest.mark.parametrize(("source", "content", "expected"), [
    ("just-a-word", None, "expected package.module:NAME (a settings dict in a module importable from the working"
                          " directory) or the path of a .json or .toml file"),
    ("missing.json", None, "expected the path of a JSON file, but there is no file there"),
    ("broken.json", "{'SECRET_KEY': 1", "expected a JSON file of settings, but it cannot be read"),
    ("broken.toml", "SECRET_KEY = ", "expected a TOML file of settings, but it cannot be read"),
    ("list.json", "[1, 2]", "does not hold a settings dict (expected a dict of settings keys, got a list)"),
    ("nosuchmodule:SESSIONS", None, "expected package.module:NAME, a settings dict in a module importable from"
                                    " the working directory"),
    ("json:NO_SUCH_NAME", None, "json has no NO_SUCH_NAME"),
    ("json:", None, "expected package.module:NAME"),
    ("json:dumps", None, "does not hold a settings dict (expected a dict of settings keys, got a function)"),
])
def test_every_error_says_which_form_was_expected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  source: str, content: str | None, expected: str) -> None:
    monkeypatch.chdir(tmp_path)
    if content is not None:
        (tmp_path / source).write_text(content)
    with pytest.raises(SourceError) as caught:
        read_settings_source(source)
    assert str(caught.value).startswith(f"--settings {source}: ")
    assert expected in str(caught.value)


@pytest.mark.parametrize("command", ["clearsessions", "createtable"])
def test_every_command_reads_source_the_same_way(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--settings", "just-a-word"]) == 2
    assert "--settings just-a-word: expected package.module:NAME" in capsys.readouterr().err
