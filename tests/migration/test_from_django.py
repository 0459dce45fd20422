"""Leaving Django: a real Django project (gunicorn, PostgreSQL, JSON serializer) logs a browser in,
the application switches to wsgisession with SESSION_MIGRATE_FROM, and the browser stays logged in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from tests import servers
from tests.live.conftest import REPO_ROOT, free_port, gunicorn_command, stop, wait_until_answering

DJANGO_SECRET = "django-project-key-7sdf9823hjkKJH2398sdfjk23"
OUR_SECRET = "wsgisession-key-0a9s8d7f6g5h4j3k2l1qwerty"

Serve = Callable[[str, dict[str, str]], str]


@pytest.fixture
def schema() -> Iterator[str]:
    """A PostgreSQL schema of this test's own, dropped afterwards."""
    servers.require_sql(servers.POSTGRES_URL, "PostgreSQL")
    name = f"django_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(servers.POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {name}"))
    yield name
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA {name} CASCADE"))
    engine.dispose()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """``serve(app, extra_environ) -> url``: the app under gunicorn on a free loopback port, stopped afterwards."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(app: str, extra: dict[str, str]) -> str:
        port, log = free_port(), tmp_path / f"gunicorn-{len(processes)}.log"
        workdir = tmp_path / f"server-{len(processes)}"
        workdir.mkdir()
        with log.open("ab") as log_file:
            processes.append(subprocess.Popen(gunicorn_command(app, port, workdir, "sync"), cwd=workdir,
                                              env=_environ(extra), stdout=log_file, stderr=subprocess.STDOUT))
        url = f"http://127.0.0.1:{port}"
        wait_until_answering(processes[-1], url, log)
        return url

    yield start
    for process in processes:
        stop(process)


def _environ(extra: dict[str, str]) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("WSGISESSION_", "DJANGO_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return {**env, **extra}


def django_environ(schema: str) -> dict[str, str]:
    return {"DJANGO_TEST_SCHEMA": schema, "DJANGO_TEST_SECRET_KEY": DJANGO_SECRET}


def django_rows(schema: str) -> list[str]:
    engine = sa.create_engine(servers.POSTGRES_URL)
    with engine.connect() as connection:
        keys = [row[0] for row in connection.execute(sa.text(f"SELECT session_key FROM {schema}.django_session"))]
    engine.dispose()
    return keys


def wsgisession_settings(schema: str, redis_prefix: str, **migrate: Any) -> dict[str, Any]:
    return {"SECRET_KEY": OUR_SECRET, "SESSION_ENGINE": "redis", "SESSION_REDIS_URL": servers.REDIS_URL,
            "SESSION_REDIS_PREFIX": redis_prefix,
            "SESSION_MIGRATE_FROM": {"SESSION_ENGINE": "django.contrib.sessions.backends.db",
                                     "SESSION_DB_URL": servers.POSTGRES_URL,
                                     "SESSION_DB_TABLE": f"{schema}.django_session", "SECRET_KEY": DJANGO_SECRET,
                                     **migrate}}


@pytest.fixture
def django_browser(schema: str, serve: Serve) -> requests.Session:
    """A browser logged in as alice by the real Django project."""
    subprocess.run([sys.executable, "-m", "tests.migration.django_site", "migrate"], check=True, cwd=REPO_ROOT,
                   env=_environ(django_environ(schema)))
    django_url = serve("tests.migration.django_site:application", django_environ(schema))
    browser = requests.Session()
    assert browser.get(f"{django_url}/login", params={"user": "alice"}).json()["user"] == "alice"
    assert browser.get(f"{django_url}/whoami").json() == {"user": "alice"}
    assert len(django_rows(schema)) == 1
    return browser


def test_a_django_browser_stays_logged_in_and_the_django_row_goes(
        django_browser: requests.Session, schema: str, redis_prefix: str, serve: Serve) -> None:
    django_cookie = django_browser.cookies["sessionid"]
    settings = wsgisession_settings(schema, redis_prefix)
    url = serve("tests.migration.wsgisession_site:application", {"MIGRATION_TEST_SETTINGS": json.dumps(settings)})

    assert django_browser.get(f"{url}/whoami").json() == {"user": "alice", "cart": ["book", 2]}
    assert django_browser.cookies["sessionid"] != django_cookie  # wsgisession's cookie, in the same response
    assert django_rows(schema) == []
    assert django_browser.get(f"{url}/whoami").json() == {"user": "alice", "cart": ["book", 2]}


def test_django_s_cookie_read_with_another_secret_key_is_not_a_session(
        django_browser: requests.Session, schema: str, redis_prefix: str, serve: Serve) -> None:
    settings = wsgisession_settings(schema, redis_prefix, SECRET_KEY="not-django-s-key-0a9s8d7f6g5h4j3k2l1")
    url = serve("tests.migration.wsgisession_site:application", {"MIGRATION_TEST_SETTINGS": json.dumps(settings)})

    assert django_browser.get(f"{url}/whoami").json() == {"user": None, "cart": None}
    assert len(django_rows(schema)) == 1  # not authentic: left alone


def test_a_made_up_django_key_is_not_a_session(django_browser: requests.Session, schema: str, redis_prefix: str,
                                                serve: Serve) -> None:
    settings = wsgisession_settings(schema, redis_prefix)
    url = serve("tests.migration.wsgisession_site:application", {"MIGRATION_TEST_SETTINGS": json.dumps(settings)})
    stranger = requests.Session()
    stranger.cookies.set("sessionid", "a" * 32)
    assert stranger.get(f"{url}/whoami").json() == {"user": None, "cart": None}
    assert len(django_rows(schema)) == 1
