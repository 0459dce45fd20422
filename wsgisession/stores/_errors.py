"""Turning a client library's exceptions into StoreError, around a block of store code."""

from __future__ import annotations

from types import TracebackType

from ..errors import StoreError


class StoreErrors:
    """A context manager: an exception of the ``caught`` types raised in its block becomes a
    :class:`StoreError` of ``engine`` and ``operation``, with the exception's type and message
    as the detail (chained as its cause).

    A class rather than ``contextlib.contextmanager``, for speed: every store call enters one
    (see docs/performance.md).
    """

    __slots__ = ("_caught", "_engine", "_operation")

    def __init__(self, engine: str, caught: tuple[type[BaseException], ...], operation: str) -> None:
        self._engine = engine
        self._caught = caught
        self._operation = operation

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is not None and isinstance(exc, self._caught):
            raise StoreError(self._engine, self._operation, f"{type(exc).__name__}: {exc}") from exc
