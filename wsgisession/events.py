"""What went wrong with sessions, logged on the right logger and counted.

Three kinds of trouble are told apart, so an operator can tell an attack from a bug
from an outage:

* a bad signature (a forged or tampered cookie): logger ``wsgisession.security``;
* data that cannot be decoded (a corrupted store entry): logger ``wsgisession``;
* a store failure (server down, disk full): logger ``wsgisession``, level ERROR.

Each kind is logged at most once per :data:`BURST_SECONDS` (the next line says how many
were not logged), so a flood of forged cookies or an outage does not flood the log;
every event is counted. Nothing secret is logged: no key, cookie value or session data.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

#: One line per kind of event per this many seconds.
BURST_SECONDS = 10.0


@dataclass(frozen=True)
class EventCounts:
    """How many of each event one middleware has seen since it was built."""

    bad_signatures: int
    undecodable: int
    store_failures: int


class _Kind:
    """One kind of event: its logger, level, count and burst window."""

    def __init__(self, logger: str, level: int) -> None:
        self.logger = logging.getLogger(logger)
        self.level = level
        self.count = 0
        self.quiet_until = 0.0
        self.suppressed = 0


class Events:
    """Logs and counts session events; one per middleware, shared by its threads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._bad_signature = _Kind("wsgisession.security", logging.WARNING)
        self._undecodable = _Kind("wsgisession", logging.WARNING)
        self._store_failure = _Kind("wsgisession", logging.ERROR)

    def bad_signature(self, what: str) -> None:
        """A cookie whose signature does not check out; ``what`` names it (never its value)."""
        self._record(self._bad_signature, f"{what} with a bad signature ignored; starting an empty session")

    def undecodable(self, what: str) -> None:
        """Stored or signed data that cannot be decoded."""
        self._record(self._undecodable, f"{what} could not be decoded; starting an empty session")

    def store_failure(self, error: Exception) -> None:
        """A store failure (the exception's message names the store and the operation)."""
        self._record(self._store_failure, str(error))

    def counts(self) -> EventCounts:
        """A snapshot of the counters."""
        with self._lock:
            return EventCounts(self._bad_signature.count, self._undecodable.count, self._store_failure.count)

    def _record(self, kind: _Kind, message: str) -> None:
        with self._lock:
            kind.count += 1
            now = self._clock()
            if now < kind.quiet_until:
                kind.suppressed += 1
                return
            suppressed, kind.suppressed = kind.suppressed, 0
            kind.quiet_until = now + BURST_SECONDS
        more = f" ({suppressed} more like it were not logged)" if suppressed else ""
        kind.logger.log(kind.level, "%s%s", message, more)
