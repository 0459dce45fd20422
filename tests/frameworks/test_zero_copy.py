"""Flask's ``send_file`` and Django's ``FileResponse`` keep the server's zero-copy path through SessionMiddleware.

Both frameworks hand the server the object its ``wsgi.file_wrapper`` made; SessionMiddleware must
pass that very object on (not an iterator around it), with the session saved. The 50 MB download
speed itself is ``python -m benchmarks.download``'s (a bare app); tests/frameworks/test_servers.py
downloads through each framework under each server, LintMiddleware around it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.frameworks.apps.common import PAYLOAD_VARIABLE
from tests.frameworks.zero_copy import APPS
from tests.live.conftest import server_environ


@pytest.mark.parametrize("framework", APPS)
def test_a_file_response_reaches_the_server_as_its_own_file_wrapper(framework: str, tmp_path: Path) -> None:
    (tmp_path / "payload.bin").write_bytes(os.urandom(100_000))
    env = {**server_environ("db", tmp_path, "unused"), PAYLOAD_VARIABLE: str(tmp_path / "payload.bin")}
    done = subprocess.run([sys.executable, "-m", "tests.frameworks.zero_copy", framework], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.stdout.split() == ["wsgiref.util.FileWrapper", "200", "saved"], done.stderr
