"""Security past the peers, on every engine: hashed keys at rest, signed ids, two clocks, caching
headers, per-user index, event counting."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from webtest import TestApp

from tests import servers
from tests.conftest import ENGINE_IDS, SECRET, STORE_IDS
from tests.middleware.apps import behaviour_app
from tests.middleware.conftest import MakeClient
from tests.middleware.test_behaviour import cookie_attributes, session_cookies
from tests.middleware.test_store_traffic import count_redis_commands
from wsgisession import SessionMiddleware, UnsupportedOperation


def stored_text(settings: dict[str, Any], middleware: SessionMiddleware) -> str:
    """Everything the engine under test keeps on its store, as text: names and values."""
    engine = settings["SESSION_ENGINE"]
    parts: list[str] = []
    if "SESSION_REDIS_PREFIX" in settings:
        import redis

        client: Any = redis.Redis.from_url(servers.REDIS_URL, decode_responses=True)
        if settings.get("SESSION_REDIS_CLUSTER") or settings.get("SESSION_REDIS_SENTINELS"):
            client = middleware.backend.store.client  # type: ignore[attr-defined]  # the topology's own servers
        for name in client.scan_iter(match=f"{settings['SESSION_REDIS_PREFIX']}*"):
            kind = client.type(name)
            parts += [str(name), repr(client.hgetall(name) if kind in ("hash", b"hash") else client.dump(name))]
    if settings.get("SESSION_CACHE_URL", "").startswith("memcached://"):
        from tests.memcached_server import memcached_items

        items = memcached_items(settings["SESSION_CACHE_URL"], settings["SESSION_REDIS_PREFIX"])
        parts += [f"{name} {value!r}" for name, value in items.items()]
    if engine in ("db", "cached_db"):
        database = sa.create_engine(settings["SESSION_DB_URL"])
        with database.connect() as connection:
            parts += [repr(row) for row in connection.execute(sa.text(f"SELECT * FROM {settings['SESSION_DB_TABLE']}"))]
        database.dispose()
    if engine == "file":
        for entry in os.scandir(settings["SESSION_FILE_PATH"]):
            parts += [entry.name, Path(entry.path).read_text(errors="replace")]
    if engine == "cache" and settings.get("SESSION_CACHE_URL", "memory://") == "memory://":
        parts.append(repr(middleware.backend.store._records))  # type: ignore[attr-defined]
    assert parts, "nothing found in the store: the test would prove nothing"
    return "\n".join(parts)


@pytest.mark.parametrize("engine_id", STORE_IDS)
def test_the_store_never_holds_the_session_key(engine_settings: dict[str, Any]) -> None:
    middleware = SessionMiddleware(behaviour_app, engine_settings)
    client = TestApp(middleware)
    client.get("/set?secret=value")
    key = client.get("/key").json
    assert isinstance(key, str) and len(key) == 43
    text = stored_text(engine_settings, middleware)
    assert "value" in text and key not in text


def test_a_forged_key_costs_no_store_round_trip(engine_settings_factory: Any) -> None:
    settings = engine_settings_factory("redis")
    middleware = SessionMiddleware(behaviour_app, settings)
    sent = count_redis_commands(middleware.backend.store.client)  # type: ignore[attr-defined]
    forged = "A" * 43 + ".forged-signature"
    response = TestApp(middleware).get("/get", extra_environ={"HTTP_COOKIE": f"sessionid={forged}"})
    assert response.json == {} and sent == []
    assert middleware.event_counts().bad_signatures == 1


def test_bad_signatures_are_logged_on_the_security_logger_and_counted(
        make_client: MakeClient, caplog: pytest.LogCaptureFixture) -> None:
    client = make_client()
    with caplog.at_level(logging.WARNING, logger="wsgisession"):
        for _ in range(3):
            client.get("/get", extra_environ={"HTTP_COOKIE": "sessionid=made-up.value"})
    assert client.app.app.event_counts().bad_signatures == 3
    records = [record for record in caplog.records if "bad signature" in record.getMessage()]
    assert [record.name for record in records] == ["wsgisession.security"]  # one line per burst


def test_a_tampered_cookie_is_refused_every_time_beside_the_genuine_one(make_client: MakeClient) -> None:
    client = make_client()
    client.get("/set?user=bob")
    genuine = client.cookies["sessionid"]
    last = genuine[-1]
    tampered = genuine[:-1] + ("A" if last != "A" else "B")
    for value, expected in [(genuine, {"user": "bob"}), (tampered, {}), (genuine, {"user": "bob"}), (tampered, {})]:
        response = client.get("/get", extra_environ={"HTTP_COOKIE": f"sessionid={value}"})
        assert response.json == expected
    assert client.app.app.event_counts().bad_signatures == 2


@pytest.mark.parametrize("engine_id", [e for e in ENGINE_IDS if e != "cache"])  # memory dies with its middleware
def test_secret_key_rotation_keeps_sessions(engine_settings: dict[str, Any]) -> None:
    old = TestApp(SessionMiddleware(behaviour_app, engine_settings))
    old.get("/set?user=bob")
    cookie = {"HTTP_COOKIE": f"sessionid={old.cookies['sessionid']}"}
    rotated_settings = {**engine_settings, "SECRET_KEY": "the-new-secret-key-0123456789abcdef",
                        "SECRET_KEY_FALLBACKS": [engine_settings["SECRET_KEY"]]}
    rotated = TestApp(SessionMiddleware(behaviour_app, rotated_settings))
    assert rotated.get("/get", extra_environ=cookie).json == {"user": "bob"}
    forgotten_settings = {**engine_settings, "SECRET_KEY": "yet-another-key-0123456789abcdefgh"}
    forgotten = TestApp(SessionMiddleware(behaviour_app, forgotten_settings))
    assert forgotten.get("/get", extra_environ=cookie).json == {}


def test_the_absolute_age_ends_a_session_whatever_the_activity(make_client: MakeClient) -> None:
    now = [time.time()]
    client = make_client(clock=lambda: now[0], SESSION_ABSOLUTE_AGE=100, SESSION_COOKIE_AGE=60,
                         SESSION_TOUCH_INTERVAL=0)
    client.get("/inc")
    for expected in (2, 3, 4):  # active every 30 s: the idle timeout never bites
        now[0] += 30
        assert client.get("/inc").json == {"count": expected}
    [header] = session_cookies(client.get("/get"))
    assert cookie_attributes(header)["max-age"] == "10"  # capped by the 10 s left
    now[0] += 11
    assert client.get("/get").json == {}


def test_cycle_key_keeps_the_absolute_deadline(make_client: MakeClient) -> None:
    now = [time.time()]
    client = make_client(clock=lambda: now[0], SESSION_ABSOLUTE_AGE=100)
    client.get("/inc")
    now[0] += 90
    client.get("/cycle")  # a login late in the session does not buy a new lifetime
    now[0] += 11
    assert client.get("/get").json == {}


@pytest.mark.parametrize(("app_header", "expected"), [
    (None, "private"),
    ("public, max-age=60", "private, max-age=60"),
    ("max-age=60, s-maxage=600", "private, max-age=60"),
    ("no-store", "no-store"),
    ("private, max-age=5", "private, max-age=5"),
])
def test_responses_that_set_the_cookie_are_private(app_header: str | None, expected: str) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        from wsgisession import get_session

        get_session(environ)["x"] = 1
        start_response("200 OK", [("Cache-Control", app_header)] if app_header else [])
        return [b""]

    response = TestApp(SessionMiddleware(app, {"SECRET_KEY": SECRET, "SESSION_ENGINE": "signed_cookies"})).get("/")
    assert response.headers.getall("Cache-Control") == [expected]
    assert response.headers["Vary"] == "Cookie"


def test_caching_headers_on_every_response_shape(client: TestApp) -> None:
    untouched = client.get("/untouched")
    assert "Vary" not in untouched.headers and "Cache-Control" not in untouched.headers
    created = client.get("/inc")
    assert created.headers["Vary"] == "Cookie" and created.headers["Cache-Control"] == "private"
    read = client.get("/get")
    assert read.headers["Vary"] == "Cookie" and "Cache-Control" not in read.headers
    deleted = client.get("/flush")
    assert deleted.headers["Vary"] == "Cookie" and deleted.headers["Cache-Control"] == "private"
    assert "Cache-Control" not in client.get("/untouched").headers


@pytest.mark.parametrize("engine_id", ["cache", "redis", "db", "db-postgres", "db-mariadb", "cached_db"])
def test_log_out_everywhere_else(engine_settings: dict[str, Any]) -> None:
    middleware = SessionMiddleware(behaviour_app, engine_settings)
    laptop, phone, tablet, other_user = (TestApp(middleware) for _ in range(4))
    for device in (laptop, phone, tablet):
        device.get("/login?user=alice")
    other_user.get("/login?user=bob")
    assert len(middleware.user_sessions("alice")) == 3
    assert laptop.get("/logout-elsewhere").json == 2
    assert laptop.get("/get").json == {}  # still logged in (no data stored), session kept
    assert laptop.get("/key").json is not None
    assert phone.get("/get").json == {} and phone.get("/key").json is None
    assert len(middleware.user_sessions("alice")) == 1
    assert len(middleware.user_sessions("bob")) == 1
    assert middleware.delete_user_sessions("alice") == 1  # from an admin tool: everywhere
    assert laptop.get("/key").json is None


@pytest.mark.parametrize("engine_id", ["file", "signed_cookies"])
def test_engines_without_a_user_index_say_so(engine_settings: dict[str, Any]) -> None:
    middleware = SessionMiddleware(behaviour_app, engine_settings)
    TestApp(middleware).get("/login?user=alice")
    with pytest.raises(UnsupportedOperation, match="keeps no index"):
        middleware.user_sessions("alice")
