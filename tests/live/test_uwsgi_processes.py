"""A per-process ``memory://`` cache under a real uWSGI with 2 processes: the warning comes at start-up.

uWSGI tells the app its process count (``uwsgi.numproc``), so the worker warns when it loads
the app, before any request. uWSGI is installed with ``pip install uwsgi`` (the test extra).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.live.conftest import REPO_ROOT, SECRET, START_TIMEOUT, free_port, stop


def uwsgi_binary() -> str:
    found = shutil.which("uwsgi", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    if found is None:
        pytest.fail("uWSGI is not installed: pip install uwsgi (it is in the test extra)", pytrace=False)
    return found


def test_memory_cache_under_two_uwsgi_processes_is_warned_at_start(tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "uwsgi.log"
    env = {name: value for name, value in os.environ.items() if not name.startswith("WSGISESSION_")}
    env.update(PYTHONPATH=str(REPO_ROOT), WSGISESSION_ENGINE="cache", WSGISESSION_SECRET_KEY=SECRET)
    command = [uwsgi_binary(), "--http-socket", f"127.0.0.1:{port}", "--module", "examples.counter:app",
               "--processes", "2", "--master", "--need-app", "--die-on-term", "--logto", str(log),
               "--home", sys.prefix, "--chdir", str(tmp_path)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "keeps sessions inside each worker process" not in (log.read_text() if log.exists() else ""):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"uWSGI did not warn at start:\n{log.read_text() if log.exists() else ''}",
                            pytrace=False)
            time.sleep(0.1)
        text = log.read_text()
        assert "with 2 workers" in text, text
        requests.get(f"http://127.0.0.1:{port}/", timeout=5).raise_for_status()
    finally:
        stop(process)
