"""``wsgisession migrate``: Django's sessions moved ahead of time, in batches; a second run carries on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from webtest import TestApp

from tests.conftest import SECRET
from tests.middleware.apps import behaviour_app
from tests.migration.test_django_format import KEY, django_dumps
from wsgisession import SessionMiddleware
from wsgisession.cli import main


@pytest.fixture
def django_url(tmp_path: Path) -> str:
    """A SQLite file holding Django's session table, as Django's migration creates it."""
    url = f"sqlite:///{tmp_path / 'django.sqlite3'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE django_session (session_key varchar(40) PRIMARY KEY,"
                                   " session_data text NOT NULL, expire_date datetime NOT NULL)"))
    engine.dispose()
    return url


def add_rows(url: str, rows: dict[str, tuple[dict[str, Any], timedelta]]) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for key, (data, lifetime) in rows.items():
            connection.execute(sa.text("INSERT INTO django_session VALUES (:k, :d, :e)"),
                               {"k": key, "d": django_dumps(data), "e": datetime.now(UTC) + lifetime})
    engine.dispose()


def django_keys(url: str) -> list[str]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        keys = [row[0] for row in connection.execute(sa.text("SELECT session_key FROM django_session"))]
    engine.dispose()
    return keys


@pytest.fixture
def new_settings(tmp_path: Path, django_url: str, engine_settings_factory: Any) -> dict[str, Any]:
    migrate_from = {"SESSION_ENGINE": "django.contrib.sessions.backends.db", "SESSION_DB_URL": django_url,
                    "SECRET_KEY": KEY}
    return {**engine_settings_factory("redis"), "SESSION_MIGRATE_FROM": migrate_from}


def write_json(path: Path, settings: dict[str, Any]) -> str:
    path.write_text(json.dumps(settings))
    return str(path)


def test_every_session_moves_and_the_django_cookie_still_logs_in(
        tmp_path: Path, django_url: str, new_settings: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    users = {f"{index:032d}": ({"user": f"user{index}"}, timedelta(days=1)) for index in range(5)}
    add_rows(django_url, {**users, "e" * 32: ({"user": "gone"}, timedelta(seconds=-1))})

    status = main(["migrate", "--to", write_json(tmp_path / "new.json", new_settings), "--batch-size", "2"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert out.strip() == "Moved 5 sessions; deleted 1 expired; left 0 that are not authentic or cannot be read."
    assert err.count("moved ") == 3  # one line per batch of 2
    assert django_keys(django_url) == []

    browser = TestApp(SessionMiddleware(behaviour_app, new_settings))
    browser.set_cookie("sessionid", "0" * 31 + "3")
    assert browser.get("/").json == {"user": "user3"}
    new_cookie = browser.cookies["sessionid"]
    assert new_cookie != "0" * 31 + "3"
    stale = TestApp(SessionMiddleware(behaviour_app, new_settings))
    stale.set_cookie("sessionid", "0" * 31 + "3")
    assert stale.get("/").json == {}  # the copy went with the move


def test_a_second_run_carries_on_where_the_first_stopped(tmp_path: Path, django_url: str,
                                                         new_settings: dict[str, Any]) -> None:
    add_rows(django_url, {"a" * 32: ({"user": "alice"}, timedelta(days=1))})
    source = write_json(tmp_path / "new.json", new_settings)
    assert main(["migrate", "--to", source]) == 0
    add_rows(django_url, {"a" * 32: ({"user": "alice"}, timedelta(days=1))})  # as if the first run died mid-way
    assert main(["migrate", "--to", source]) == 0
    assert main(["migrate", "--to", source]) == 0
    assert django_keys(django_url) == []
    browser = TestApp(SessionMiddleware(behaviour_app, new_settings))
    browser.set_cookie("sessionid", "a" * 32)
    assert browser.get("/").json == {"user": "alice"}


def test_rows_not_signed_with_django_s_key_are_left_and_counted(
        tmp_path: Path, django_url: str, new_settings: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    add_rows(django_url, {"a" * 32: ({"user": "alice"}, timedelta(days=1))})
    new_settings["SESSION_MIGRATE_FROM"]["SECRET_KEY"] = SECRET
    assert main(["migrate", "--to", write_json(tmp_path / "new.json", new_settings)]) == 0
    assert "left 1 that are not authentic" in capsys.readouterr().out
    assert django_keys(django_url) == ["a" * 32]


def test_from_names_the_engine_being_left(tmp_path: Path, django_url: str, new_settings: dict[str, Any]) -> None:
    add_rows(django_url, {"a" * 32: ({"user": "alice"}, timedelta(days=1))})
    old = new_settings.pop("SESSION_MIGRATE_FROM")
    assert main(["migrate", "--to", write_json(tmp_path / "new.json", new_settings),
                 "--from", write_json(tmp_path / "old.json", old)]) == 0
    assert django_keys(django_url) == []


def test_nothing_to_migrate_from_is_a_clear_error(tmp_path: Path, engine_settings_factory: Any,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "--to", write_json(tmp_path / "new.json", engine_settings_factory("redis"))]) == 2
    assert "SESSION_MIGRATE_FROM" in capsys.readouterr().err


def test_a_file_engine_moves_at_each_request_only(tmp_path: Path, engine_settings_factory: Any,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    settings = {**engine_settings_factory("redis"), "SESSION_MIGRATE_FROM": engine_settings_factory("file")}
    assert main(["migrate", "--to", write_json(tmp_path / "new.json", settings)]) == 2
    assert "move at each request with SESSION_MIGRATE_FROM" in capsys.readouterr().err


@pytest.mark.parametrize(("old_id", "new_id"), [("redis", "db"), ("db", "redis"), ("cached_db", "file")])
def test_wsgisession_records_move_with_their_ids_and_cookies_keep_working(
        tmp_path: Path, engine_settings_factory: Any, old_id: str, new_id: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    old = engine_settings_factory(old_id)
    cookies = []
    for user in ("alice", "bob", "carol"):
        browser = TestApp(SessionMiddleware(behaviour_app, old))
        browser.get("/set", {"user": user})
        cookies.append(browser.cookies["sessionid"])
    new = {**engine_settings_factory(new_id), "SESSION_MIGRATE_FROM": old}
    source = write_json(tmp_path / "new.json", new)

    assert main(["migrate", "--to", source, "--batch-size", "2"]) == 0
    assert capsys.readouterr().out.startswith("Moved 3 sessions;")
    assert main(["migrate", "--to", source]) == 0  # nothing left: a second run moves nothing
    assert capsys.readouterr().out.startswith("Moved 0 sessions;")
    new.pop("SESSION_MIGRATE_FROM")
    for user, cookie in zip(("alice", "bob", "carol"), cookies, strict=True):
        for settings, expected in ((old, {}), (new, {"user": user})):
            browser = TestApp(SessionMiddleware(behaviour_app, settings))
            browser.set_cookie("sessionid", cookie)
            assert browser.get("/").json == expected


def test_an_old_secret_key_the_new_settings_do_not_hold_is_refused(
        tmp_path: Path, engine_settings_factory: Any, capsys: pytest.CaptureFixture[str]) -> None:
    old = {**engine_settings_factory("redis"), "SECRET_KEY": "the-old-apps-key-0a9s8d7f6g5h4j3k2l1"}
    new = {**engine_settings_factory("db"), "SESSION_MIGRATE_FROM": old}
    assert main(["migrate", "--to", write_json(tmp_path / "new.json", new)]) == 2
    assert "SECRET_KEY_FALLBACKS" in capsys.readouterr().err
