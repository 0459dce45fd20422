"""Pure decisions: keys, expiry math (Django's semantics), what a response does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from wsgisession import _lifecycle as lc

NOW = 1_800_000_000.0
AGE = 1209600


def test_keys_have_256_bits_and_the_issued_shape() -> None:
    keys = {lc.new_session_key() for _ in range(200)}
    assert len(keys) == 200
    assert all(lc.looks_like_key(key) and len(key) == 43 for key in keys)


@pytest.mark.parametrize("text", ["", "abc", "../" * 15, "a" * 42, "a" * 44, "a" * 42 + "/", "ä" * 43, "a" * 42 + "\0"])
def test_foreign_shapes_are_not_keys(text: str) -> None:
    assert not lc.looks_like_key(text)


def test_record_id_is_a_hash_not_the_key() -> None:
    key = lc.new_session_key()
    assert key not in lc.record_id(key)
    assert len(lc.record_id(key)) == 64
    assert lc.record_id(key) == lc.record_id(key)


def test_default_expiry_is_the_cookie_age() -> None:
    assert lc.expiry_age(None, NOW, AGE) == AGE
    assert lc.expires_at(None, NOW, AGE) == NOW + AGE
    assert lc.expire_at_browser_close(None, False) is False
    assert lc.expire_at_browser_close(None, True) is True


def test_seconds_of_inactivity() -> None:
    assert lc.expiry_age(300, NOW, AGE) == 300
    assert lc.expires_at(300, NOW, AGE) == NOW + 300
    assert lc.expire_at_browser_close(300, True) is False


def test_zero_means_browser_close_and_the_server_keeps_the_default_age() -> None:
    assert lc.expire_at_browser_close(0, False) is True
    assert lc.expiry_age(0, NOW, AGE) == AGE
    assert lc.expires_at(0, NOW, AGE) == NOW + AGE


def test_timedelta_becomes_a_deadline() -> None:
    expiry = lc.normalize_expiry(timedelta(hours=1), NOW)
    assert isinstance(expiry, datetime)
    assert lc.expires_at(expiry, NOW, AGE) == NOW + 3600
    assert lc.expiry_age(expiry, NOW + 600, AGE) == 3000


def test_naive_datetime_is_utc_and_aware_one_is_kept() -> None:
    naive = datetime(2027, 1, 1, 12, 0)
    assert lc.normalize_expiry(naive, NOW) == datetime(2027, 1, 1, 12, 0, tzinfo=UTC)
    aware = datetime(2027, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert lc.normalize_expiry(aware, NOW) == aware


@pytest.mark.parametrize("value", [1.5, "300", True])
def test_bad_expiry_values_are_refused(value: object) -> None:
    with pytest.raises(TypeError, match="set_expiry"):
        lc.normalize_expiry(value, NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize("expiry", [None, 0, 300, datetime(2027, 5, 1, tzinfo=UTC)])
def test_meta_round_trips(expiry: lc.Expiry) -> None:
    for user_id in (None, "alice", "ünïcode {user}"):
        meta = lc.Meta(expiry, NOW, user_id)
        assert lc.decode_meta(lc.encode_meta(expiry, NOW, user_id)) == meta


@pytest.mark.parametrize("text", ["", "[]", '{"a":1}', "not json", '{"c":"x"}'])
def test_bad_meta_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        lc.decode_meta(text)


def test_untouched_session_does_nothing() -> None:
    assert lc.decide(accessed=False, wants_save=False, empty=False, had_cookie=True, status=200) == lc.NOTHING


def test_read_only_session_varies_but_saves_nothing() -> None:
    assert lc.decide(accessed=True, wants_save=False, empty=False, had_cookie=True, status=200) == lc.Outcome(vary=True)


def test_changed_session_is_saved() -> None:
    outcome = lc.decide(accessed=True, wants_save=True, empty=False, had_cookie=False, status=302)
    assert outcome == lc.Outcome(save=True, vary=True)


def test_server_errors_save_nothing() -> None:
    outcome = lc.decide(accessed=True, wants_save=True, empty=False, had_cookie=True, status=503)
    assert outcome == lc.Outcome(vary=True)


def test_emptied_session_deletes_the_cookie_even_on_errors() -> None:
    for status in (200, 500):
        outcome = lc.decide(accessed=True, wants_save=True, empty=True, had_cookie=True, status=status)
        assert outcome == lc.Outcome(delete_cookie=True, vary=True)


def test_empty_new_session_sends_nothing_to_delete() -> None:
    outcome = lc.decide(accessed=True, wants_save=True, empty=True, had_cookie=False, status=200)
    assert outcome == lc.Outcome(vary=True)
