"""The redis engine's key layout: every Redis key name the store writes is made here.

Every key of the record ``record_id`` carries the hash tag ``{record_id}``, so they all live
in one Redis Cluster slot and one script (see :mod:`._lua`) may use several of them (keep
braces out of the prefix: the first ``{…}`` of a key is its tag).

* ``f"{prefix}:{{{record_id}}}"``, the record: a hash whose fields are ``"k:" + key`` for
  each session key (so no application key can collide with bookkeeping), ``meta``, ``exp``
  (the expiry time, Unix seconds) and ``ver`` (bumped on every save). It expires at ``exp``
  (``PEXPIREAT``). A session with a user (``Change.user_id``) also has ``usr`` and
  ``usr_until``, and is listed in that user's index.
* ``…:lock``, the session lock (``SESSION_LOCKING``): the holder's token, expiring with the
  lease (``PX``).
* ``…:gone``, a tombstone left by ``RedisStore.bury`` (the cache role of ``cached_db``),
  expiring after its ttl.
* ``f"{prefix}:user:{digest}"``, a user's index (see :mod:`._users`): a set of record ids, in
  a slot of its own, where ``digest`` stands for the user id.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Prefix of the hash fields that hold session keys.
DATA_FIELD_PREFIX = "k:"


@dataclass(frozen=True, slots=True)
class Keys:
    """The key names under one ``prefix``."""

    prefix: str

    def record(self, record_id: str) -> str:
        """The hash that holds ``record_id``, hash-tagged with the record id."""
        return f"{self.prefix}:{{{record_id}}}"

    def lock(self, record_id: str) -> str:
        """``record_id``'s session lock (same cluster slot as :meth:`record`)."""
        return f"{self.prefix}:{{{record_id}}}:lock"

    def tombstone(self, record_id: str) -> str:
        """``record_id``'s tombstone (same cluster slot as :meth:`record`)."""
        return f"{self.prefix}:{{{record_id}}}:gone"

    def user_index(self, digest: str) -> str:
        """The set of the record ids of the user whose digest is ``digest``."""
        return f"{self.prefix}:user:{digest}"
