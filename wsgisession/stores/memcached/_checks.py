"""What ``wsgisession check`` verifies of the ``memcached`` engine: the server answers and takes a key."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from ...checks import CheckResult, from_error, passed
from ...errors import StoreError


def check(client: Any, prefix: str, errors: Callable[[str], AbstractContextManager[object]]) -> list[CheckResult]:
    """The server answers, and takes (then forgets) a key under the prefix.

    ``client`` is the store's ``PooledClient``; ``errors`` turns a failure of the named
    operation into a StoreError, as the store's own calls do.
    """
    host, port = client.server
    server, key = f"memcached://{host}:{port}", f"{prefix}:wsgisession-check"
    try:
        with errors("check (connect)"):
            client.version()
    except StoreError as exc:
        return [from_error("connect", exc, "SESSION_CACHE_URL", server)]
    connected = passed("connect", f"{server} answers")
    try:
        with errors("check (write)"):
            client.set(key, b"1", expire=10)
            client.delete(key)
    except StoreError as exc:
        return [connected, from_error("write", exc, "SESSION_CACHE_URL", server)]
    return [connected, passed("write", f"may write keys under the prefix {prefix!r}")]
