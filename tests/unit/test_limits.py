"""SESSION_MAX_SIZE's arithmetic (wsgisession._limits): what a save leaves, measured without serializing again."""

from __future__ import annotations

import pytest

from wsgisession import SessionDataError, SessionTooLargeError
from wsgisession._limits import check_size, largest, utf8_size

NONE: frozenset[str] = frozenset()


def test_the_size_is_counted_in_utf8_bytes() -> None:
    assert utf8_size("abc") == 3
    assert utf8_size('"café"') == 7
    assert utf8_size("\U0001f600") == 4


def test_no_limit_checks_nothing() -> None:
    check_size(None, None, {"big": "x" * 10_000_000}, NONE, True)


def test_a_new_session_is_measured_whole() -> None:
    check_size(100, None, {"a": "x" * 99}, NONE, True)  # 1 + 99 bytes: at the limit
    with pytest.raises(SessionTooLargeError) as refused:
        check_size(100, None, {"a": "x" * 100}, NONE, True)
    assert (refused.value.size, refused.value.limit) == (101, 100)


def test_a_per_key_save_counts_what_the_store_already_holds() -> None:
    loaded = {"a": "x" * 60}
    with pytest.raises(SessionTooLargeError):
        check_size(100, loaded, {"b": "y" * 40}, NONE, False)  # 61 + 41 bytes


def test_a_value_replaced_or_deleted_no_longer_counts() -> None:
    loaded = {"a": "x" * 60, "b": "y" * 30}
    check_size(100, loaded, {"a": "z" * 60}, NONE, False)  # replaced, not added: 61 + 31
    check_size(100, loaded, {"c": "z" * 60}, frozenset({"a"}), False)  # 31 + 61
    check_size(100, loaded, {"c": "z" * 60}, NONE, True)  # a new key: the loaded values are not written


def test_multibyte_text_counts_its_bytes_not_its_characters() -> None:
    check_size(100, None, {"a": "é" * 49}, NONE, True)  # 1 + 98
    with pytest.raises(SessionTooLargeError):
        check_size(100, None, {"a": "é" * 50}, NONE, True)  # 1 + 100


def test_the_error_names_the_three_largest_keys_with_their_sizes_and_no_value() -> None:
    data = {"small": "s" * 10, "cart": "c" * 500, "history": "h" * 300, "avatar": "a" * 400}
    with pytest.raises(SessionDataError) as refused:
        check_size(1000, None, data, NONE, True)
    error = refused.value
    assert isinstance(error, SessionTooLargeError) and error.key == "cart"
    assert error.largest == [("cart", 504), ("avatar", 406), ("history", 307)]
    message = str(error)
    assert "'cart' (504 bytes)" in message and "'avatar' (406 bytes)" in message and "'history'" in message
    assert "small" not in message and "ccc" not in message and "SESSION_MAX_SIZE (1,000)" in message


def test_a_long_key_is_shortened_in_the_message() -> None:
    key = "k" * 5000
    with pytest.raises(SessionTooLargeError) as refused:
        check_size(100, None, {key: "1"}, NONE, True)
    assert len(str(refused.value)) < 300 and refused.value.key == key


def test_largest_orders_by_size() -> None:
    assert largest({"a": 1, "b": 3, "c": 2, "d": 0}) == [("b", 3), ("c", 2), ("a", 1)]
