"""A Django project's session settings, read as ours (and Flask-Session's keys refused with their equivalent).

:func:`translate` runs before the settings table: it turns Django's engine and
serializer paths into our names, ``CACHES``/``SESSION_CACHE_ALIAS`` into
``SESSION_CACHE_URL`` and ``DATABASES`` into ``SESSION_DB_URL``, and reports what it
cannot honour as :class:`SettingProblem` entries, so that they share one
``ConfigurationError`` with every other problem. Django is never imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._django_backends import Refused, cache_url, database_url
from .errors import SettingProblem

_BACKENDS = "django.contrib.sessions.backends."
#: Django's (and django-redis-sessions') SESSION_ENGINE paths -> our engine names.
DJANGO_ENGINES = {_BACKENDS + name: name for name in ("db", "cache", "cached_db", "file", "signed_cookies")}
DJANGO_ENGINES["redis_sessions.session"] = "redis"

JSON_SERIALIZER = "django.contrib.sessions.serializers.JSONSerializer"
PICKLE_SERIALIZER = "django.contrib.sessions.serializers.PickleSerializer"

#: Keys a Django settings module carries that translate() consumes (so they are known keys).
DJANGO_KEYS = ("CACHES", "DATABASES", "SESSION_CACHE_ALIAS")

#: Flask-Session keys -> what to write instead.
FLASK_SESSION_KEYS = {
    "SESSION_TYPE": 'SESSION_ENGINE ("redis", "db" for sqlalchemy, "file" for filesystem, "cache" with'
                    ' SESSION_CACHE_URL="memcached://host:port" for memcached)',
    "SESSION_PERMANENT": "SESSION_EXPIRE_AT_BROWSER_CLOSE (its opposite: SESSION_PERMANENT=False is"
                         " SESSION_EXPIRE_AT_BROWSER_CLOSE=True)",
    "SESSION_USE_SIGNER": "nothing: every cookie is signed with SECRET_KEY (remove the key)",
    "SESSION_KEY_PREFIX": "SESSION_REDIS_PREFIX",
    "SESSION_REDIS": 'SESSION_REDIS_URL (a URL such as "redis://host:6379/0", not a client; a dict, as'
                     " django-redis-sessions takes, is read)",
    "SESSION_FILE_DIR": "SESSION_FILE_PATH",
    "SESSION_SQLALCHEMY": "SESSION_DB_URL (a URL, not an engine)",
    "SESSION_SQLALCHEMY_TABLE": "SESSION_DB_TABLE",
    "SESSION_MEMCACHED": 'SESSION_CACHE_URL="memcached://host:port" with SESSION_ENGINE="cache"',
    "PERMANENT_SESSION_LIFETIME": "SESSION_COOKIE_AGE (seconds)",
}

#: django-redis-sessions keys spelled otherwise here.
REDIS_SESSIONS_KEYS = ("SESSION_REDIS_UNIX_DOMAIN_SOCKET_PATH", "SESSION_REDIS_SENTINEL_LIST",
                       "SESSION_REDIS_SENTINEL_MASTER_ALIAS")

#: django-redis-sessions keys that mean nothing here: accepted, with a note logged at start.
IGNORED_KEYS = {
    "SESSION_REDIS_RETRY_ON_TIMEOUT": "a failed connection is tried once more, always",
    "SESSION_REDIS_JSON_ENCODING": "sessions are JSON in UTF-8, always",
}


_TOUCHED = frozenset(DJANGO_KEYS) | frozenset(FLASK_SESSION_KEYS) | frozenset(IGNORED_KEYS) | frozenset(
    REDIS_SESSIONS_KEYS)


@dataclass
class Translation:
    """What :func:`translate` made of a settings dict."""

    #: The settings in our keys, ready for the table.
    settings: dict[Any, Any]
    problems: list[SettingProblem] = field(default_factory=list)
    #: Keys accepted but ignored, with why; logged once at start.
    notes: list[str] = field(default_factory=list)


def translate(mapping: Mapping[Any, Any]) -> Translation:
    """Read Django's (and django-redis-sessions') spellings as ours; refuse what cannot be honoured."""
    result = Translation(dict(mapping))
    settings = result.settings
    if not any(isinstance(key, str) and key in _TOUCHED for key in settings) and not _django_path(settings):
        return result  # the common case: our own keys only
    _engine(settings, result.problems)
    _serializer(settings, result.problems)
    _redis_sessions(settings, result.problems)
    _flask_session(settings, result.problems)
    for key, why in IGNORED_KEYS.items():
        if key in settings:
            del settings[key]
            result.notes.append(f"{key} ignored: {why}")
    _sources(settings, result.problems)
    return result


def _django_path(settings: Mapping[Any, Any]) -> bool:
    engine, serializer = settings.get("SESSION_ENGINE"), settings.get("SESSION_SERIALIZER")
    return (isinstance(engine, str) and engine.startswith(("django.", "redis_sessions."))) or (
        isinstance(serializer, str) and serializer.startswith("django."))


def _engine(settings: dict[Any, Any], problems: list[SettingProblem]) -> None:
    engine = settings.get("SESSION_ENGINE")
    if isinstance(engine, str) and engine in DJANGO_ENGINES:
        settings["SESSION_ENGINE"] = DJANGO_ENGINES[engine]
    elif isinstance(engine, str) and engine.startswith("django."):  # never imported as a custom store
        del settings["SESSION_ENGINE"]
        own = ", ".join(name for name in DJANGO_ENGINES if name.startswith("django."))
        problems.append(SettingProblem("SESSION_ENGINE", f"one of Django's own session backends ({own}) or our"
                                       " engine names (Django is never imported)", repr(engine)))


def _serializer(settings: dict[Any, Any], problems: list[SettingProblem]) -> None:
    serializer = settings.get("SESSION_SERIALIZER")
    if not isinstance(serializer, str):
        return
    if serializer == JSON_SERIALIZER:
        settings["SESSION_SERIALIZER"] = "json"
    elif serializer == PICKLE_SERIALIZER:
        del settings["SESSION_SERIALIZER"]
        problems.append(SettingProblem("SESSION_SERIALIZER", '"json" (pickle runs any code whoever can write to the'
                                       " session store puts there, so it is not offered)", repr(serializer)))
    elif serializer.startswith("django."):
        del settings["SESSION_SERIALIZER"]
        problems.append(SettingProblem("SESSION_SERIALIZER", '"json", or a class of your own with dumps(value) -> str'
                                       " and loads(str) (Django is never imported)", repr(serializer)))


def _redis_sessions(settings: dict[Any, Any], problems: list[SettingProblem]) -> None:
    """django-redis-sessions: the ``SESSION_REDIS`` dict and the flat keys we spell otherwise."""
    block = settings.get("SESSION_REDIS")
    if isinstance(block, Mapping):  # {"host": …, "port": …}: each entry is its flat SESSION_REDIS_<NAME> key
        del settings["SESSION_REDIS"]
        for name, value in block.items():
            settings.setdefault(f"SESSION_REDIS_{str(name).upper()}", value)
    socket = settings.pop("SESSION_REDIS_UNIX_DOMAIN_SOCKET_PATH", None)
    if socket is not None:
        db = settings.pop("SESSION_REDIS_DB", None)
        settings.setdefault("SESSION_REDIS_URL", f"unix://{socket}" + (f"?db={db}" if db is not None else ""))
    sentinels = settings.pop("SESSION_REDIS_SENTINEL_LIST", None)
    if sentinels is not None:
        try:
            settings["SESSION_REDIS_SENTINELS"] = [f"{host}:{port}" for host, port in sentinels]
        except (TypeError, ValueError):
            problems.append(SettingProblem("SESSION_REDIS_SENTINEL_LIST", "a list of (host, port) pairs",
                                           f"a {type(sentinels).__name__}"))
    if "SESSION_REDIS_SENTINEL_MASTER_ALIAS" in settings:
        settings["SESSION_REDIS_SENTINEL_MASTER"] = settings.pop("SESSION_REDIS_SENTINEL_MASTER_ALIAS")


def _flask_session(settings: dict[Any, Any], problems: list[SettingProblem]) -> None:
    for key, instead in FLASK_SESSION_KEYS.items():
        if key in settings:
            del settings[key]
            problems.append(SettingProblem(key, f"no such key here (a Flask-Session setting): use {instead}",
                                           "a value"))


def _sources(settings: dict[Any, Any], problems: list[SettingProblem]) -> None:
    """``CACHES``/``SESSION_CACHE_ALIAS`` and ``DATABASES`` -> our URLs, for the engines that use them.

    An explicit ``SESSION_CACHE_URL``/``SESSION_DB_URL`` wins; for other engines the
    Django keys are dropped (a Django settings module holds them for its own use).
    """
    caches, alias = settings.pop("CACHES", None), settings.pop("SESSION_CACHE_ALIAS", "default")
    databases = settings.pop("DATABASES", None)
    engine = settings.get("SESSION_ENGINE", "db")
    if engine in ("cache", "cached_db") and "SESSION_CACHE_URL" not in settings:
        try:
            if caches is not None:
                settings["SESSION_CACHE_URL"] = cache_url(caches, alias)
            elif alias != "default":  # Django's default CACHES has only "default"
                cache_url({"default": {}}, alias)
        except Refused as refused:
            problems.append(refused.problem)
    if engine in ("db", "cached_db") and databases is not None and "SESSION_DB_URL" not in settings:
        try:
            settings["SESSION_DB_URL"] = database_url(databases)
        except Refused as refused:
            problems.append(refused.problem)
