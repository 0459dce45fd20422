"""Fixtures of the fault tests: a private PostgreSQL, and a tmpfs that can be filled up."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live.conftest import free_port
from tests.load.private_postgres import PrivatePostgres

#: The size of the tmpfs the file engine writes to in the fault test.
TMPFS_SIZE = "2m"


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A running PostgreSQL of the test's own (stop and start it at will); removed afterwards."""
    try:
        server = PrivatePostgres.create(free_port())
    except (RuntimeError, KeyError) as exc:  # KeyError: no postgres user
        pytest.fail(f"cannot create a private PostgreSQL: {exc}", pytrace=False)
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def small_tmpfs() -> Iterator[Path]:
    """An empty folder on a tmpfs of :data:`TMPFS_SIZE` (root only: it mounts), unmounted afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="wsgisession-tmpfs-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0700", "tmpfs", str(folder)],
                             capture_output=True, text=True, timeout=30, check=False)
    if mounted.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"the file fault test mounts a small tmpfs and needs root with CAP_SYS_ADMIN:"
                    f" {mounted.stderr.strip()}", pytrace=False)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], capture_output=True, timeout=30, check=False)
        shutil.rmtree(folder, ignore_errors=True)
