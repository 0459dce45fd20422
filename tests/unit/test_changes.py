"""What a save writes: per-key changes, in-place mutations, deletions."""

from __future__ import annotations

import json

import pytest

from wsgisession import SessionDataError
from wsgisession._changes import after_save, changes, mutated, serialize_all

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
