"""What ``wsgisession check`` verifies of the file, memcached, memory and cached_db stores."""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING

from ..checks import CheckResult, check_store, from_error, passed
from ..errors import StoreError
from .file._io import TEMP_PREFIX

if TYPE_CHECKING:
    from .cached_db import CachedDbStore
    from .file import FileStore
    from .memcached import MemcachedStore
    from .memory import MemoryStore


def file(store: FileStore) -> list[CheckResult]:
    """The folder (private, checked at start) takes a new file and its lock files open."""
    try:
        with store._errors("check (write)"):
            descriptor, path = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=store.folder)
            os.close(descriptor)
            os.unlink(path)
            store.check_locks()
    except StoreError as exc:
        return [from_error("write", exc, "SESSION_FILE_PATH", store.folder)]
    return [passed("folder", f"{store.folder} is the app's own"), passed("write", f"may write files in {store.folder}")]


def memcached(store: MemcachedStore) -> list[CheckResult]:
    """The server answers, and takes (then forgets) a key under the prefix."""
    from .memcached import _errors  # here: the file engine must not need pymemcache

    host, port = store.client.server
    server, key = f"memcached://{host}:{port}", f"{store.prefix}:wsgisession-check"
    try:
        with _errors("check (connect)"):
            store.client.version()
    except StoreError as exc:
        return [from_error("connect", exc, "SESSION_CACHE_URL", server)]
    connected = passed("connect", f"{server} answers")
    try:
        with _errors("check (write)"):
            store.client.set(key, b"1", expire=10)
            store.client.delete(key)
    except StoreError as exc:
        return [connected, from_error("write", exc, "SESSION_CACHE_URL", server)]
    return [connected, passed("write", f"may write keys under the prefix {store.prefix!r}")]


def memory(store: MemoryStore) -> list[CheckResult]:
    """Nothing to connect to: the sessions live in each worker process."""
    return [passed("memory", f"sessions live in each worker process (at most {store._max_entries:,});"
                             " use it with one worker only")]


def cached_db(store: CachedDbStore) -> list[CheckResult]:
    """The database's checks, then the cache's, each named as such."""
    return [CheckResult(f"{part} {result.name}", result.ok, result.message, result.setting)
            for part, checked in (("database", store.db), ("cache", store.cache))
            for result in check_store(checked)]
