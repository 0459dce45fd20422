"""BoundedMemo: bounded by entries and by bytes, the oldest evicted first."""

from __future__ import annotations

from wsgisession.backends._memo import BoundedMemo


def sized(max_entries: int = 3, max_bytes: int = 1600) -> BoundedMemo[int]:
    return BoundedMemo(max_entries, max_bytes, lambda key, value: value)  # an entry weighs its value


def test_past_max_entries_the_oldest_is_evicted() -> None:
    memo = sized()
    for key in "abcd":
        memo.add(key, 10)
    assert [memo.get(key) for key in "abcd"] == [None, 10, 10, 10]
    assert (len(memo), memo.bytes()) == (3, 30)


def test_past_max_bytes_the_oldest_are_evicted() -> None:
    memo = sized(max_entries=100, max_bytes=3200)
    for number in range(20):  # 20 x 200 bytes = 4,000
        memo.add(str(number), 200)
    assert [memo.get(str(number)) for number in range(5)] == [None, None, None, None, 200]
    assert (len(memo), memo.bytes()) == (16, 3200)


def test_an_entry_over_a_sixteenth_of_the_budget_is_not_kept() -> None:
    memo = sized(max_bytes=1600)
    memo.add("heavy", 101)
    assert memo.get("heavy") is None and memo.bytes() == 0


def test_cache_clear_forgets_everything() -> None:
    memo = sized()
    memo.add("a", 10)
    memo.cache_clear()
    assert (memo.get("a"), len(memo), memo.bytes()) == (None, 0, 0)
