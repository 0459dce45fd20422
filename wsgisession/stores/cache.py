"""The ``cache`` engine: sessions kept only in a cache, chosen by ``SESSION_CACHE_URL``.

Use it when losing a session now and then is acceptable (a cache may evict it)
and reads must be fast. ``memory://`` keeps sessions in the worker process: use
it with one worker only (each gunicorn worker would have its own sessions);
``memory://?max_entries=N`` bounds how many it keeps (10,000 by default).
``redis://`` or ``rediss://`` keeps them in Redis under ``SESSION_REDIS_PREFIX``,
shared by every worker; ``memcached://host:port`` keeps them in memcached under
that same prefix. For sessions that must survive, use ``cached_db``, which also
uses :func:`open_cache` for its cache layer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import ConfigurationError, SettingProblem, mask_value
from .memory import MemoryStore

if TYPE_CHECKING:
    from ..settings import Settings
    from .base import Store


def _memory(settings: Settings) -> Store:
    return MemoryStore.from_url(settings.cache_url)


def _redis(settings: Settings) -> Store:
    # Imported here so that a memory:// cache never imports redis-py.
    from .redis import RedisStore

    return RedisStore.from_settings(settings, settings.cache_url)


def _memcached(settings: Settings) -> Store:
    # Imported here so that a memory:// cache never imports pymemcache.
    try:
        from .memcached import MemcachedStore
    except ImportError as exc:
        raise ConfigurationError([SettingProblem(
            "SESSION_CACHE_URL", "a memcached:// URL with pymemcache installed (pip install 'wsgi-session[memcached]')",
            f"{mask_value(settings.cache_url)} (the module {exc.name!r} is not installed)")]) from None

    return MemcachedStore.from_settings(settings)


#: URL scheme of ``SESSION_CACHE_URL`` -> function building the cache store.
CACHES: dict[str, Callable[[Settings], Store]] = {
    "memory": _memory,
    "redis": _redis,
    "rediss": _redis,
    "redis+sentinel": _redis,
    "redis+cluster": _redis,
    "rediss+cluster": _redis,
    "memcached": _memcached,
}


def open_cache(settings: Settings) -> Store:
    """The store ``SESSION_CACHE_URL`` names.

    Raise :class:`ConfigurationError` (a ``ValueError``) for a scheme not in
    :data:`CACHES`. Nothing connects here: an unreachable cache shows up as a
    ``StoreError`` on first use.
    """
    scheme = settings.cache_url.split("://", 1)[0].lower()
    builder = CACHES.get(scheme)
    if builder is None:
        raise ConfigurationError([SettingProblem(
            "SESSION_CACHE_URL", f"a URL starting with {' or '.join(s + '://' for s in CACHES)}", repr(scheme + "://"))])
    return builder(settings)
