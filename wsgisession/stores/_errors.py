"""Turning a client library's exceptions into StoreError, around a block of store code.

A failure that is the configuration's fault (a wrong password, no such database) becomes
:class:`StoreMisconfigured`, named by a :class:`Diagnosis`; anything else is an outage.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import NamedTuple

from ..errors import StoreError, StoreMisconfigured


class Misconfiguration(NamedTuple):
    """What a client's exception says is wrong with the settings."""

    #: The setting to fix.
    setting: str
    #: The kind, in a few words ("authentication failed"): logged once per worker per kind.
    problem: str
    #: What to do.
    fix: str


class Diagnosis:
    """Tells a misconfiguration from an outage: ``classify`` reads the exception, ``server`` says where the store is."""

    __slots__ = ("_classify", "server")

    def __init__(self, classify: Callable[[BaseException], Misconfiguration | None], server: str) -> None:
        self._classify = classify
        self.server = server

    def failure(self, engine: str, operation: str, exc: BaseException, detail: str) -> StoreError:
        """The error to raise for ``exc``: :class:`StoreMisconfigured` if ``classify`` names a setting."""
        found = self._classify(exc)
        if found is None:
            return StoreError(engine, operation, detail)
        return StoreMisconfigured(engine, operation, detail, setting=found.setting, server=self.server,
                                  problem=found.problem, fix=found.fix)


class StoreErrors:
    """A context manager: an exception of the ``caught`` types raised in its block becomes a
    :class:`StoreError` of ``engine`` and ``operation`` (a :class:`StoreMisconfigured` if
    ``diagnosis`` says so), with the exception's type and message as the detail (chained as its cause).

    A class rather than ``contextlib.contextmanager``, for speed: every store call enters one
    (see docs/performance.md).
    """

    __slots__ = ("_caught", "_diagnosis", "_engine", "_operation")

    def __init__(self, engine: str, caught: tuple[type[BaseException], ...], diagnosis: Diagnosis | None,
                 operation: str) -> None:
        self._engine = engine
        self._caught = caught
        self._operation = operation
        self._diagnosis = diagnosis

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is not None and isinstance(exc, self._caught):
            detail = f"{type(exc).__name__}: {exc}"
            if self._diagnosis is None:
                raise StoreError(self._engine, self._operation, detail) from exc
            raise self._diagnosis.failure(self._engine, self._operation, exc, detail) from exc
