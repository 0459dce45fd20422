"""How :class:`~.sql.SqlStore` saves: optimistically, with a guarded UPDATE and, on a conflict, a re-read and merge.

A save writes ``change.apply_to(loaded data)`` in one ``UPDATE … WHERE version = :loaded``;
when another request moved the version on, it reads the row again and merges onto it, so
concurrent requests changing different keys keep each other's writes without row locks.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from sqlalchemy.engine.interfaces import DBAPICursor

from ...errors import LockLostError, StoreError
from ..base import Change, Record
from . import _locks, _table
from ._engine import Database

#: How many times a save re-reads and merges before giving up with StoreError.
MAX_ATTEMPTS = 50


def save(cursor: DBAPICursor, database: Database, record_id: str, change: Change) -> Record | None:
    """Apply ``change`` to row ``record_id``; the record now stored, or None if the row is gone and stays gone.

    Raises :class:`LockLostError` if ``change.lock_token`` no longer holds the lock, StoreError
    after :data:`MAX_ATTEMPTS` conflicts, and the driver's errors as they are.
    """
    if change.replace and change.create and change.lock_token is None:
        # A new session: its key is fresh, so no other request can hold a lock on it, and
        # the INSERT leaves the lock columns empty. A row there after all is replaced by
        # the guarded merge, which never writes the lock columns either.
        created = _insert(cursor, database, record_id, change)
        if created is not None:
            return created
    return _merge(cursor, database, record_id, change)


def _merge(cursor: DBAPICursor, database: Database, record_id: str, change: Change) -> Record | None:
    """Write onto the loaded version; when it moved on, re-read and merge (up to MAX_ATTEMPTS times)."""
    base, version = change.base, change.version
    for _ in range(MAX_ATTEMPTS):
        if base is None or version is None:
            current = _current(cursor, database, record_id, change.lock_token)
            if current is None:
                # Deleted meanwhile (logout): do not bring it back. A lock went with its row.
                if not change.create or change.lock_token is not None:
                    return None
                created = _insert(cursor, database, record_id, change)
                if created is not None:
                    return created
                continue
            base, version = current
        written = _write(cursor, database, record_id, change, base, version)
        if written is not None:
            return written
        base = version = None
    raise StoreError("db", "save", f"the record changed under each of {MAX_ATTEMPTS} attempts to merge")


def _current(cursor: DBAPICursor, database: Database, record_id: str,
             token: str | None) -> tuple[Mapping[str, str], int] | None:
    """The data and version to merge onto (unreadable data counts as none); None if the row is gone.

    Raises :class:`LockLostError` if ``token`` is set and no longer holds the row's lock.
    """
    row = database.queries.select.run(cursor, key=record_id).fetchone()
    if row is None:
        return None
    text, _expire_date, version, lock_token, lock_expires = row
    if token is not None and not _locks.holds(lock_token, lock_expires, token):
        raise LockLostError("db")
    decoded = _table.decode(text)
    return (decoded[1] if decoded is not None else {}), int(version)


def _write(cursor: DBAPICursor, database: Database, record_id: str, change: Change, base: Mapping[str, str],
           version: int) -> Record | None:
    """One UPDATE guarded by ``version`` (and fenced by the change's lock token); the record written, if any."""
    data = change.apply_to(base)
    values = _written(record_id, change, data, version + 1)
    if change.lock_token is not None:
        values.update(token=change.lock_token, now=time.time())
    statement = database.queries.write(change.lock_token is not None, change.user_id is not None)
    if not statement.run(cursor, loaded=version, **values).rowcount:
        return None
    return Record(data, change.meta, change.expires_at, version + 1)


def _insert(cursor: DBAPICursor, database: Database, record_id: str, change: Change) -> Record | None:
    """INSERT a new row at version 1; None if another request created it first."""
    data = change.apply_to({})
    try:
        database.queries.insert(change.user_id is not None).run(cursor, **_written(record_id, change, data, 1))
    except database.duplicate:
        return None
    return Record(data, change.meta, change.expires_at, 1)


def _written(record_id: str, change: Change, data: Mapping[str, str], version: int) -> dict[str, object]:
    """The values a write of ``data`` at ``version`` binds: the user too, when the change names one."""
    values: dict[str, object] = {"key": record_id, "data": _table.encode(change.meta, data),
                                 "expires": change.expires_at, "version": version}
    if change.user_id is not None:
        values["user"] = change.user_id
    return values
