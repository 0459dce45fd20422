"""``cycle_key()`` racing a logout: the rotation needs the old record, on every server-side engine.

The race is made deterministic: the application itself deletes the old record (as a
logout in another tab would) between ``cycle_key()`` and its response.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from webtest import TestApp

from tests.conftest import STORE_IDS
from wsgisession import SessionMiddleware, get_session
from wsgisession._lifecycle import record_id
from wsgisession.backends.server_side import StoreBackend
from wsgisession.settings import Settings
from wsgisession.stores.base import Change, Record, Retires
from wsgisession.stores.memory import MemoryStore


class OwnStore:
    """A store of the application's own: the three methods of the contract, no ``retire``."""

    def __init__(self, settings: Settings) -> None:
        self._records = MemoryStore()

    def load(self, record_id: str) -> Record | None:
        return self._records.load(record_id)

    def save(self, record_id: str, change: Change) -> bool:
        return self._records.save(record_id, change)

    def delete(self, record_id: str) -> None:
        self._records.delete(record_id)


def rotating_app(logout_meanwhile: Callable[[str], None]) -> Callable[..., Iterable[bytes]]:
    """``/start`` stores a value; ``/login`` rotates the key, and ``?race=1`` logs the old key out meanwhile."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        session = get_session(environ)
        session["user"] = "bob"
        if environ["PATH_INFO"] == "/login":
            old_key = session.session_key
            assert old_key is not None
            session.cycle_key()
            if "race" in environ.get("QUERY_STRING", ""):
                logout_meanwhile(old_key)
            environ["test.new_key"] = session.session_key
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    return app


@pytest.fixture(params=[*STORE_IDS, "own-store"])
def worker(request: pytest.FixtureRequest, engine_settings_factory: Any) -> tuple[TestApp, StoreBackend]:
    """A client of the rotating app and the back end that serves it (also what "another request" uses)."""
    holder: list[SessionMiddleware] = []
    if request.param == "own-store":
        settings = {**engine_settings_factory("cache"), "SESSION_ENGINE": f"{__name__}:OwnStore"}
    else:
        settings = engine_settings_factory(request.param)
    middleware = SessionMiddleware(rotating_app(lambda key: holder[0].backend.delete(key)), settings)
    holder.append(middleware)
    assert isinstance(middleware.backend, StoreBackend)
    assert isinstance(middleware.backend.store, Retires) is (request.param != "own-store")
    return TestApp(middleware), middleware.backend


def test_a_rotation_whose_old_session_was_logged_out_meanwhile_is_dropped(
        worker: tuple[TestApp, StoreBackend], caplog: pytest.LogCaptureFixture) -> None:
    client, backend = worker
    client.get("/start")
    with caplog.at_level(logging.WARNING, logger="wsgisession"):
        response = client.get("/login?race=1")
    new_key = response.request.environ["test.new_key"]
    assert not [h for h in response.headerlist if h[0] == "Set-Cookie"], "no cookie for a dropped session"
    assert backend.store.load(record_id(new_key)) is None, "the logged-out session came back under a new key"
    assert any("deleted by another request" in r.getMessage() for r in caplog.records)
    assert client.get("/whoami").status_code == 200  # the old cookie names nothing: a fresh session


def test_a_rotation_without_a_race_moves_the_session(worker: tuple[TestApp, StoreBackend]) -> None:
    client, backend = worker
    client.get("/start")
    old_cookie = client.cookies["sessionid"]
    response = client.get("/login")
    new_key = response.request.environ["test.new_key"]
    assert client.cookies["sessionid"] != old_cookie
    record = backend.store.load(record_id(new_key))
    assert record is not None and record.data == {"user": '"bob"'}
