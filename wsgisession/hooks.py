"""Hooks: the application's own functions, called when a session begins, changes key or ends.

Register them on a :class:`Hooks` and hand it to the middleware
(``SessionMiddleware(app, settings, hooks=hooks)``). A hook gets one :class:`SessionEvent`,
which holds the opaque id of the session (the id :meth:`SessionMiddleware.user_sessions`
lists, a hash of the key: it cannot be turned into a cookie) and the user id where known;
never the key, a cookie value or the data.

A hook runs in the request, in the thread that caused the event (so keep it short). One that
raises does not break the request: the first failure of each hook is logged with its
traceback on the ``wsgisession`` logger, later ones are counted in :attr:`Hooks.failures`.
With no hook registered the middleware does not even look (nothing is called per request).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

logger = logging.getLogger("wsgisession")

#: The events a hook can be registered for.
EventName = Literal["created", "rotated", "logout", "revoked", "expired"]
EVENT_NAMES: tuple[EventName, ...] = ("created", "rotated", "logout", "revoked", "expired")


@dataclass(frozen=True)
class SessionEvent:
    """What happened to which session; nothing secret in it.

    * ``created``: a new session was saved for the first time (``session_id``, ``user_id`` if set);
    * ``rotated``: ``cycle_key`` moved it to a new key (``session_id``, ``previous_id``, ``user_id``);
    * ``logout``: ``flush()`` (or an expiry set in the past) deleted it (``session_id``);
    * ``revoked``: ``delete_user_sessions`` ended ``count`` sessions of ``user_id``;
    * ``expired``: a cookie we signed came back for a session the store no longer has or that
      is past its expiry (``session_id``). Server-side engines only: a signed cookie that has
      expired is indistinguishable from one never issued.
    """

    name: EventName
    session_id: str | None = None
    user_id: str | None = None
    previous_id: str | None = None
    count: int = 1


Hook = Callable[[SessionEvent], object]


class Hooks:
    """The application's hooks, per event. Register with :meth:`on` before the first request."""

    def __init__(self) -> None:
        self._hooks: dict[str, list[Hook]] = {name: [] for name in EVENT_NAMES}
        self._lock = threading.Lock()
        self._failed: set[int] = set()
        #: How many hook calls raised (each hook's first failure is also logged).
        self.failures = 0

    def on(self, name: EventName, hook: Hook) -> Hook:
        """Call ``hook(event)`` on each event ``name``; returns ``hook`` (usable as a decorator factory's result).

        :raises ValueError: for an unknown event name.
        """
        if name not in self._hooks:
            raise ValueError(f"no session event {name!r}: choose one of {', '.join(EVENT_NAMES)}")
        self._hooks[name].append(hook)
        return hook

    def __bool__(self) -> bool:
        return any(self._hooks.values())

    def wants(self, name: EventName) -> bool:
        """True if a hook is registered for ``name``."""
        return bool(self._hooks[name])

    def emit(self, event: SessionEvent) -> None:
        """Call each hook of ``event.name``; one that raises is logged (once) and the next one runs."""
        for hook in self._hooks[event.name]:
            try:
                hook(event)
            except Exception:
                self._failure(hook, event.name)

    def _failure(self, hook: Hook, name: str) -> None:
        with self._lock:
            self.failures += 1
            first = id(hook) not in self._failed
            self._failed.add(id(hook))
        if first:
            logger.exception("session hook %s for %r raised; the request went on (later failures of this hook are"
                             " counted in Hooks.failures, not logged)", getattr(hook, "__qualname__", hook), name)
