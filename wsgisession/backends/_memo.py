"""What a worker remembers of the cookies it checked: a bounded memo, and an ``lru_cache`` of checks."""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

_Value = TypeVar("_Value")


class BoundedMemo(Generic[_Value]):
    """Cookie value -> what reading it gave, for at most ``max_entries`` values weighing ``max_bytes`` in all.

    ``weigh(key, value)`` estimates the bytes an entry pins; it is called once, when the
    entry is added. The oldest entries are evicted first; an entry heavier than a
    sixteenth of ``max_bytes`` is not kept (it would evict many others). Refusals are
    never added: a forged value is checked every time and cannot crowd out genuine ones.
    Thread-safe: a lookup is one dict read; additions take a lock.
    """

    def __init__(self, max_entries: int, max_bytes: int, weigh: Callable[[str, _Value], int]) -> None:
        self._values: dict[str, _Value] = {}
        self._sizes: OrderedDict[str, int] = OrderedDict()  # insertion order: the oldest first
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._weigh = weigh
        self._lock = threading.Lock()
        self._bytes = 0
        #: The remembered value for a key, or None (``dict.get``: no Python frame on the hot path).
        self.get: Callable[[str], _Value | None] = self._values.get

    def add(self, key: str, value: _Value) -> None:
        """Remember ``value`` for ``key``, evicting the oldest entries past either bound."""
        size = self._weigh(key, value)
        if size > self._max_bytes // 16:
            return
        with self._lock:
            if key in self._sizes:
                return
            self._values[key], self._sizes[key] = value, size
            self._bytes += size
            while len(self._sizes) > self._max_entries or self._bytes > self._max_bytes:
                oldest, oldest_size = self._sizes.popitem(last=False)
                del self._values[oldest]
                self._bytes -= oldest_size

    def bytes(self) -> int:
        """What the remembered entries weigh, by ``weigh``."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._sizes)

    def cache_clear(self) -> None:
        """Forget every entry (spelled as ``functools.lru_cache``'s, so a tool clears either)."""
        with self._lock:
            self._values.clear()
            self._sizes.clear()
            self._bytes = 0


_Read = TypeVar("_Read")


def remember_accepted(read: Callable[[str], _Read], size: int) -> Callable[[str], _Read]:
    """``read`` (a cookie value's check), memoized for the last ``size`` values it accepted.

    A browser sends the same cookie until it is given another, so each value is checked
    once per worker, not per request. A refusal is raised (:class:`~.contract.RefusedCookie`),
    and ``lru_cache`` keeps no exceptions: a forged value is checked, refused and counted every
    time, and cannot crowd out the genuine ones. A hit matches the whole value by its
    (randomized) hash, so it tells a guesser nothing about a signature.
    """
    return functools.lru_cache(maxsize=size)(read)
