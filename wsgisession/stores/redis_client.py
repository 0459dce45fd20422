"""Build redis-py clients from URLs: the one place that knows how.

Use :func:`client_from_url` wherever a setting holds a Redis URL. Stores never
take a URL: they take the client this returns, so an application can also hand
them a client it built itself. The URL says which kind of deployment it is:

* ``redis://[user:password@]host:port/db``, ``rediss://…`` (TLS) and
  ``unix:///path/to/socket?db=0``: one server (:class:`redis.Redis`);
* ``redis+sentinel://[user:password@]host:port[,host:port…]/master_name[/db]``:
  the master that these Sentinels name, found again after a fail-over
  (:meth:`redis.sentinel.Sentinel.master_for`); the credentials are the
  servers', the Sentinels are asked without any;
* ``redis+cluster://[user:password@]host:port`` and ``rediss+cluster://…``: a
  Redis Cluster, found from any one of its nodes
  (:class:`redis.cluster.RedisCluster`).

The client owns its connection pools: build one per worker process and share it
between that worker's threads (redis-py clients are thread-safe, and a pool
inherited across ``fork`` is reset in the child on first use). Timeouts are
short (:class:`ClientOptions`) so that a dead server fails a request within
seconds instead of hanging it; query-string options in the URL
(``?socket_timeout=10``) override the options.

To support another kind of deployment, add its URL scheme to
``wsgisession._names.REDIS_URL_KINDS`` (which the setting's parser reads too) and,
for a new kind, a builder to :data:`_BY_KIND`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import unquote, urlsplit, urlunsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.cluster import RedisCluster
from redis.connection import parse_url
from redis.retry import Retry
from redis.sentinel import Sentinel

from .._names import REDIS_URL_KINDS

if TYPE_CHECKING:
    from ..settings import Settings

# The "type: ignore[type-arg,unused-ignore]" on annotations naming redis.Redis: the
# types-redis stubs make Redis generic, redis-py's own annotations do not; this
# keeps mypy --strict clean with and without the stubs installed.

#: What :func:`client_from_url` returns: a Sentinel's master is a :class:`redis.Redis` too.
RedisClient: TypeAlias = "redis.Redis | RedisCluster"  # type: ignore[type-arg,unused-ignore]

#: A connection idle for this many seconds is PINGed before it is used again, so a
#: connection the server (or a firewall) dropped is replaced instead of failing a request.
HEALTH_CHECK_INTERVAL = 30
#: How many times a command that failed to *connect* is tried again. Timeouts are
#: not retried (but see :func:`_cluster`): a timed-out save may have run on the server.
CONNECT_RETRIES = 1


@dataclass(frozen=True)
class ClientOptions:
    """How every kind of client connects; the defaults are those of :class:`~wsgisession.settings.Settings`."""

    #: Seconds to wait for the reply to a command (``SESSION_REDIS_SOCKET_TIMEOUT``).
    socket_timeout: float = 3.0
    #: Seconds to wait for a TCP (or TLS) connection to be set up (``SESSION_REDIS_CONNECT_TIMEOUT``).
    connect_timeout: float = 2.0
    #: Connections a client may open, per server (``SESSION_REDIS_MAX_CONNECTIONS``). With one
    #: server, a command that would need one more waits for a free one (up to the socket
    #: timeout); behind Sentinels or on a Cluster it fails (a ``StoreError``): size the pool
    #: to the worker's threads or greenlets there.
    max_connections: int = 50
    #: PEM file of the CAs a TLS server's certificate must chain to; None: the system's
    #: (``SESSION_REDIS_SSL_CA_CERTS``).
    ssl_ca_certs: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ClientOptions:
        """The options the ``SESSION_REDIS_*`` settings give."""
        return cls(settings.redis_socket_timeout, settings.redis_connect_timeout,
                   settings.redis_max_connections, settings.redis_ssl_ca_certs)

    def connection_kwargs(self, tls: bool) -> dict[str, Any]:
        """Keyword arguments for redis-py's connection pools (without ``retry``)."""
        kwargs: dict[str, Any] = {
            # Replies as str, decoded by hiredis in C: cheaper than in Python, per field, in the store.
            "decode_responses": True,
            "socket_connect_timeout": self.connect_timeout,
            "socket_timeout": self.socket_timeout,
            "health_check_interval": HEALTH_CHECK_INTERVAL,
            "max_connections": self.max_connections,
        }
        if tls and self.ssl_ca_certs:
            kwargs["ssl_ca_certs"] = self.ssl_ca_certs
        return kwargs


