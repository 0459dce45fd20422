"""The application's hooks (wsgisession.hooks), on every engine, through the middleware."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import pytest
from webtest import TestApp

from tests.middleware.apps import behaviour_app
from wsgisession import SessionMiddleware
from wsgisession.errors import UnsupportedOperation
from wsgisession.hooks import EVENT_NAMES, Hooks, SessionEvent


def recording() -> tuple[Hooks, list[SessionEvent]]:
    hooks, seen = Hooks(), []
    for name in EVENT_NAMES:
        hooks.on(name, seen.append)
    return hooks, seen


def opaque(key: str) -> str:
    """The id a hook sees for a session key: never the key (which is as good as the cookie)."""
    return hashlib.sha256(key.encode()).hexdigest()


def test_created_rotated_logout_and_expired(engine_id: str, engine_settings: dict[str, Any]) -> None:
    hooks, seen = recording()
    client = TestApp(SessionMiddleware(behaviour_app, engine_settings, hooks=hooks))
    first = client.get("/set?a=1&k=1").json and client.get("/key").json
    assert seen == [SessionEvent("created", opaque(first))]
    client.get("/login?user=ada")  # cycle_key, then set_user
    second = client.get("/key").json
    assert seen[1:] == [SessionEvent("rotated", opaque(second), "ada", previous_id=opaque(first))]
    stale = client.cookies["sessionid"]
    client.get("/flush")
    assert seen[2:] == [SessionEvent("logout", opaque(second))]
    client.set_cookie("sessionid", stale)
    client.get("/get")
    # A server-side store no longer has it; a copied signed cookie cannot be revoked: it still loads.
    expected = [] if engine_id == "signed_cookies" else [SessionEvent("expired", opaque(second))]
    assert seen[3:] == expected
    assert all(secret not in repr(seen) for secret in (first, second, stale))


def test_revoked(engine_id: str, engine_settings: dict[str, Any]) -> None:
    hooks, seen = recording()
    middleware = SessionMiddleware(behaviour_app, engine_settings, hooks=hooks)
    laptop, phone = TestApp(middleware), TestApp(middleware)
    laptop.get("/login?user=ada")
    phone.get("/login?user=ada")
    del seen[:]
    try:
        ended = middleware.delete_user_sessions("ada")
    except UnsupportedOperation:  # no per-user index on this engine: nothing ended, nothing reported
        assert seen == []
        return
    assert ended == 2
    assert seen == [SessionEvent("revoked", user_id="ada", count=2)]


@pytest.mark.parametrize("engine_id", ["redis"])
def test_a_failing_hook_does_not_break_the_request(engine_settings: dict[str, Any],
                                                   caplog: pytest.LogCaptureFixture) -> None:
    hooks, seen = recording()

    def broken(event: SessionEvent) -> None:
        raise RuntimeError("the audit log is down")

    hooks.on("created", broken)
    hooks.on("created", seen.append)  # registered after the broken one: still called
    client = TestApp(SessionMiddleware(behaviour_app, engine_settings, hooks=hooks))
    with caplog.at_level(logging.ERROR, logger="wsgisession"):
        for _ in range(3):
            client.reset()
            assert client.get("/set?a=1").json == {"a": "1"}
    assert [event.name for event in seen] == ["created"] * 6
    assert hooks.failures == 3
    assert len([record for record in caplog.records if "broken" in record.getMessage()]) == 1  # logged once


def test_an_unknown_event_is_refused() -> None:
    with pytest.raises(ValueError, match="'login'"):
        Hooks().on("login", print)  # type: ignore[arg-type]


@pytest.mark.parametrize("engine_id", ["signed_cookies"])
def test_without_hooks_the_sessions_use_the_back_end_itself(engine_settings: dict[str, Any]) -> None:
    middleware = SessionMiddleware(behaviour_app, engine_settings, hooks=Hooks())  # none registered
    assert middleware._context.backend is middleware.backend
