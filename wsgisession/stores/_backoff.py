"""The wait for a held session lock: jittered, doubling pauses until a deadline.

Every store that polls for its lock (redis, memcached, file, SQL) waits through :class:`LockWait`.
"""

from __future__ import annotations

import random
import time

from ..errors import LockTimeoutError

#: Seconds between two attempts to take a held lock: the first, and the cap of its doubling.
FIRST_PAUSE = 0.002
LONGEST_PAUSE = 0.05


class LockWait:
    """The wait of one ``acquire`` for ``engine``'s lock, ``wait`` seconds from now at most.

    Measured on the monotonic clock: the wait is this process's own.
    """

    __slots__ = ("_pause", "deadline", "engine", "wait")

    def __init__(self, engine: str, wait: float) -> None:
        self.engine = engine
        self.wait = wait
        self.deadline = time.monotonic() + wait
        self._pause = FIRST_PAUSE

    def over(self) -> bool:
        """Whether the wait has run out."""
        return time.monotonic() >= self.deadline

    def pause(self) -> None:
        """Sleep before the next attempt; raise :class:`LockTimeoutError` if the wait has run out.

        A pause is between half and all of its nominal length: the jitter keeps waiters that
        started together from retrying in lockstep.
        """
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise LockTimeoutError(self.engine, self.wait)
        time.sleep(min(remaining, random.uniform(self._pause / 2, self._pause)))
        self._pause = min(self._pause * 2, LONGEST_PAUSE)
