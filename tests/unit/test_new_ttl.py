"""SESSION_NEW_TTL's decisions (wsgisession._lifecycle): the first expiry, and whether a record still has it."""

from __future__ import annotations

from datetime import UTC, datetime

from wsgisession._lifecycle import awaiting_return, first_expiry

NOW = 1_800_000_000.0
AGE = 3600


def test_off_the_first_expiry_is_the_normal_one() -> None:
    assert first_expiry(NOW + AGE, NOW, None) == NOW + AGE


def test_on_the_first_expiry_is_new_ttl_unless_the_normal_one_is_sooner() -> None:
    assert first_expiry(NOW + AGE, NOW, 300) == NOW + 300
    assert first_expiry(NOW + 60, NOW, 300) == NOW + 60  # set_expiry(60): NEW_TTL never lengthens a session


def test_a_record_on_its_first_expiry_is_awaiting_return() -> None:
    created = NOW - 10
    assert awaiting_return(created + 300, None, created, AGE)


def test_a_record_saved_or_touched_since_is_not() -> None:
    created = NOW - 10
    assert not awaiting_return(created + AGE, None, created, AGE)
    assert not awaiting_return(NOW + AGE, None, created, AGE)
    assert not awaiting_return(created + AGE - 0.5, None, created, AGE)  # a store's rounding


def test_a_short_idle_expiry_is_never_awaiting_return() -> None:
    created = NOW - 10
    assert not awaiting_return(created + 60, 60, created, AGE)


def test_a_deadline_counts_as_the_normal_expiry() -> None:
    deadline = datetime.fromtimestamp(NOW + 7 * AGE, UTC)
    assert awaiting_return(NOW + 300, deadline, NOW, AGE)
    assert not awaiting_return(deadline.timestamp(), deadline, NOW, AGE)


def test_an_absolute_age_bounds_the_normal_expiry() -> None:
    assert not awaiting_return(NOW + 300, None, NOW, AGE, deadline=NOW + 300)