def _retry() -> Retry:
    return Retry(ExponentialBackoff(cap=0.5, base=0.05), CONNECT_RETRIES, supported_errors=(redis.ConnectionError,))


def _standalone(url: str, options: ClientOptions) -> RedisClient:
    # A blocking pool: when every connection is busy (a gevent worker runs many requests
    # at once), a command waits up to the socket timeout for one instead of failing.
    tls = url.lower().startswith("rediss:")
    pool = redis.BlockingConnectionPool.from_url(url, timeout=options.socket_timeout, retry=_retry(),
                                                 **options.connection_kwargs(tls))
    return redis.Redis(connection_pool=pool)


def _sentinel(url: str, options: ClientOptions) -> RedisClient:
    # After a fail-over the pool's connections to the old master fail (ConnectionError,
    # or ReadOnlyError turned into one); each new connection asks the Sentinels again.
    parts = urlsplit(url)
    auth, _, hosts = parts.netloc.rpartition("@")
    master, _, db = parts.path.strip("/").partition("/")
    if not master or not hosts:
        raise ValueError("a redis+sentinel:// URL names the Sentinels and the master: "
                         "redis+sentinel://host:port[,host:port…]/master_name[/db]")
    # redis-py reads the credentials, the db and the query as it would those of a redis:// URL.
    server: dict[str, Any] = parse_url(  # type: ignore[no-untyped-call]
        urlunsplit(("redis", f"{auth}@sentinel" if auth else "sentinel", f"/{db}", parts.query, "")))
    del server["host"]
    sentinels = Sentinel(  # type: ignore[no-untyped-call]
        [_address(host) for host in hosts.split(",")],
        sentinel_kwargs={"socket_connect_timeout": options.connect_timeout, "socket_timeout": options.socket_timeout})
    client: RedisClient = sentinels.master_for(  # type: ignore[no-untyped-call]
        unquote(master), retry=_retry(), **{**options.connection_kwargs(tls=False), **server})
    return client


def _cluster(url: str, options: ClientOptions) -> RedisClient:
    # Builds the slot map now: the one builder that connects. Cluster clients retry
    # (a moved slot, a fail-over) timeouts too, whatever the Retry's errors.
    scheme, _, rest = url.partition("://")
    node_scheme = scheme.lower().removesuffix("+cluster")
    return RedisCluster.from_url(f"{node_scheme}://{rest}", retry=_retry(),
                                 **options.connection_kwargs(tls=node_scheme == "rediss"))


def _address(host_port: str) -> tuple[str, int]:
    host, _, port = host_port.strip().rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"a Sentinel address is host:port, not {host_port!r}")
    return host.strip("[]"), int(port)


_BY_KIND: dict[str, Callable[[str, ClientOptions], RedisClient]] = {
    "server": _standalone,
    "sentinel": _sentinel,
    "cluster": _cluster,
}
#: URL scheme -> function building a client from the URL and the options.
BUILDERS: dict[str, Callable[[str, ClientOptions], RedisClient]] = {
    scheme: _BY_KIND[kind] for scheme, kind in REDIS_URL_KINDS.items()
}


def client_from_url(url: str, options: ClientOptions | None = None) -> RedisClient:
    """A client for ``url`` with its own connection pools, connected as ``options`` say; replies are ``str``.

    Raise ``ValueError`` for a scheme not in :data:`BUILDERS` or a malformed URL.
    No connection is made here, except for a Cluster, whose client reads the slot
    map from its node at once (an unreachable Cluster raises
    :class:`redis.exceptions.RedisClusterException`); otherwise an unreachable
    server shows up as a :class:`redis.ConnectionError` on the first command.
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    builder = BUILDERS.get(scheme)
    if builder is None:
        raise ValueError(f"unsupported Redis URL scheme {scheme!r}: expected one of "
                         f"{', '.join(s + '://' for s in BUILDERS)}")
    return builder(url, options or ClientOptions())
