"""Pure decisions about a session's life: keys, expiry math, what a response must do.

No I/O here: everything takes ``now`` (Unix time) and returns values, so it is unit
tested without a clock or a store.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

#: A session key: 256 random bits, URL-safe base64 without padding.
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")

#: What ``set_expiry`` stored: seconds of inactivity (0: browser close), an
#: absolute deadline, or None for the global default.
Expiry = int | datetime | None


def new_session_key() -> str:
    """A fresh key of 256 random bits."""
    return secrets.token_urlsafe(32)


def looks_like_key(text: str) -> bool:
    """True if ``text`` has the shape of a key we issue (checked before any store call)."""
    return KEY_PATTERN.fullmatch(text) is not None


# Memoized: a request that saves asks again for the id its load computed.
@functools.lru_cache(maxsize=1024)
def record_id(key: str) -> str:
    """The id a store keeps a session under: a hash, so the store never holds the key."""
    return hashlib.sha256(key.encode("ascii")).hexdigest()


# --- expiry ------------------------------------------------------------------------


def normalize_expiry(value: int | datetime | timedelta | None, now: float) -> Expiry:
    """Validate a ``set_expiry`` argument; a timedelta becomes a deadline, naive datetimes are UTC."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return datetime.fromtimestamp(now, UTC) + value
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, int) and not isinstance(value, bool):  # negative: already expired, as in Django
        return value
    raise TypeError(f"set_expiry takes seconds (an int), a datetime, a timedelta or None, not {value!r}")


def expiry_age(expiry: Expiry, now: float, cookie_age: int, deadline: float | None = None) -> int:
    """Seconds until the session expires, counted from ``now`` (Django's ``get_expiry_age``).

    ``deadline`` is the absolute end of the session (``SESSION_ABSOLUTE_AGE``), if any.
    """
    age = int(expiry.timestamp() - now) if isinstance(expiry, datetime) else expiry or cookie_age
    # Rounded up, so the browser keeps the cookie until the server ends the session.
    return age if deadline is None else min(age, math.ceil(deadline - now))


def expires_at(expiry: Expiry, now: float, cookie_age: int, deadline: float | None = None) -> float:
    """Unix time at which the session dies on the server (no later than ``deadline``)."""
    when = expiry.timestamp() if isinstance(expiry, datetime) else now + (expiry or cookie_age)
    return when if deadline is None else min(when, deadline)


def first_expiry(expires_at: float, now: float, new_ttl: int | None) -> float:
    """When a session created by this request dies unless its cookie comes back (``SESSION_NEW_TTL``)."""
    return expires_at if new_ttl is None else min(expires_at, now + new_ttl)


def awaiting_return(stored_expires_at: float, expiry: Expiry, created_at: float, cookie_age: int,
                    deadline: float | None = None) -> bool:
    """True while a stored session still has the short first expiry ``SESSION_NEW_TTL`` gave it.

    Every later save or touch sets an expiry no earlier than the normal one counted from
    the session's creation; only the first save of a new session sets an earlier one.
    The second of slack absorbs a store's rounding.
    """
    return stored_expires_at + 1 < expires_at(expiry, created_at, cookie_age, deadline)


def lifetime_deadline(expiry: Expiry, created_at: float, lifetime: int) -> float | None:
    """The end of a session that cannot be revoked (a signed cookie) and has no ``SESSION_ABSOLUTE_AGE``.

    ``lifetime`` (``SESSION_COOKIE_AGE``) after it began, or the longer idle age a
    ``set_expiry(seconds)`` asked for; None for a ``set_expiry`` deadline, which never moves.
    """
    if isinstance(expiry, datetime):
        return None
    return created_at + max(expiry or 0, lifetime)


def expire_at_browser_close(expiry: Expiry, default: bool) -> bool:
    """Whether the cookie is a browser-session cookie (Django's ``get_expire_at_browser_close``)."""
    return default if expiry is None else expiry == 0


@dataclass(frozen=True, slots=True)
class Meta:
    """The bookkeeping kept beside a session's data (never shown as session keys)."""

    expiry: Expiry
    created_at: float
    #: The user the session belongs to (``session.set_user``), if any.
    user_id: str | None = None


# Both are memoized: a worker sees the same sessions (and so the same metadata) again and again.
# Keyed by the fields, not a Meta: a dataclass hashes and compares in Python-level methods.
@functools.lru_cache(maxsize=4096)
def encode_meta(expiry: Expiry, created_at: float, user_id: str | None = None) -> str:
    """Serialize the bookkeeping a store keeps beside the data (the fields of a :class:`Meta`)."""
    fields: dict[str, float | int | str] = {"c": created_at}
    if isinstance(expiry, datetime):
        fields["t"] = expiry.timestamp()
    elif expiry is not None:
        fields["a"] = expiry
    if user_id is not None:
        fields["u"] = user_id
    return json.dumps(fields, separators=(",", ":"))


@functools.lru_cache(maxsize=4096)
def decode_meta(text: str) -> Meta:
    """Inverse of :func:`encode_meta`; raise ``ValueError`` on anything else."""
    fields = json.loads(text)
    if not isinstance(fields, dict) or not isinstance(fields.get("c"), (int, float)):
        raise ValueError("session metadata is not an object with a creation time")
    expiry: Expiry = None
    if isinstance(fields.get("t"), (int, float)):
        try:
            expiry = datetime.fromtimestamp(fields["t"], UTC)
        except (OverflowError, OSError) as exc:  # a deadline no calendar holds: corrupted
            raise ValueError(f"session deadline out of range: {exc}") from None
    elif isinstance(fields.get("a"), int) and fields["a"] >= 0:
        expiry = fields["a"]
    user_id = fields.get("u")
    return Meta(expiry, float(fields["c"]), user_id if isinstance(user_id, str) else None)


# --- what the response does ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the middleware does with a session once the app has answered."""

    save: bool = False
    delete_cookie: bool = False
    vary: bool = False


DELETE_COOKIE = Outcome(delete_cookie=True, vary=True)
#: Every outcome that keeps the cookie, by (save, vary): built once, not per request.
_KEEP_COOKIE = {(save, vary): Outcome(save, False, vary) for save in (False, True) for vary in (False, True)}
NOTHING = _KEEP_COOKIE[False, False]


def decide(accessed: bool, wants_save: bool, empty: bool, had_cookie: bool, status: int) -> Outcome:
    """Django's rules: delete an emptied session's cookie, save a changed one unless 5xx.

    ``wants_save`` is "modified, or SESSION_SAVE_EVERY_REQUEST, or a value mutated in place".
    """
    if had_cookie and empty:
        return DELETE_COOKIE
    save = wants_save and not empty and status < 500
    return _KEEP_COOKIE[save, accessed or save]
