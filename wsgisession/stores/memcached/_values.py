"""What the memcached store keeps: record entries, tombstones and locks as bytes, with their expiry.

The layout is :mod:`.memcached`'s. A value this store did not write decodes as
:class:`~.base.CorruptRecord` (:func:`decode`), or as an entry holding nothing
(:func:`decode_or_none`, for writers).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from ..base import CorruptRecord, Record

#: memcached reads an expiry above this many seconds (30 days) as a Unix time.
MAX_RELATIVE_EXPIRY = 30 * 24 * 3600

# The new value of an item and its memcached expiry, or DROP: remove the item.
Write = tuple[bytes, int]
# cas with an expiry in the past removes the item only if nobody changed it: memcached's compare-and-delete.
DROP: Write = (b"", -1)


@dataclass(frozen=True, slots=True)
class Entry:
    """What the record key holds: a record, a tombstone (no record), or both."""

    record: Record | None
    #: The deadline of the tombstone laid on this key, if any (live or not).
    gone_until: float | None = None


def tombstone_deadline(entry: Entry | None, now: float) -> float | None:
    """The deadline of the live tombstone on this key (None: there is none, or it lapsed)."""
    if entry is None or entry.gone_until is None or entry.gone_until <= now:
        return None
    return entry.gone_until


def exptime(at: float, now: float) -> int:
    """memcached's expiry for an item that must live until the Unix time ``at``: never early.

    Seconds from now up to 30 days, a Unix time beyond (memcached reads larger
    numbers so), rounded up. A relative time gets one second more: memcached's
    clock ticks whole seconds and counts from its last tick. A time already past
    gives -1 (expire at once), since 0 means never.
    """
    if at <= now:
        return -1
    seconds = math.ceil(at - now) + 1
    return seconds if seconds <= MAX_RELATIVE_EXPIRY else math.ceil(at)


def encode(record: Record, gone_until: float | None, now: float) -> Write:
    """The record key's value and expiry for ``record``, under the tombstone lasting until ``gone_until`` if any."""
    fields: dict[str, Any] = {"m": record.meta, "e": record.expires_at, "v": record.version, "d": record.data}
    if gone_until is not None:
        fields["g"] = gone_until
    return json.dumps(fields, separators=(",", ":")).encode(), exptime(max(record.expires_at, gone_until or 0), now)


def encode_tombstone(gone_until: float, now: float) -> Write:
    """The record key's value and expiry for a tombstone alone, lasting until ``gone_until``."""
    return json.dumps({"g": gone_until}).encode(), exptime(gone_until, now)


def decode(raw: bytes) -> Entry:
    """The entry in the record key's value; raise :class:`CorruptRecord` for a value this store did not write."""
    try:
        fields = json.loads(raw)
        gone = fields.get("g")
        gone_until = None if gone is None else float(gone)
        if "d" not in fields and gone_until is not None:
            return Entry(None, gone_until)
        data, meta = fields["d"], fields["m"]
        if not (isinstance(data, dict) and isinstance(meta, str) and all(isinstance(v, str) for v in data.values())):
            raise TypeError
        return Entry(Record(data, meta, float(fields["e"]), int(fields["v"])), gone_until)
    except (ValueError, TypeError, KeyError, AttributeError):
        raise CorruptRecord("a memcached session value is not what MemcachedStore writes") from None


def decode_or_none(raw: bytes | None) -> Entry | None:
    """The entry a writer starts from: a value this store cannot read holds neither record nor tombstone."""
    if raw is None:
        return None
    try:
        return decode(raw)
    except CorruptRecord:
        return Entry(None)


def lock_value(token: str, until: float) -> bytes:
    """The lock's value: its holder's token and the lease's deadline (Unix time)."""
    return f"{token} {until!r}".encode()


def lock_holder(held: bytes) -> tuple[str, float]:
    """The token and deadline in a lock's value; one that cannot be read counts as a lapsed lease."""
    try:
        token, until = held.decode("ascii").split(" ")
        return token, float(until)
    except ValueError:
        return "", 0.0
