"""Django's signed session data, as Django's own signer writes it, read as strictly as Django reads it."""

from __future__ import annotations

import pickle
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from django.core import signing
from webtest import TestApp

from tests.conftest import SECRET
from tests.middleware.apps import behaviour_app
from wsgisession import SessionMiddleware, _b64
from wsgisession.backends import Loaded, Rejected
from wsgisession.migration.django import SALT, DjangoDbSessions, DjangoSignature, django_expiry
from wsgisession.serializers import JSONSerializer

KEY = "django-project-key-7sdf9823hjkKJH2398sdfjk23"
OLD_KEY = "django-older-key-1234567890qwertyuiopasdf"


def django_dumps(value: Any, key: str = KEY, compress: bool = True) -> str:
    """What Django's SessionBase.encode writes (signing.dumps, JSONSerializer)."""
    signer = signing.TimestampSigner(key=key, salt=SALT, fallback_keys=[])
    return signer.sign_object(value, serializer=signing.JSONSerializer, compress=compress)


@pytest.mark.parametrize("compress", [True, False])
def test_django_s_own_data_reads_back(compress: bool) -> None:
    value = {"_auth_user_id": "7", "cart": ["book"] * 50, "name": "Zoë"}
    assert DjangoSignature((KEY,)).loads(django_dumps(value, compress=compress)) == value


def test_a_fallback_key_verifies() -> None:
    assert DjangoSignature((KEY, OLD_KEY)).loads(django_dumps({"a": 1}, OLD_KEY)) == {"a": 1}


@pytest.mark.parametrize("signed", [
    django_dumps({"a": 1}, OLD_KEY),  # another key
    django_dumps({"a": 1}).replace(":", ";", 1),  # tampered
    django_dumps({"a": 1})[:-1],  # truncated signature
    "no signature at all",
    "Zoë:abc:def",
])
def test_anything_but_a_valid_signature_is_refused(signed: str) -> None:
    with pytest.raises(ValueError):
        DjangoSignature((KEY,)).loads(signed)


def test_the_salt_of_another_use_of_the_key_is_refused() -> None:
    signed = signing.TimestampSigner(key=KEY, salt="django.contrib.sessions.backends.signed_cookies",
                                     fallback_keys=[]).sign_object({"a": 1}, compress=True)
    with pytest.raises(ValueError):
        DjangoSignature((KEY,)).loads(signed)


def test_pickled_data_is_never_unpickled() -> None:
    class Pickler:
        def dumps(self, value: Any) -> bytes:
            return pickle.dumps(value)

    signed = signing.TimestampSigner(key=KEY, salt=SALT, fallback_keys=[]).sign_object({"a": 1}, serializer=Pickler)
    with pytest.raises(ValueError):
        DjangoSignature((KEY,)).loads(signed)


def test_a_signed_zip_bomb_is_refused_before_it_inflates() -> None:
    bomb = "." + _b64.encode(zlib.compress(b'"' + b"a" * (8 << 20) + b'"')).decode()
    signer = signing.TimestampSigner(key=KEY, salt=SALT, fallback_keys=[])
    with pytest.raises(ValueError):
        DjangoSignature((KEY,)).loads(signer.sign(bomb))


def test_django_s_expiry_values() -> None:
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert django_expiry(None) is None
    assert django_expiry(0) == 0
    assert django_expiry(3600) == 3600
    assert django_expiry(when.isoformat()) == when
    assert django_expiry("2030-01-02T03:04:05") == when  # USE_TZ = False: naive, read as UTC
    with pytest.raises(ValueError):
        django_expiry([1])


@pytest.fixture
def django_table(tmp_path: Path) -> Iterator[DjangoDbSessions]:
    """A django_session table in a SQLite file, as Django's migration creates it."""
    url = f"sqlite:///{tmp_path / 'django.sqlite3'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE django_session (session_key varchar(40) PRIMARY KEY,"
                                   " session_data text NOT NULL, expire_date datetime NOT NULL)"))
    engine.dispose()
    sessions = DjangoDbSessions(url, "django_session", (KEY,), JSONSerializer())
    yield sessions
    sessions.close()


def add_row(sessions: DjangoDbSessions, key: str, data: str, expires: datetime) -> None:
    with sessions.engine.begin() as connection:
        connection.execute(sa.insert(sessions.table).values(session_key=key, session_data=data, expire_date=expires))


def test_a_live_row_loads_with_its_expiry_and_an_expired_one_does_not(django_table: DjangoDbSessions) -> None:
    now = datetime.now(UTC)
    add_row(django_table, "a" * 32, django_dumps({"user": "alice", "_session_expiry": 0}), now + timedelta(days=1))
    add_row(django_table, "b" * 32, django_dumps({"user": "bob"}), now - timedelta(seconds=1))

    loaded = django_table.load("a" * 32, now.timestamp())
    assert isinstance(loaded, Loaded)
    assert (loaded.key, loaded.data, loaded.expiry) == ("a" * 32, {"user": '"alice"'}, 0)
    assert django_table.load("b" * 32, now.timestamp()) is Rejected.MISSING
    assert django_table.load("c" * 32, now.timestamp()) is Rejected.MISSING


def test_a_row_signed_with_another_key_is_undecodable(django_table: DjangoDbSessions) -> None:
    now = datetime.now(UTC)
    add_row(django_table, "a" * 32, django_dumps({"user": "alice"}, OLD_KEY), now + timedelta(days=1))
    assert django_table.load("a" * 32, now.timestamp()) is Rejected.UNDECODABLE


@pytest.mark.parametrize("cookie", ["A" * 32, "short", "a" * 41, "../" * 11, "a" * 31 + "é", ""])
def test_a_cookie_not_shaped_like_django_s_keys_costs_no_query(django_table: DjangoDbSessions, cookie: str) -> None:
    django_table.engine.dispose()
    django_table.engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # would fail if asked
    assert django_table.load(cookie, 0.0) is Rejected.BAD_SIGNATURE


def test_the_key_is_deleted(django_table: DjangoDbSessions) -> None:
    add_row(django_table, "a" * 32, django_dumps({"user": "alice"}), datetime.now(UTC) + timedelta(days=1))
    django_table.delete("a" * 32)
    assert django_table.load("a" * 32, 0.0) is Rejected.MISSING


def test_a_django_session_ending_with_the_browser_still_does_after_the_move(django_table: DjangoDbSessions,
                                                                           tmp_path: Path) -> None:
    add_row(django_table, "a" * 32, django_dumps({"user": "alice", "_session_expiry": 0}),
            datetime.now(UTC) + timedelta(days=1))
    app = TestApp(SessionMiddleware(behaviour_app, {
        "SECRET_KEY": SECRET, "SESSION_ENGINE": "file", "SESSION_FILE_PATH": str(tmp_path),
        "SESSION_MIGRATE_FROM": {"SESSION_ENGINE": "django.contrib.sessions.backends.db",
                                 "SESSION_DB_URL": str(django_table.engine.url), "SECRET_KEY": KEY}}))
    app.set_cookie("sessionid", "a" * 32)
    response = app.get("/")
    assert response.json == {"user": "alice"}
    assert "Max-Age" not in response.headers["Set-Cookie"]
