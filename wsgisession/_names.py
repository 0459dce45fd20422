"""The names settings accept for engines and Redis URLs: each set in one table.

The setting parsers derive their lists from these tables, and the modules that act on a name
(:mod:`.engines`, :mod:`.stores.redis_client`) look it up here, so a name is added in one place.
This module imports nothing: the parsers read it without importing a store or redis-py.
"""

from __future__ import annotations

#: Engine name -> "module:attribute" of a callable taking Settings (imported when chosen).
ENGINES: dict[str, str] = {
    "db": "wsgisession.stores.sql:SqlStore.from_settings",
    "cache": "wsgisession.stores.cache:open_cache",
    "cached_db": "wsgisession.stores.cached_db:CachedDbStore.from_settings",
    "file": "wsgisession.stores.file:FileStore.from_settings",
    "signed_cookies": "wsgisession.backends.signed_cookies:SignedCookieBackend.from_settings",
    "redis": "wsgisession.stores.redis:RedisStore.from_settings",
}

#: ``SESSION_REDIS_URL`` scheme -> the kind of deployment it names: one server, the master a
#: set of Sentinels names, or a Cluster. :mod:`.stores.redis_client` has a builder per kind.
REDIS_URL_KINDS: dict[str, str] = {
    "redis": "server",
    "rediss": "server",
    "unix": "server",
    "redis+sentinel": "sentinel",
    "redis+cluster": "cluster",
    "rediss+cluster": "cluster",
}
