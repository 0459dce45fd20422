"""A user's ``mypy --strict`` sees wsgisession's types, from an editable install and from the wheel.

setuptools' default editable install is an import hook that type checkers cannot follow, so
every wsgisession name became ``Any`` (or "module not found") in a user's project. The build
backend is hatchling, whose editable install is a ``.pth`` file naming the repository root.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from tests.packaging.conftest import ROOT

#: A user's module, correct under --strict only if wsgisession's types are real.
USER_MODULE = '''
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from wsgisession import Session, SessionMiddleware, Settings, get_session

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    session: Session = get_session(environ)
    session["count"] = int(session.get("count", 0)) + 1
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(session["count"]).encode()]


wrapped = SessionMiddleware(app, {"SECRET_KEY": "x" * 50})
name: str = Settings.from_mapping({}).cookie_name
'''

#: A type error only a checker that sees wsgisession's types can find.
WRONG_LINE = "age: str = Settings.from_mapping({}).cookie_age\n"


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for the runs of this module: the standard library is analysed once."""
    return tmp_path_factory.mktemp("mypy-cache")


def mypy(python: Path | str, folder: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    """mypy --strict on ``folder/user.py`` for the environment of ``python``, from outside the repository."""
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache),
                           "--python-executable", str(python), "user.py"], cwd=folder, capture_output=True,
                          text=True, check=False, env={"PATH": "/usr/bin:/bin"})


def check_types_reach_the_user(python: Path | str, tmp_path: Path, cache: Path) -> None:
    (tmp_path / "user.py").write_text(USER_MODULE)
    clean = mypy(python, tmp_path, cache)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    (tmp_path / "user.py").write_text(USER_MODULE + WRONG_LINE)
    wrong = mypy(python, tmp_path, cache)
    assert 'expression has type "int", variable has type "str"' in wrong.stdout, wrong.stdout + wrong.stderr


def test_the_test_venv_is_an_editable_install_of_this_tree() -> None:
    direct_url = json.loads(metadata.distribution("wsgi-session").read_text("direct_url.json") or "{}")
    assert direct_url.get("dir_info", {}).get("editable"), (
        "tests/packaging expects `pip install -e '.[test]'` (scripts/test); found " + repr(direct_url))
    assert Path(direct_url["url"].removeprefix("file://")).resolve() == ROOT


def test_mypy_strict_sees_the_types_of_an_editable_install(tmp_path: Path, mypy_cache: Path) -> None:
    check_types_reach_the_user(sys.executable, tmp_path, mypy_cache)


def test_mypy_strict_sees_the_types_of_the_wheel(wheel_python: Path, tmp_path: Path, mypy_cache: Path) -> None:
    check_types_reach_the_user(wheel_python, tmp_path, mypy_cache)


