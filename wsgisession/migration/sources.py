"""The engine being left, as :class:`~wsgisession.migration.MigratingBackend` reads it."""

from __future__ import annotations

import dataclasses

from .._migration_sources import FOREIGN_ENGINES
from ..backends import Loaded, Rejected, SessionBackend
from ..engines import build_backend, build_serializer, import_path
from ..serializers import Serializer
from ..settings import Settings
from . import OldSessions


def old_sessions(old: Settings, new: Settings, serializer: Serializer) -> OldSessions:
    """What ``SESSION_MIGRATE_FROM`` (parsed as ``old``) names, returning values for ``serializer``."""
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
