"""The content of a session file: compact JSON holding a record and its session lock, if any."""

from __future__ import annotations

import json
import time
from typing import Any, NamedTuple

from ..base import Record

_PLAIN_KEYS = frozenset({"m", "e", "v", "d"})
_LEASED_KEYS = _PLAIN_KEYS | {"lt", "lx"}
# Built once: json.dumps and json.loads build a new coder on every call given options or bytes.
_encoder = json.JSONEncoder(separators=(",", ":"))
_decoder = json.JSONDecoder()


class Corrupt(ValueError):
    """A session file that is not JSON of the expected shape."""


class Lease(NamedTuple):
    token: str
    #: Unix time (``time.time()``), not a monotonic clock: other processes, and
    #: other machines sharing the folder, must read the same deadline.
    deadline: float


class Stored(NamedTuple):
    """The content of one session file: the record and the session lock on it, if any."""

    record: Record
    lease: Lease | None


#: What a save that creates a session builds on.
NOTHING = Stored(Record({}, "", 0.0, 0), None)


def decode(raw: bytes) -> Stored:
    """The content of a session file; :class:`Corrupt` if it is malformed."""
    try:
        content = _decoder.decode(raw.decode("utf-8"))
    except ValueError as exc:  # also UnicodeDecodeError
        raise Corrupt("not JSON") from exc
    if not isinstance(content, dict) or (content.keys() != _PLAIN_KEYS and content.keys() != _LEASED_KEYS):
        raise Corrupt("not a session object")
    meta, expires_at, version, data = content["m"], content["e"], content["v"], content["d"]
    if (not isinstance(meta, str) or not _is_number(expires_at)
            or isinstance(version, bool) or not isinstance(version, int) or not isinstance(data, dict)
            or not all(isinstance(value, str) for value in data.values())):
        raise Corrupt("unexpected field types")
    lease = None
    if "lt" in content:
        if not isinstance(content["lt"], str) or not _is_number(content["lx"]):
            raise Corrupt("unexpected lease types")
        lease = Lease(content["lt"], float(content["lx"]))
    return Stored(Record(data, meta, float(expires_at), version), lease)


def encode(record: Record, lease: Lease | None) -> bytes:
    content: dict[str, Any] = {"m": record.meta, "e": record.expires_at, "v": record.version, "d": record.data}
    if lease is not None:
        content.update(lt=lease.token, lx=lease.deadline)
    return _encoder.encode(content).encode("ascii")


def holds(stored: Stored | None, token: str) -> bool:
    """Whether ``token`` holds the unexpired lease of ``stored``."""
    lease = stored.lease if stored is not None else None
    return lease is not None and lease.token == token and lease.deadline > time.time()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
