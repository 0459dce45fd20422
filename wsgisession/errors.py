"""The exceptions wsgisession raises: one tree under :class:`WSGISessionError`."""

from __future__ import annotations

from dataclasses import dataclass


class WSGISessionError(Exception):
    """Base class of every error this package raises."""


@dataclass(frozen=True)
class SettingProblem:
    """One thing wrong with the settings dict."""

    #: The settings key the problem is about.
    key: str
    #: What the key should hold, in words.
    expected: str
    #: ``repr`` of what it held (never the value of a secret).
    received: str
    #: The closest valid key, for a key that looks like a typo.
    suggestion: str | None = None

    def __str__(self) -> str:
        text = f"{self.key}: expected {self.expected}, got {self.received}"
        if self.suggestion:
            text += f" (did you mean {self.suggestion}?)"
        return text


class ConfigurationError(WSGISessionError, ValueError):
    """The settings are wrong; raised when the middleware is built.

    Every problem found is listed at once in :attr:`problems`.
    """

    def __init__(self, problems: list[SettingProblem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid wsgisession settings:\n{lines}")


class StoreError(WSGISessionError):
    """The session store failed (unreachable, refused, out of space).

    Raised ``from`` the store's own exception. Missing or expired sessions are
    never a ``StoreError``: they read as an empty session.
    """

    def __init__(self, store: str, operation: str, detail: str) -> None:
        self.store = store
        self.operation = operation
        super().__init__(f"session store {store!r} failed to {operation}: {detail}")


class LockTimeoutError(StoreError):
    """``SESSION_LOCKING``: another request held the session longer than ``SESSION_LOCK_TIMEOUT``."""

    def __init__(self, store: str, waited: float) -> None:
        super().__init__(store, "lock the session", f"another request held it for more than {waited:g} s")


class LockLostError(StoreError):
    """``SESSION_LOCKING``: the request's lock on its session ran out before the save; nothing was saved."""

    def __init__(self, store: str) -> None:
        super().__init__(store, "save under the session lock",
                         "the lock expired (the request outlived SESSION_LOCK_TIMEOUT); nothing was saved")


class SessionDataError(WSGISessionError, TypeError):
    """A session value cannot be serialized; nothing was written."""

    def __init__(self, key: str, detail: str) -> None:
        self.key = key
        super().__init__(f"session value for key {key!r} cannot be saved: {detail}")


class CookieTooLargeError(WSGISessionError, ValueError):
    """The session cookie would exceed what browsers keep, or carry more data than a signed cookie may; nothing sent."""

    def __init__(self, size: int, limit: int,
                 message: str = "the session cookie would be {size} bytes, over the browser limit of {limit}") -> None:
        self.size = size
        self.limit = limit
        advice = "store less in the session or use a server-side engine"
        super().__init__(f"{message.format(size=size, limit=limit)}: {advice}")


class UnsupportedOperation(WSGISessionError):
    """The configured engine cannot do this (for example, no per-user index of sessions)."""


class MiddlewareMissingError(WSGISessionError, LookupError):
    """``get_session`` was called on an environ the middleware never saw."""
