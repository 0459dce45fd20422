"""Code that looks the package up by its distribution name uses wsgi-session, the name it is installed under."""

from __future__ import annotations

import wsgisession
from benchmarks import machine
from benchmarks.systems.wsgisession import WsgisessionSystem


def test_the_benchmark_header_reports_the_installed_version() -> None:
    assert f"wsgi-session {wsgisession.__version__}" in machine.versions()


def test_the_benchmark_system_reports_its_version() -> None:
    assert WsgisessionSystem().versions() == f"wsgi-session {wsgisession.__version__}"
