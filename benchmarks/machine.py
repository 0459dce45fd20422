"""The header line of every result: the machine, the versions, the exact command."""

from __future__ import annotations

import os
import platform
import shlex
import sqlite3
import time
from importlib.metadata import PackageNotFoundError, version

#: Distributions whose versions every header reports (those not installed are left out).
DISTRIBUTIONS = ("wsgi-session", "beaker", "flask", "flask-session", "cachelib", "django", "werkzeug",
                 "sqlalchemy", "redis", "hiredis", "gunicorn")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def versions() -> str:
    found = []
    for dist in DISTRIBUTIONS:
        try:
            found.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            continue
    return ", ".join(found)


class Busy:
    """How loaded the shared machine was over a run: 1-minute load averages at its start and end."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.load_at_start = os.getloadavg()[0]

    def summary(self) -> str:
        return (f"load average {self.load_at_start:.2f} at start, {os.getloadavg()[0]:.2f} at end;"
                f" took {time.monotonic() - self.started:.0f} s")


def header(module: str, argv: list[str], extra: str = "") -> str:
    """Two lines: the machine and versions, then the command that produced the output."""
    machine = (f"Machine: {cpu_model()}, {cores()} cores; Python {platform.python_version()}"
               f" ({platform.python_implementation()}); SQLite {sqlite3.sqlite_version}")
    if extra:
        machine += f"; {extra}"
    command = shlex.join(["python", "-m", module, *argv])
    return f"{machine}\nVersions: {versions()}\nCommand: `{command}` (run from the repository root)"
