"""What went wrong with sessions, logged on the right logger and counted.

Three kinds of trouble are told apart, so an operator can tell an attack from a bug
from an outage:

* a bad signature (a forged or tampered cookie), or several cookies of the session's
  name in one request (cookie tossing): logger ``wsgisession.security``;
* data that cannot be decoded (a corrupted store entry): logger ``wsgisession``;
* a store failure (server down, disk full): logger ``wsgisession``, level ERROR;
* a misconfigured store (:class:`~.errors.StoreMisconfigured`: a wrong password, no such
  table): logger ``wsgisession``, level CRITICAL, once per worker for each kind.

Each other kind is logged at most once per :data:`BURST_SECONDS` (the next line says how
many were not logged), so a flood of forged cookies or an outage does not flood the log;
every event is counted. Nothing secret is logged: no key, cookie value or session data.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import StoreMisconfigured

if TYPE_CHECKING:
    from .metrics import Metrics

#: One line per kind of event per this many seconds.
BURST_SECONDS = 10.0


@dataclass(frozen=True)
class EventCounts:
    """How many of each event one middleware has seen since it was built."""

    bad_signatures: int
    undecodable: int
    store_failures: int
    #: Of the store failures, those that were a misconfiguration (:class:`~.errors.StoreMisconfigured`).
    misconfigurations: int = 0
    #: Requests that sent several cookies of the session's name (see ``Events.several_cookies``).
    several_cookies: int = 0


class BurstLog:
    """A log line that is written at most once per :data:`BURST_SECONDS`; every call is counted.

    Thread-safe. The line after a quiet spell says how many were not logged.
    """

    def __init__(self, logger: str, level: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._logger = logging.getLogger(logger)
        self._level = level
        self._clock = clock
        self._lock = threading.Lock()
        self.count = 0
        self._quiet_until = 0.0
        self._suppressed = 0

    def emit(self, message: str) -> None:
        """Count the event; log ``message`` unless a line was logged less than a burst ago."""
        with self._lock:
            self.count += 1
            now = self._clock()
            if now < self._quiet_until:
                self._suppressed += 1
                return
            suppressed, self._suppressed = self._suppressed, 0
            self._quiet_until = now + BURST_SECONDS
        more = f" ({suppressed} more like it were not logged)" if suppressed else ""
        self._logger.log(self._level, "%s%s", message, more)


class Events:
    """Logs and counts session events; one per middleware, shared by its threads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._bad_signature = BurstLog("wsgisession.security", logging.WARNING, clock)
        self._undecodable = BurstLog("wsgisession", logging.WARNING, clock)
        self._store_failure = BurstLog("wsgisession", logging.ERROR, clock)
        self._misconfigured = _OnceLog()
        self._several_cookies = BurstLog("wsgisession.security", logging.WARNING, clock)
        #: The OpenTelemetry instruments, when metrics are on (see :mod:`wsgisession.metrics`).
        self.metrics: Metrics | None = None

    def bad_signature(self, what: str) -> None:
        """A cookie whose signature does not check out; ``what`` names it (never its value)."""
        self._bad_signature.emit(f"{what} with a bad signature ignored; starting an empty session")
        if self.metrics is not None:
            self.metrics.bad_signatures.add(1, self.metrics.engine)

    def undecodable(self, what: str) -> None:
        """Stored or signed data that cannot be decoded."""
        self._undecodable.emit(f"{what} could not be decoded; starting an empty session")
        if self.metrics is not None:
            self.metrics.undecodable.add(1, self.metrics.engine)

    def store_failure(self, error: Exception) -> None:
        """A store failure (the exception's message names the store and the operation).

        A :class:`~.errors.StoreMisconfigured` is logged the first time its kind is seen only.
        """
        if isinstance(error, StoreMisconfigured):
            self._misconfigured.emit((error.store, error.setting, error.problem), str(error))
        else:
            self._store_failure.emit(str(error))

    def several_cookies(self, count: int, loaded: int) -> None:
        """A request sent ``count`` cookies of the session's name; ``loaded``: the first whose session
        loaded (counted from 1), or 0 for none. Never their values."""
        outcome = f"value {loaded} loaded" if loaded else "none loaded; no cookie is deleted"
        self._several_cookies.emit(f"{count} cookies named as the session cookie in one request (set by another site"
                                   f" of the domain?); {outcome}")

    def counts(self) -> EventCounts:
        """A snapshot of the counters."""
        misconfigurations = self._misconfigured.count
        return EventCounts(self._bad_signature.count, self._undecodable.count,
                           self._store_failure.count + misconfigurations, misconfigurations,
                           self._several_cookies.count)


class _OnceLog:
    """A CRITICAL line on ``wsgisession`` for the first event of each kind; every event counted. Thread-safe.

    A misconfiguration does not pass by itself: one line per worker says all there is to say.
    """

    def __init__(self) -> None:
        self._logger = logging.getLogger("wsgisession")
        self._lock = threading.Lock()
        self._seen: set[tuple[str, ...]] = set()
        self.count = 0

    def emit(self, kind: tuple[str, ...], message: str) -> None:
        with self._lock:
            self.count += 1
            if kind in self._seen:
                return
            self._seen.add(kind)
        self._logger.critical("%s (logged once per worker process)", message)
