"""Custom stores named by dotted path in ``SESSION_ENGINE``, for the clearsessions tests."""

from __future__ import annotations

from wsgisession.settings import Settings
from wsgisession.stores.base import Change, Record


class KeepsEverythingStore:
    """Records in a dict: no ``clear_expired``, and no TTL either, so expired records pile up."""

    def __init__(self, settings: Settings) -> None:
        self.records: dict[str, Record] = {}

    def load(self, record_id: str) -> Record | None:
        return self.records.get(record_id)

    def save(self, record_id: str, change: Change) -> bool:
        old = self.records.get(record_id)
        if old is None and not change.create:
            return False
        data = change.apply_to(old.data if old else {})
        self.records[record_id] = Record(data, change.meta, change.expires_at, (old.version if old else 0) + 1)
        return True

    def delete(self, record_id: str) -> None:
        self.records.pop(record_id, None)


class TimeToLiveStore(KeepsEverythingStore):
    """Stands for a store on a server that expires its records (a TTL on each): nothing to purge."""

    #: Declares the ExpiresByItself capability.
    expires_by_itself = True


class DjangoStyleStore(KeepsEverythingStore):
    """Has Django's stub: a ``clear_expired`` that raises NotImplementedError."""

    def clear_expired(self, now: float) -> int:
        raise NotImplementedError("This backend does not support clear_expired().")


class StubPurgeStore(KeepsEverythingStore):
    """Has a ``clear_expired`` stub that deletes nothing and returns None (no count)."""

    def clear_expired(self, now: float) -> int:
        return None  # type: ignore[return-value]  # a careless store's stub
