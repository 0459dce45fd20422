"""Django's ``CACHES`` and ``DATABASES`` entries as our ``SESSION_CACHE_URL`` and ``SESSION_DB_URL``.

Each entry names its backend by dotted path; the ones whose server we talk to become a
URL, the others are refused by name with the reason. No message shows a password:
passwords are only ever written, percent-encoded, into the URL, and URLs are masked
when a problem is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from .errors import SettingProblem

_CACHE = "django.core.cache.backends."
DJANGO_REDIS = _CACHE + "redis.RedisCache"
DJANGO_REDIS_PACKAGE = "django_redis.cache.RedisCache"
LOCMEM = _CACHE + "locmem.LocMemCache"
MEMCACHED = (_CACHE + "memcached.PyMemcacheCache", _CACHE + "memcached.PyLibMCCache")
#: Cache backends refused, with why and what to use.
REFUSED_CACHES = {
    _CACHE + "dummy.DummyCache": "it keeps nothing, so every session would be lost at once",
    _CACHE + "db.DatabaseCache": 'use SESSION_ENGINE "db" (or "cached_db"), which keeps sessions in SQL',
    _CACHE + "filebased.FileBasedCache": 'use SESSION_ENGINE "file", which keeps sessions in files',
}
CACHE_BACKENDS_OFFERED = ("Django's RedisCache, PyMemcacheCache, PyLibMCCache or LocMemCache, or django-redis's"
                          " RedisCache")

_DB = "django.db.backends."
_GIS = "django.contrib.gis.db.backends."
#: Django database ENGINE -> the scheme of our SESSION_DB_URL.
DATABASE_SCHEMES = {
    _DB + "postgresql": "postgresql", _DB + "postgresql_psycopg2": "postgresql", _GIS + "postgis": "postgresql",
    _DB + "mysql": "mysql", _GIS + "mysql": "mysql",
    _DB + "sqlite3": "sqlite", _GIS + "spatialite": "sqlite",
}
#: OPTIONS that only Django reads (its connection handling, not the driver's): left out of the URL.
DJANGO_ONLY_OPTIONS = frozenset({"isolation_level", "pool", "server_side_binding", "assume_role",
                                 "transaction_mode", "init_command"})


class Refused(Exception):
    """An entry that cannot be read as ours; ``problem`` says why."""

    def __init__(self, key: str, expected: str, received: str) -> None:
        super().__init__(key)
        self.problem = SettingProblem(key, expected, received)


def cache_url(caches: Any, alias: Any) -> str:
    """The ``SESSION_CACHE_URL`` for ``CACHES[SESSION_CACHE_ALIAS]``; :class:`Refused` otherwise."""
    if not isinstance(caches, Mapping):
        raise Refused("CACHES", "a dict of cache aliases, as in Django", f"a {type(caches).__name__}")
    if not isinstance(alias, str) or alias not in caches:
        shown = repr(alias) if isinstance(alias, str) else f"a {type(alias).__name__}"
        raise Refused("SESSION_CACHE_ALIAS", f"one of the aliases in CACHES ({', '.join(map(repr, caches))})", shown)
    key, config = f"CACHES[{alias!r}]", caches[alias]
    if not isinstance(config, Mapping) or not isinstance(config.get("BACKEND"), str):
        raise Refused(key, "a dict with a BACKEND path (and a LOCATION)", "no BACKEND")
    backend = config["BACKEND"]
    options = config.get("OPTIONS") or {}
    if not isinstance(options, Mapping):
        raise Refused(key, "OPTIONS as a dict", f"a {type(options).__name__}")
    build = _CACHE_BUILDERS.get(backend)
    if build is None:
        why = f" ({REFUSED_CACHES[backend]})" if backend in REFUSED_CACHES else ""
        raise Refused(key, f"a BACKEND wsgisession talks to: {CACHE_BACKENDS_OFFERED}{why}", f"BACKEND {backend!r}")
    return build(key, config.get("LOCATION"), options)


def _one_location(key: str, location: Any, what: str) -> str:
    if isinstance(location, (list, tuple)) and len(location) == 1:
        location = location[0]
    if not isinstance(location, str) or not location:
        raise Refused(key, f"LOCATION: one {what}", "a list of several" if isinstance(location, (list, tuple))
                      else repr(location))
    return location


def _redis(key: str, location: Any, options: Mapping[str, Any]) -> str:
    """Django's RedisCache and django-redis: the first LOCATION (the primary, which takes the writes)."""
    if isinstance(location, (list, tuple)) and location:
        location = location[0]
    url = _one_location(key, location, "redis:// URL")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("redis", "rediss"):
        raise Refused(key, "LOCATION: a redis:// or rediss:// URL (a cache over a Unix socket is not offered)",
                      repr(url))
    client = options.get("CLIENT_CLASS", "django_redis.client.DefaultClient")
    if client not in ("django_redis.client.DefaultClient", "django_redis.client.HerdClient"):
        raise Refused(key, 'no CLIENT_CLASS but the default (for Sentinels, use SESSION_ENGINE "redis" with'
                      " SESSION_REDIS_SENTINELS; a shard client spreads sessions where wsgisession does not look)",
                      repr(client))
    password = options.get("password", options.get("PASSWORD"))
    db = options.get("db", options.get("DB"))
    netloc, path, query = parts.netloc, parts.path, parts.query
    if isinstance(password, str) and password and "@" not in netloc:
        netloc = f":{quote(password, safe='')}@{netloc}"
    if db is not None and path in ("", "/") and "db=" not in query:
        path = f"/{quote(str(db), safe='')}"
    return urlunsplit((parts.scheme, netloc, path, query, parts.fragment))


