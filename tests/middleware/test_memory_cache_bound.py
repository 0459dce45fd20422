"""``memory://`` keeps at most ``max_entries`` sessions (the least recently saved go first: a logout),
and its per-user index forgets every session that is deleted, evicted or swept.

Against the real MemoryStore, through the middleware.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

from tests.conftest import SECRET
from tests.middleware.apps import behaviour_app
from wsgisession import ConfigurationError, SessionMiddleware
from wsgisession.stores.memory import DEFAULT_MAX_ENTRIES, MemoryStore


def cache_app(url: str = "memory://?max_entries=3", **overrides: Any) -> SessionMiddleware:
    settings = {"SESSION_ENGINE": "cache", "SECRET_KEY": SECRET, "SESSION_CACHE_URL": url, **overrides}
    return SessionMiddleware(behaviour_app, settings)


def memory_store(app: SessionMiddleware) -> MemoryStore:
    store = app.backend.store  # type: ignore[attr-defined]
    assert isinstance(store, MemoryStore)
    return store


def indexed_sessions(app: SessionMiddleware) -> dict[str, set[str]]:
    """The store's per-user index, as it holds it (what the tests check is that it does not grow)."""
    return memory_store(app)._users


def test_past_max_entries_the_oldest_session_is_evicted() -> None:
    app = cache_app()
    browsers = [TestApp(app) for _ in range(4)]
    for number, browser in enumerate(browsers):
        browser.get(f"/set?n={number}")
    assert browsers[0].get("/get").json == {}  # evicted: logged out
    assert [browser.get("/get").json for browser in browsers[1:]] == [{"n": "1"}, {"n": "2"}, {"n": "3"}]
    assert len(memory_store(app)._records) == 3


def test_a_session_saved_lately_outlives_an_older_one() -> None:
    app = cache_app()
    first, second, third, fourth = (TestApp(app) for _ in range(4))
    first.get("/set?n=1")
    second.get("/set?n=2")
    third.get("/set?n=3")
    first.get("/set?m=1")  # saved again: now the most recent
    fourth.get("/set?n=4")
    assert first.get("/get").json == {"n": "1", "m": "1"}
    assert second.get("/get").json == {}


def test_a_flood_of_cookieless_writes_stays_within_the_bound() -> None:
    app = cache_app("memory://?max_entries=50")
    for _ in range(200):
        TestApp(app).get("/inc")  # a client that never sends its cookie back
    assert len(memory_store(app)._records) == 50


def test_the_default_bound() -> None:
    assert DEFAULT_MAX_ENTRIES == 10_000
    assert memory_store(cache_app("memory://"))._max_entries == DEFAULT_MAX_ENTRIES


@pytest.mark.parametrize("url", ["memory://?max_entries=0", "memory://?max_entries=many",
                                 "memory://?max_entries=-5", "memory://?max_entry=5",
                                 "memory://?max_entries=1&max_entries=2"])
@pytest.mark.parametrize("engine", ["cache", "cached_db"])
def test_a_bad_max_entries_is_a_configuration_error_naming_the_setting(url: str, engine: str, tmp_path: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"SESSION_CACHE_URL: expected memory:// or memory://\?max_entries="):
        cache_app(url, SESSION_ENGINE=engine, SESSION_DB_URL=f"sqlite:///{tmp_path / 'sessions.sqlite3'}")


def test_the_user_index_forgets_a_flushed_session() -> None:
    app = cache_app()
    browser = TestApp(app)
    browser.get("/login?user=bob")
    assert set(indexed_sessions(app)) == {"bob"}
    browser.get("/flush")
    assert indexed_sessions(app) == {}


def test_the_user_index_forgets_an_evicted_session() -> None:
    app = cache_app("memory://?max_entries=1")
    TestApp(app).get("/login?user=bob")
    TestApp(app).get("/set?n=1")  # evicts bob's session
    assert indexed_sessions(app) == {}
    assert app.user_sessions("bob") == []


def test_the_user_index_forgets_swept_sessions() -> None:
    app = cache_app(SESSION_COOKIE_AGE=60)
    TestApp(app).get("/login?user=bob")
    TestApp(app).get("/login?user=alice")
    assert app.backend.clear_expired(time.time() + 61) == 2
    assert indexed_sessions(app) == {}


def test_a_user_whose_sessions_moved_to_another_user_is_forgotten() -> None:
    app = cache_app()
    browser = TestApp(app)
    browser.get("/login?user=bob")
    browser.get("/login?user=alice")  # cycle_key: bob's old key is deleted, the new one is alice's
    assert set(indexed_sessions(app)) == {"alice"}


def test_for_cached_db_an_eviction_is_only_a_cache_miss(tmp_path: Path) -> None:
    app = cache_app("memory://?max_entries=1", SESSION_ENGINE="cached_db",
                    SESSION_DB_URL=f"sqlite:///{tmp_path / 'sessions.sqlite3'}")
    first, second = TestApp(app), TestApp(app)
    first.get("/set?n=1")
    second.get("/set?n=2")
    assert first.get("/get").json == {"n": "1"}
    assert second.get("/get").json == {"n": "2"}
