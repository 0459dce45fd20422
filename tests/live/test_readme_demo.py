"""The README's demo command, run as written: it starts in the demo mode, and refuses to start without it."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.live.conftest import REPO_ROOT, START_TIMEOUT, free_port, stop, wait_until_answering

pytestmark = pytest.mark.live


def readme_demo_command() -> tuple[dict[str, str], list[str]]:
    """The variables and the arguments of the README's ``.venv/bin/gunicorn examples.login:app``."""
    readme = (REPO_ROOT / "README.md").read_text().splitlines()
    [line] = [line for line in readme if "gunicorn examples.login:app" in line]
    words = shlex.split(line.rsplit("&&", 1)[1])
    assignments = {word.partition("=")[0]: word.partition("=")[2] for word in words if "=" in word}
    [gunicorn, *args] = [word for word in words if "=" not in word]
    assert gunicorn == ".venv/bin/gunicorn"
    return assignments, [sys.executable, "-m", "gunicorn", *args]


def start(tmp_path: Path, variables: dict[str, str]) -> tuple[subprocess.Popen[bytes], str, Path]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("WSGISESSION_")}
    env.update(variables, PYTHONPATH=str(REPO_ROOT))
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen([*readme_demo_command()[1], "--bind", f"127.0.0.1:{port}"], cwd=tmp_path,
                                   env=env, stdout=log_file, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}", log


def test_the_readme_demo_command_starts_the_login_app_in_the_demo_mode(tmp_path: Path) -> None:
    variables, _ = readme_demo_command()
    assert variables == {"WSGISESSION_DEMO": "1"}
    process, url, log = start(tmp_path, variables)
    try:
        wait_until_answering(process, url, log)
        assert requests.get(f"{url}/register", timeout=5).status_code == 200
    finally:
        stop(process)
    assert "DEMO MODE" in log.read_text()


def test_without_the_demo_mode_or_a_key_the_example_refuses_to_start(tmp_path: Path) -> None:
    process, _, log = start(tmp_path, {})
    try:
        process.wait(timeout=START_TIMEOUT)
    finally:
        stop(process)
    assert process.returncode != 0
    assert "set WSGISESSION_SECRET_KEY" in log.read_text()
