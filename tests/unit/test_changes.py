"""What a save writes: per-key changes, in-place mutations, deletions."""

from __future__ import annotations

import json

import pytest

from wsgisession import SessionDataError
from wsgisession._changes import after_save, changes, mutated, serialize_all
from wsgisession.serializers import JSONSerializer

dumps = json.dumps


def test_a_list_changed_in_place_is_caught_and_untouched_values_are_not() -> None:
    loaded = {"cart": '["apple"]', "user": '"bob"', "n": "1"}
    data = {"cart": ["apple", "pear"], "user": "bob", "n": 1}
    assert mutated(dumps, data, loaded, dirty=set()) == {"cart": '["apple", "pear"]'}


def test_a_value_set_again_to_what_was_stored_writes_nothing() -> None:
    loaded = {"n": "1", "m": "2"}
    changed, deleted = changes(dumps, {"n": 1, "m": 3}, loaded, dirty={"n", "m"})
    assert changed == {"m": "3"} and deleted == frozenset()


def test_deleted_and_new_keys() -> None:
    changed, deleted = changes(dumps, {"new": [1]}, {"old": "1"}, dirty={"new"})
    assert changed == {"new": "[1]"} and deleted == frozenset({"old"})


def test_unserializable_values_name_their_key() -> None:
    with pytest.raises(SessionDataError, match="'bad'"):
        serialize_all(dumps, {"ok": 1, "bad": object()})


def test_after_save_is_what_the_store_now_holds() -> None:
    assert after_save({"a": "1", "b": "2"}, {"b": "3"}, frozenset({"a"}), replaced=False) == {"b": "3"}
    assert after_save({"a": "1"}, {"c": "4"}, frozenset(), replaced=True) == {"c": "4"}


@pytest.mark.parametrize("value", ["\ud800", ["ok", {"nested": "x\udfff"}], {"\udc80": 1}])
def test_a_lone_surrogate_in_a_value_is_refused_naming_the_key_whatever_the_serializer(value: object) -> None:
    """The JSON serializer keeps non-ASCII text as it is (so the surrogate reaches the store);
    one that escapes it writes text every store can hold, and it goes through."""
    with pytest.raises(SessionDataError, match=r"'profile'.*lone surrogate"):
        serialize_all(JSONSerializer().dumps, {"ok": "fine", "profile": value})
    assert serialize_all(json.dumps, {"profile": value})["profile"].isascii()


def test_a_lone_surrogate_in_a_key_is_refused_and_other_text_is_kept() -> None:
    with pytest.raises(SessionDataError, match="key holds a lone surrogate"):
        changes(dumps, {"\ud800": 1}, {}, dirty={"\ud800"})
    assert changes(dumps, {"café": "😀"}, {}, dirty={"café"})[0] == {"café": json.dumps("😀")}