def _memcached(key: str, location: Any, options: Mapping[str, Any]) -> str:
    server = _one_location(key, location, "memcached server as host:port")
    if server.startswith(("unix:", "/")):
        raise Refused(key, "LOCATION: a memcached server as host:port (Unix sockets are not offered)", repr(server))
    return f"memcached://{server}"


def _locmem(key: str, location: Any, options: Mapping[str, Any]) -> str:
    """The per-process ``memory://`` cache; an explicit MAX_ENTRIES is kept (Django's default of 300 is not)."""
    entries = options.get("MAX_ENTRIES")
    if entries is None:
        return "memory://"
    if not isinstance(entries, int) or isinstance(entries, bool) or entries <= 0:
        raise Refused(key, "OPTIONS MAX_ENTRIES: a positive int", repr(entries))
    return f"memory://?max_entries={entries}"


_CACHE_BUILDERS: dict[str, Callable[[str, Any, Mapping[str, Any]], str]] = {
    DJANGO_REDIS: _redis, DJANGO_REDIS_PACKAGE: _redis, LOCMEM: _locmem,
    **{backend: _memcached for backend in MEMCACHED},
}


def database_url(databases: Any, alias: str = "default") -> str:
    """The ``SESSION_DB_URL`` for ``DATABASES[alias]``; :class:`Refused` otherwise."""
    if not isinstance(databases, Mapping) or not isinstance(databases.get(alias), Mapping):
        raise Refused("DATABASES", f"a dict with a {alias!r} database, as in Django",
                      "no such database" if isinstance(databases, Mapping) else f"a {type(databases).__name__}")
    key, config = f"DATABASES[{alias!r}]", databases[alias]
    scheme = DATABASE_SCHEMES.get(config.get("ENGINE"))
    if scheme is None:
        raise Refused(key, "ENGINE: Django's postgresql, mysql or sqlite3 backend (or give SESSION_DB_URL, any"
                      " SQLAlchemy URL)", repr(config.get("ENGINE")))
    options = config.get("OPTIONS") or {}
    if not isinstance(options, Mapping):
        raise Refused(key, "OPTIONS as a dict", f"a {type(options).__name__}")
    name = config.get("NAME")
    if scheme == "sqlite":
        return _sqlite(key, name, options)
    return _server_url(key, scheme, config, options)


def _sqlite(key: str, name: Any, options: Mapping[str, Any]) -> str:
    path = str(name) if name is not None else ""
    if path in ("", ":memory:") or path.startswith("file:"):
        raise Refused(key, "NAME: the path of a SQLite file (an in-memory database is private to one connection)",
                      repr(path))
    timeout = options.get("timeout")
    query = f"?timeout={timeout}" if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) else ""
    return f"sqlite:///{path}{query}"


def _server_url(key: str, scheme: str, config: Mapping[str, Any], options: Mapping[str, Any]) -> str:
    user, password = config.get("USER") or "", config.get("PASSWORD") or ""
    host, port, name = str(config.get("HOST") or ""), str(config.get("PORT") or ""), str(config.get("NAME") or "")
    query: dict[str, str] = {}
    for option, value in options.items():
        if option in DJANGO_ONLY_OPTIONS:
            continue
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise Refused(key, f"OPTIONS of plain values (write {option!r} into SESSION_DB_URL's query instead)",
                          f"a {type(value).__name__} for {option!r}")
        query[str(option)] = str(value)
    if host.startswith("/"):  # a Unix socket: libpq takes its folder as host, PyMySQL the socket file
        query["host" if scheme == "postgresql" else "unix_socket"] = host
        host = ""
    auth = quote(str(user), safe="") + (f":{quote(str(password), safe='')}" if password else "")
    netloc = (f"{auth}@" if auth else "") + host + (f":{port}" if port and host else "")
    return f"{scheme}://{netloc}/{quote(name, safe='')}" + (f"?{urlencode(query)}" if query else "")
