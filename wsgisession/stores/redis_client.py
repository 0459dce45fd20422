"""Build redis-py clients from URLs: the one place that knows how.

Use :func:`client_from_url` wherever a setting holds a Redis URL (``redis://``,
``rediss://``, ``unix://``). Stores never take a URL: they take the client this
returns, so an application can also hand them a client it built itself.

The client owns a connection pool: build one per worker process and share it
between that worker's threads (redis-py clients are thread-safe, and a pool
inherited across ``fork`` is reset in the child on first use). Timeouts are
short so that a dead server fails a request within seconds instead of hanging
it; query-string options in the URL (``?socket_timeout=10``,
``?max_connections=200``) override the defaults below.

To support another kind of deployment (Sentinel, Cluster), add a builder to
:data:`BUILDERS` under its URL scheme.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

# The "type: ignore[type-arg,unused-ignore]" on annotations naming redis.Redis: the
# types-redis stubs make Redis generic, redis-py's own annotations do not; this
# keeps mypy --strict clean with and without the stubs installed.

#: Seconds to wait for a TCP (or TLS) connection to be set up.
SOCKET_CONNECT_TIMEOUT = 2.0
#: Seconds to wait for the reply to a command.
SOCKET_TIMEOUT = 3.0
#: A connection idle for this many seconds is PINGed before it is used again, so a
#: connection the server (or a firewall) dropped is replaced instead of failing a request.
HEALTH_CHECK_INTERVAL = 30
#: How many times a command that failed to *connect* is tried again. Timeouts are
#: not retried: a timed-out save may have run on the server.
CONNECT_RETRIES = 1


def _default_options() -> dict[str, Any]:
    return {
        "socket_connect_timeout": SOCKET_CONNECT_TIMEOUT,
        "socket_timeout": SOCKET_TIMEOUT,
        "health_check_interval": HEALTH_CHECK_INTERVAL,
        "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), CONNECT_RETRIES,
                       supported_errors=(redis.ConnectionError,)),
    }


def _standalone(url: str, options: dict[str, Any]) -> redis.Redis:  # type: ignore[type-arg,unused-ignore]
    return redis.Redis.from_url(url, **options)


#: URL scheme -> function building a client from the URL and the default options.
BUILDERS: dict[str, Callable[[str, dict[str, Any]], redis.Redis]] = {  # type: ignore[type-arg,unused-ignore]
    "redis": _standalone,
    "rediss": _standalone,
    "unix": _standalone,
}


def client_from_url(url: str) -> redis.Redis:  # type: ignore[type-arg,unused-ignore]
    """A client for ``url``, with its own connection pool; connects lazily.

    Raise ``ValueError`` for a scheme not in :data:`BUILDERS` or a malformed URL.
    No connection is made here: an unreachable server shows up as a
    :class:`redis.ConnectionError` on the first command.
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    builder = BUILDERS.get(scheme)
    if builder is None:
        raise ValueError(f"unsupported Redis URL scheme {scheme!r}: expected one of "
                         f"{', '.join(s + '://' for s in BUILDERS)}")
    return builder(url, _default_options())
