"""The session object: Django's request.session semantics, on the in-memory store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wsgisession import SessionDataError
from wsgisession._commit import commit, pending_for, wants_to_save
from wsgisession._context import SessionContext
from wsgisession.backends.server_side import StoreBackend
from wsgisession.events import Events
from wsgisession.serializers import JSONSerializer
from wsgisession.session import Session
from wsgisession.settings import Settings
from wsgisession.signing import SessionIdSigner
from wsgisession.stores.memory import MemoryStore

SECRET = "unit-test-secret-key-0123456789abcdef"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def context(store: MemoryStore, clock: Clock) -> SessionContext:
    return SessionContext(Settings.from_mapping({"SECRET_KEY": SECRET}), StoreBackend(store, SessionIdSigner(SECRET)),
                          JSONSerializer(), clock, Events())


def cookie_from(headers: list[tuple[str, str]]) -> str | None:
    for name, value in headers:
        if name == "Set-Cookie":
            return value.split(";")[0]
    return None


def saved_session(context: SessionContext, data: dict[str, object]) -> str:
    """A session saved with ``data``; returns its Cookie header."""
    session = Session(context, None)
    session.update(data)
    cookie = cookie_from(commit(session, 200))
    assert cookie is not None
    return cookie


def test_a_new_session_is_lazy_and_empty(context: SessionContext) -> None:
    session = Session(context, None)
    assert not session.accessed and not session.modified
    assert session.is_empty() and session.session_key is None
    assert session.accessed


def test_mapping_api(context: SessionContext) -> None:
    session = Session(context, saved_session(context, {"a": 1, "b": [1, 2]}))
    assert session["a"] == 1 and session.get("zz") is None and session.get("zz", 5) == 5
    assert "a" in session and session.has_key("b") and len(session) == 2
    assert sorted(session) == ["a", "b"] and sorted(session.keys()) == ["a", "b"]
    assert sorted(session.items()) == [("a", 1), ("b", [1, 2])]
    assert session.setdefault("c", 3) == 3 and session.setdefault("c", 4) == 3
    assert session.pop("c") == 3 and session.pop("c", "gone") == "gone"
    with pytest.raises(KeyError):
        session.pop("c")
    with pytest.raises(KeyError):
        del session["nope"]
    del session["a"]
    assert dict(session) == {"b": [1, 2]}


def test_reading_does_not_modify(context: SessionContext) -> None:
    session = Session(context, saved_session(context, {"a": 1}))
    _ = session["a"], session.get("b"), list(session.items())
    assert session.accessed and not session.modified
    assert not wants_to_save(session)


def test_keys_must_be_strings(context: SessionContext) -> None:
    with pytest.raises(TypeError, match="strings"):
        Session(context, None)[1] = "x"  # type: ignore[index]


def test_data_survives_a_round_trip(context: SessionContext) -> None:
    data = {"user": "bob", "n": 3, "f": 1.5, "ok": True, "none": None, "list": [1, "x"], "nested": {"a": {"b": []}}}
    session = Session(context, saved_session(context, data))
    assert dict(session) == data


def test_changes_inside_a_value_are_saved_without_setting_modified(context: SessionContext) -> None:
    cookie = saved_session(context, {"cart": ["apple"]})
    session = Session(context, cookie)
    session["cart"].append("pear")
    assert not session.modified
    commit(session, 200)
    assert Session(context, cookie)["cart"] == ["apple", "pear"]


def test_only_changed_keys_are_written(context: SessionContext, store: MemoryStore) -> None:
    cookie = saved_session(context, {"a": 1, "b": 2, "c": [3]})
    session = Session(context, cookie)
    session["a"] = 10
    session["b"] = 2  # same value: nothing to write
    del session["c"]
    pending = pending_for(session, context.clock())
    assert pending.changed == {"a": "10"} and pending.deleted == frozenset({"c"}) and not pending.is_new


def test_clear_keeps_the_key(context: SessionContext) -> None:
    cookie = saved_session(context, {"a": 1})
    session = Session(context, cookie)
    key = session.session_key
    session.clear()
    assert len(session) == 0 and session.session_key == key and session.modified
    assert not session.is_empty()
    commit(session, 200)
    assert dict(Session(context, cookie)) == {}


def test_flush_deletes_now_and_a_new_key_is_used_after(context: SessionContext, store: MemoryStore) -> None:
    cookie = saved_session(context, {"user": "bob"})
    session = Session(context, cookie)
    old_key = session.session_key
    session.flush()
    assert store.load(next(iter(store._records), "")) is None  # deleted before the response
    assert session.is_empty() and session.session_key is None
    session["again"] = 1
    new_cookie = cookie_from(commit(session, 200))
    assert new_cookie is not None and old_key not in new_cookie
    assert dict(Session(context, cookie)) == {}


def test_cycle_key_keeps_data_under_a_new_key_and_kills_the_old(context: SessionContext) -> None:
    cookie = saved_session(context, {"user": "bob"})
    session = Session(context, cookie)
    old_key = session.session_key
    session.cycle_key()
    new_key = session.session_key
    assert new_key != old_key and session["user"] == "bob"
    new_cookie = cookie_from(commit(session, 200))
    assert new_cookie is not None and new_cookie.startswith(f"sessionid={new_key}.")
    assert dict(Session(context, new_cookie)) == {"user": "bob"}
    assert dict(Session(context, cookie)) == {}


def test_cycle_key_twice_in_one_request_kills_the_original(context: SessionContext) -> None:
    cookie = saved_session(context, {"user": "bob"})
    session = Session(context, cookie)
    session.cycle_key()
    session.cycle_key()
    new_cookie = cookie_from(commit(session, 200))
    assert dict(Session(context, cookie)) == {}
    assert dict(Session(context, new_cookie)) == {"user": "bob"}


def test_unserializable_data_is_a_clear_error_and_the_store_keeps_the_old_data(context: SessionContext) -> None:
    cookie = saved_session(context, {"a": 1})
    session = Session(context, cookie)
    session["a"] = 2
    session["when"] = object()
    with pytest.raises(SessionDataError, match="'when'"):
        commit(session, 200)
    assert dict(Session(context, cookie)) == {"a": 1}


@pytest.mark.parametrize("value", [float("nan"), {1: "a key that is not a string"}, bytearray(b"bytes"), object()])
def test_values_json_cannot_hold_are_refused(context: SessionContext, value: object) -> None:
    session = Session(context, None)
    session["v"] = value
    with pytest.raises(SessionDataError):
        commit(session, 200)


def test_set_expiry_seconds(context: SessionContext, clock: Clock) -> None:
    session = Session(context, None)
    session.set_expiry(300)
    assert session.modified and session.get_expiry_age() == 300
    assert session.get_expiry_date() == datetime.fromtimestamp(clock.now + 300, UTC)
    assert not session.get_expire_at_browser_close()


def test_set_expiry_zero_and_none(context: SessionContext) -> None:
    session = Session(context, None)
    session.set_expiry(0)
    assert session.get_expire_at_browser_close() and session.get_expiry_age() == 1209600
    session.set_expiry(None)
    assert not session.get_expire_at_browser_close() and session.get_expiry_age() == 1209600


def test_set_expiry_deadline_and_modification_argument(context: SessionContext, clock: Clock) -> None:
    session = Session(context, None)
    session.set_expiry(timedelta(hours=1))
    assert session.get_expiry_age() == 3600
    later = datetime.fromtimestamp(clock.now + 600, UTC)
    assert session.get_expiry_age(modification=later) == 3000
    assert session.get_expiry_age(expiry=120) == 120


def test_expiry_setting_persists_across_requests(context: SessionContext) -> None:
    session = Session(context, None)
    session["a"] = 1
    session.set_expiry(300)
    cookie = cookie_from(commit(session, 200))
    assert Session(context, cookie).get_expiry_age() == 300


def test_inactive_session_expires(context: SessionContext, clock: Clock) -> None:
    session = Session(context, None)
    session["a"] = 1
    session.set_expiry(60)
    cookie = cookie_from(commit(session, 200))
    clock.now += 59
    assert Session(context, cookie)["a"] == 1
    clock.now += 2
    assert dict(Session(context, cookie)) == {}


def test_corrupted_stored_values_read_as_empty_and_are_logged(context: SessionContext, store: MemoryStore,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    cookie = saved_session(context, {"a": 1})
    record_id, record = next(iter(store._records.items()))
    store._records[record_id] = type(record)({"a": "{not json"}, record.meta, record.expires_at)
    session = Session(context, cookie)
    assert dict(session) == {} and session.session_key is None
    assert "could not be decoded" in caplog.text


def test_a_key_the_store_does_not_know_is_never_adopted(context: SessionContext) -> None:
    forged = "sessionid=" + "A" * 43
    session = Session(context, forged)
    session["a"] = 1
    cookie = cookie_from(commit(session, 200))
    assert cookie is not None and "A" * 43 not in cookie


def test_setting_modified_by_hand_saves_as_in_django(context: SessionContext, store: MemoryStore) -> None:
    cookie = saved_session(context, {"a": 1})
    session = Session(context, cookie)
    session["a"]
    session.modified = True
    assert wants_to_save(session)
    assert cookie_from(commit(session, 200)) is not None


def test_created_at_is_kept_by_saves_and_cycle_key_and_reset_by_flush(context: SessionContext, clock: Clock) -> None:
    began = clock.now
    cookie = saved_session(context, {"a": 1})
    clock.now += 100
    session = Session(context, cookie)
    assert session.created_at == began
    session.cycle_key()
    assert session.created_at == began
    session.flush()
    assert session.created_at == clock.now
