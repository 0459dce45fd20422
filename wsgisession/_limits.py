"""``SESSION_MAX_SIZE``: how large a save leaves a session, and its refusal. Pure functions, no I/O.

The size is that of the session's data as the serializer writes it: the sum, over its
keys, of the key's and the serialized value's length in UTF-8 bytes. It is the same on
every engine, whatever a store adds around it (JSON punctuation, hash fields, metadata,
a signed cookie's base64), so a session refused on one engine is refused on all.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping

from ._changes import after_save
from .errors import SessionTooLargeError

#: How many of the largest keys the error names.
LARGEST_SHOWN = 3
#: The most UTF-8 bytes one character takes: a bound computed from lengths alone.
_MAX_BYTES_PER_CHAR = 4


def utf8_size(text: str) -> int:
    """Bytes of ``text`` in UTF-8 (``len`` for ASCII, which CPython knows without scanning)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def check_size(limit: int | None, loaded: Mapping[str, str] | None, changed: Mapping[str, str],
               deleted: frozenset[str], replaced: bool) -> None:
    """Raise :class:`SessionTooLargeError` if the save of ``changed``/``deleted`` leaves over ``limit`` bytes.

    ``loaded`` is what the store holds (serialized, as the session loaded it: its snapshot),
    ``replaced`` says the save writes the whole session (a new key). Unchanged values are
    measured from their loaded text, never serialized again.
    """
    if limit is None:
        return
    # A bound from lengths alone, summed in C: the exact count only for a session near the limit.
    chars = _chars(changed) + (0 if replaced or loaded is None else _chars(loaded))
    if chars * _MAX_BYTES_PER_CHAR <= limit:
        return
    sizes = key_sizes(after_save(loaded or {}, changed, deleted, replaced or loaded is None))
    total = sum(sizes.values())
    if total > limit:
        raise SessionTooLargeError(total, limit, largest(sizes))


def key_sizes(data: Mapping[str, str]) -> dict[str, int]:
    """Each key's share of the size: its own bytes and its serialized value's."""
    return {key: utf8_size(key) + utf8_size(text) for key, text in data.items()}


def largest(sizes: Mapping[str, int], count: int = LARGEST_SHOWN) -> list[tuple[str, int]]:
    """The ``count`` largest keys with their sizes, largest first."""
    return heapq.nlargest(count, sizes.items(), key=lambda item: item[1])


def _chars(data: Mapping[str, str]) -> int:
    return sum(map(len, data)) + sum(map(len, data.values()))
