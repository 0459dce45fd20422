"""A PostgreSQL server of a test's own, in a temporary folder, that the test can stop and start.

``initdb`` and ``pg_ctl`` refuse to run as root, so they run as the ``postgres`` user
(``runuser``), in a folder under the system temp dir owned by that user (pytest's
``tmp_path`` sits in a folder only root may enter). It listens on a free loopback port
and a Unix socket in its folder; authentication is ``trust``. The shared PostgreSQL is
never stopped.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: The user the server runs as.
USER = "postgres"
#: Seconds pg_ctl may take to start or stop the server.
PG_CTL_TIMEOUT = 30


@dataclass
class PrivatePostgres:
    """A private PostgreSQL cluster: :meth:`create` once, then :meth:`start` / :meth:`stop` at will."""

    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/postgres"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @classmethod
    def create(cls, port: int) -> PrivatePostgres:
        """initdb a new cluster in a new folder of the system temp dir; RuntimeError if it cannot."""
        for tool in ("initdb", "pg_ctl", "runuser"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} is not on PATH: the PostgreSQL fault test needs a local PostgreSQL")
        user = pwd.getpwnam(USER)
        folder = Path(tempfile.mkdtemp(prefix="wsgisession-pg-"))
        os.chown(folder, user.pw_uid, user.pw_gid)
        server = cls(port, folder)
        server._run("initdb", "--no-sync", "--auth", "trust", "--username", USER, "-D", str(server.data))
        return server

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -h 127.0.0.1"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"),
                  "-w", "-t", str(PG_CTL_TIMEOUT), "start")

    def stop(self) -> None:
        """A fast shutdown: open connections are ended, as a crash or a restart would end them."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", str(PG_CTL_TIMEOUT), "stop")

    def is_running(self) -> bool:
        status = subprocess.run(["runuser", "-u", USER, "--", "pg_ctl", "-D", str(self.data), "status"],
                                capture_output=True, timeout=PG_CTL_TIMEOUT, check=False)
        return status.returncode == 0

    def remove(self) -> None:
        """Stop the server if it runs, and delete its folder."""
        if self.data.exists() and self.is_running():
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, *command: str) -> None:
        done = subprocess.run(["runuser", "-u", USER, "--", *command], capture_output=True, text=True,
                              timeout=PG_CTL_TIMEOUT + 30, check=False)
        if done.returncode != 0:
            log = self.folder / "server.log"
            server_log = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"{' '.join(command[:1])} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
                               f"{server_log}")
