"""The engine being left, as :class:`~wsgisession.migration.MigratingBackend` reads it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Protocol

from .._imports import import_path
from .._migration_sources import FOREIGN_ENGINES
from ..backends import Loaded, Rejected, SessionBackend
from ..serializers import Serializer
from ..settings import Settings


class OldSessions(Protocol):
    """The engine being left, as :class:`~wsgisession.migration.MigratingBackend` reads it (a SessionBackend is one).

    ``load`` returns the session a cookie names with its values serialized by the *new*
    engine's serializer, or why there is none; it raises StoreError only when the store fails.
    """

    def load(self, cookie_value: str, now: float) -> Loaded | Rejected: ...

    def delete(self, key: str) -> None: ...


def old_sessions(old: Settings, new: Settings, serializer: Serializer,
                 build_backend: Callable[[Settings], SessionBackend],
                 build_serializer: Callable[[Settings], Serializer]) -> OldSessions:
    """What ``SESSION_MIGRATE_FROM`` (parsed as ``old``) names, returning values for ``serializer``.

    A wsgisession engine's back end and serializer come from ``build_backend`` and ``build_serializer``.
    """
    foreign = FOREIGN_ENGINES.get(old.engine)
    if foreign is not None:
        return import_path("SESSION_MIGRATE_FROM", foreign)(old, serializer)  # type: ignore[no-any-return]
    # The old engine is only read and deleted from: a lock taken there would never be released.
    backend = build_backend(dataclasses.replace(old, locking=False))
    if old.serializer == new.serializer:
        return backend
    return Reserialized(backend, build_serializer(old), serializer)


class Reserialized:
    """A wsgisession back end whose values were written by another ``SESSION_SERIALIZER``."""

    def __init__(self, backend: SessionBackend, old: Serializer, new: Serializer) -> None:
        self.backend = backend
        self.old_serializer = old
        self.new_serializer = new

    def load(self, cookie_value: str, now: float) -> Loaded | Rejected:
        loaded = self.backend.load(cookie_value, now)
        if not isinstance(loaded, Loaded):
            return loaded
        try:
            loaded.data = {key: self.new_serializer.dumps(self.old_serializer.loads(text))
                           for key, text in loaded.data.items()}
        except (TypeError, ValueError):
            return Rejected.UNDECODABLE
        return loaded

    def delete(self, key: str) -> None:
        self.backend.delete(key)
