"""The URLs users already have in DATABASE_URL (postgres://, postgresql://, mysql://, mariadb://) as SESSION_DB_URL.

With the project's extras they use the drivers the extras install (psycopg, PyMySQL);
without a driver the middleware refuses to start, naming the setting and the pip install.
"""

from __future__ import annotations

import json
import subprocess
import venv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

from tests.middleware.apps import behaviour_app
from wsgisession import ConfigurationError, SessionMiddleware
from wsgisession.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
KEY = "Vq3-hT9xLk2pR7wZ_mN4cF8sJ1yB6dE0"
#: Spelling -> (engine id of the server it reaches, the extra whose driver it uses).
SPELLINGS = {"postgres": ("db-postgres", "postgres"), "postgresql": ("db-postgres", "postgres"),
             "mysql": ("db-mariadb", "mysql"), "mariadb": ("db-mariadb", "mysql")}


def respelled(settings: dict[str, Any], scheme: str) -> dict[str, Any]:
    """``settings`` with SESSION_DB_URL's ``dialect+driver://`` written ``scheme://``."""
    return {**settings, "SESSION_DB_URL": f"{scheme}://{settings['SESSION_DB_URL'].partition('://')[2]}"}


@pytest.mark.parametrize("scheme", SPELLINGS)
def test_the_common_spellings_work_with_the_extras_installed(
        scheme: str, engine_settings_factory: Callable[[str], dict[str, Any]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    settings = respelled(engine_settings_factory(SPELLINGS[scheme][0]), scheme)
    client = TestApp(SessionMiddleware(behaviour_app, settings))
    client.get("/inc")
    assert client.get("/inc").json == {"count": 2}
    source = tmp_path / "settings.json"
    source.write_text(json.dumps(settings))
    assert main(["clearsessions", "--settings", str(source)]) == 0
    assert capsys.readouterr().out.strip() == "Deleted 0 expired sessions."


def test_an_explicit_driver_is_kept_and_a_missing_one_is_named() -> None:
    with pytest.raises(ConfigurationError) as caught:
        SessionMiddleware(behaviour_app, {"SECRET_KEY": KEY,
                                          "SESSION_DB_URL": "postgresql+psycopg2://app:hunter2@db.internal/app"})
    message = str(caught.value)
    assert "SESSION_DB_URL" in message and "psycopg2" in message and "hunter2" not in message
    assert "pip install 'wsgi-session[postgres]'" in message


@pytest.mark.parametrize(("url", "pip_install"), [
    ("mysql+mysqldb://app:hunter2@db.internal/app", "pip install mysqlclient"),
    ("mariadb+mysqldb://app:hunter2@db.internal/app", "pip install mysqlclient"),
    ("mysql+mysqlconnector://app:hunter2@db.internal/app", "pip install mysql-connector-python"),
])
def test_an_explicit_driver_whose_module_has_another_pip_name_is_named_by_its_pip_install(
        url: str, pip_install: str) -> None:
    """``pip install MySQLdb`` installs nothing: the message gives the distribution to install."""
    with pytest.raises(ConfigurationError) as caught:
        SessionMiddleware(behaviour_app, {"SECRET_KEY": KEY, "SESSION_DB_URL": url})
    message = str(caught.value)
    assert "SESSION_DB_URL" in message and pip_install in message and "hunter2" not in message
    assert "pip install 'wsgi-session[mysql]'" in message  # or drop the +driver


@pytest.fixture(scope="module")
def python_without_drivers(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh venv holding wsgisession and its required dependencies only: no psycopg, no PyMySQL."""
    folder = tmp_path_factory.mktemp("venv-without-drivers")
    venv.create(folder, with_pip=False)
    python = folder / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    ours = Path(sqlalchemy_path()).parent
    for name in ("sqlalchemy", "werkzeug", "itsdangerous", "redis", "markupsafe", "greenlet", "typing_extensions.py"):
        (site / name).symlink_to(ours / name)
    (site / "wsgisession.pth").write_text(f"{REPO_ROOT}\n")  # what pip install -e writes
    return str(python)


def sqlalchemy_path() -> str:
    import sqlalchemy

    return str(Path(sqlalchemy.__file__).parent)


@pytest.mark.parametrize("scheme", SPELLINGS)
def test_without_a_driver_the_middleware_refuses_to_start_naming_the_pip_install(
        scheme: str, python_without_drivers: str) -> None:
    url = f"{scheme}://app:hunter2@db.internal/app"
    program = ("import sys; from wsgisession import ConfigurationError, SessionMiddleware\n"
               "try:\n"
               f"    SessionMiddleware(None, {{'SECRET_KEY': {KEY!r}, 'SESSION_DB_URL': {url!r}}})\n"
               "except ConfigurationError as exc:\n"
               "    sys.exit(str(exc))\n")
    result = subprocess.run([python_without_drivers, "-c", program], capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stderr
    assert "SESSION_DB_URL" in result.stderr
    assert f"pip install 'wsgi-session[{SPELLINGS[scheme][1]}]'" in result.stderr
    assert "hunter2" not in result.stderr and "Traceback" not in result.stderr


def test_the_venv_without_drivers_really_has_none(python_without_drivers: str) -> None:
    for module in ("psycopg", "pymysql", "MySQLdb", "psycopg2"):
        result = subprocess.run([python_without_drivers, "-c", f"import {module}"], capture_output=True, check=False)
        assert result.returncode == 1
    assert subprocess.run([python_without_drivers, "-c", "import wsgisession, sqlalchemy"], check=False).returncode == 0
