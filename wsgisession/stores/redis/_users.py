"""The redis engine's per-user index of sessions (:class:`~.base.IndexesUsers`).

Layout (see :mod:`._keys`): ``f"{prefix}:user:{digest}"`` is a set of the record ids of one user's
sessions, where ``digest`` is :func:`user_digest` of the user id, so no character
of a user id (``{``, ``}``, ``:``, non-ASCII) reaches a key name or its cluster
slot. The set expires once the longest-lived of its sessions may have ended.

A record names its owner itself, in the hash fields ``usr`` (the digest) and
``usr_until`` (how long, in Unix ms, the owner's index is known to last). The
record is the truth and the index only a list of candidates: readers keep only
the ids whose record still exists and still names the user, so entries of
sessions that expired, were deleted or changed hands are skipped (and pruned).

On Redis Cluster the index and the records live in different slots, so no
script may update both: the record's script says when the index is due
(``index_due`` in :mod:`._lua`), and the store then updates the index in a second command.
The pipelines below mix slots: they are not transactions, so a RedisCluster
pipeline may split them per node. Needs Redis 7 (``PEXPIREAT … NX``/``GT``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..redis_client import RedisClient
from ._keys import Keys
from ._lua import ADD_TO_INDEX, DELETE_OWNED

#: Seconds an index outlives the session that last extended it: a session saved or
#: touched on every request extends its owner's index about once per this period.
INDEX_MARGIN = 24 * 3600.0


def user_digest(user_id: str) -> str:
    """What stands for ``user_id`` in key names and records: 32 hex digits of its SHA-256."""
    return hashlib.sha256(user_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class UserIndex:
    """One set per user of the record ids under ``keys``; the store wraps its errors.

    :meth:`sessions` is two round trips (three when it prunes), :meth:`delete_sessions`
    two; both one when the index is empty.
    """

    def __init__(self, client: RedisClient, keys: Keys) -> None:
        self._client = client
        self._keys = keys
        self._add_script = client.register_script(ADD_TO_INDEX)

    def key(self, user_id: str) -> str:
        """The Redis key of ``user_id``'s index."""
        return self._keys.user_index(user_digest(user_id))

    def add_if_due(self, record_id: str, outcome: object) -> None:
        """Add ``record_id`` to its owner's index if the record script's ``outcome`` says it is due."""
        if not isinstance(outcome, list):
            return
        owner, until_ms = (_text(part) for part in outcome)
        self._add_script(keys=[self._keys.user_index(owner)], args=[record_id, until_ms])

    def sessions(self, user_id: str) -> list[str]:
        """The record ids of ``user_id``'s live sessions, sorted; drops the other entries."""
        digest, index = user_digest(user_id), self.key(user_id)
        members = self._members(index)
        if not members:
            return []
        pipe = self._client.pipeline(transaction=False)
        for record_id in members:
            pipe.hget(self._keys.record(record_id), "usr")
        owners: list[Any] = pipe.execute()
        live = sorted(record_id for record_id, owner in zip(members, owners, strict=True)
                      if owner is not None and _text(owner) == digest)
        if len(live) < len(members):
            self._client.srem(index, *set(members).difference(live))
        return live

    def delete_sessions(self, user_id: str, except_record_id: str | None) -> int:
        """Delete ``user_id``'s sessions but one; return how many were deleted. The index keeps only that one."""
        digest, index = user_digest(user_id), self.key(user_id)
        doomed = [record_id for record_id in self._members(index) if record_id != except_record_id]
        if not doomed:
            return 0
        # EVAL, not a registered script: redis-py checks a pipeline's scripts with an extra
        # SCRIPT EXISTS round trip; sent as a plain command, as RedisCluster's pipelines have
        # no eval() (they route it by its key). SREM, not DEL: an id added meanwhile stays.
        pipe = self._client.pipeline(transaction=False)
        for record_id in doomed:
            pipe.execute_command("EVAL", DELETE_OWNED, 1, self._keys.record(record_id), digest)
        pipe.srem(index, *doomed)
        removed: list[Any] = pipe.execute()
        return sum(int(count) for count in removed[:-1])

    def _members(self, index: str) -> list[str]:
        members: set[Any] = self._client.smembers(index)  # type: ignore[assignment,unused-ignore]
        return [_text(member) for member in members]


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value
