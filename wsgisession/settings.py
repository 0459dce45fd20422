"""Settings: a plain dict in, a frozen :class:`Settings` out, every problem reported at once."""

from __future__ import annotations

import difflib
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from . import _setting_parsers as parse
from .errors import ConfigurationError, SettingProblem


#: Engines known by name; anything else must be a dotted path ("pkg.module.Class").
@dataclass(frozen=True)
class Settings:
    """Validated settings; build with :meth:`from_mapping`. Field docs give the dict keys."""

    #: SECRET_KEY
    secret_key: str | None = None
    #: SECRET_KEY_FALLBACKS: older keys still accepted when reading.
    secret_key_fallbacks: tuple[str, ...] = ()
    #: SESSION_ENGINE
    engine: str = "db"
    #: SESSION_COOKIE_NAME
    cookie_name: str = "sessionid"
    #: SESSION_COOKIE_AGE, in seconds (two weeks).
    cookie_age: int = 1209600
    #: SESSION_COOKIE_DOMAIN
    cookie_domain: str | None = None
    #: SESSION_COOKIE_PATH
    cookie_path: str = "/"
    #: SESSION_COOKIE_SECURE
    cookie_secure: bool = False
    #: SESSION_COOKIE_HTTPONLY
    cookie_httponly: bool = True
    #: SESSION_COOKIE_SAMESITE: "Strict", "Lax", "None" or None.
    cookie_samesite: str | None = "Lax"
    #: SESSION_COOKIE_ENCRYPT: the signed_cookies engine encrypts the data (AES-GCM), not only signs it.
    cookie_encrypt: bool = False
    #: SESSION_EXPIRE_AT_BROWSER_CLOSE
    expire_at_browser_close: bool = False
    #: SESSION_SAVE_EVERY_REQUEST
    save_every_request: bool = False
    #: SESSION_SERIALIZER: "json" or a dotted path to a serializer class.
    serializer: str = "json"
    #: SESSION_DB_URL: a SQLAlchemy URL; a SQLite file in the working directory by default.
    db_url: str = "sqlite:///wsgisession.sqlite3"
    #: SESSION_DB_TABLE
    db_table: str = "wsgisession"
    #: SESSION_CACHE_URL: memory://, redis://… or memcached://host:port
    cache_url: str = "memory://"
    #: SESSION_FILE_PATH: the folder of the file engine (the system temp dir by default).
    file_path: str = tempfile.gettempdir()
    #: SESSION_REDIS_URL, or built from SESSION_REDIS_SENTINELS and _SENTINEL_MASTER or the seed-era
    #: SESSION_REDIS_HOST/PORT/DB/PASSWORD; SESSION_REDIS_CLUSTER makes it a redis+cluster:// URL.
    redis_url: str | None = None
    #: SESSION_REDIS_PREFIX
    redis_prefix: str = "session"
    #: SESSION_REDIS_SOCKET_TIMEOUT: seconds to wait for a Redis reply.
    redis_socket_timeout: float = 3.0
    #: SESSION_REDIS_CONNECT_TIMEOUT: seconds to wait for a connection to Redis.
    redis_connect_timeout: float = 2.0
    #: SESSION_REDIS_MAX_CONNECTIONS: connections a worker's Redis client opens at most, per server.
    redis_max_connections: int = 50
    #: SESSION_REDIS_SSL_CA_CERTS: PEM file of the CAs of rediss:// servers (the system's by default).
    redis_ssl_ca_certs: str | None = None
    #: SESSION_TOUCH_INTERVAL: a read renews the idle expiry at most this often (seconds).
    touch_interval: int = 60
    #: SESSION_LOCKING: requests of one session load-modify-save one after another.
    locking: bool = False
    #: SESSION_LOCK_TIMEOUT: how long a request waits for, and may hold, a session's lock (seconds).
    lock_timeout: float = 10.0
    #: SESSION_ABSOLUTE_AGE: a session ends this long after it began, whatever the activity (seconds).
    absolute_age: int | None = None
    #: SESSION_STORE_FAILURE: "raise" (503) or "anonymous" (an empty, unsaved session).
    store_failure: str = "raise"

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None = None) -> Settings:
        """Validate ``mapping``; raise :class:`ConfigurationError` listing every problem."""
        return _parse(mapping or {})


#: settings key -> (Settings field, parser). Keys without a field are folded in by _fold_redis.
_TABLE: dict[str, tuple[str | None, Callable[[Any], Any]]] = {
    "SECRET_KEY": ("secret_key", parse.secret),
    "SECRET_KEY_FALLBACKS": ("secret_key_fallbacks", parse.secret_list),
    "SESSION_ENGINE": ("engine", parse.engine),
    "SESSION_COOKIE_NAME": ("cookie_name", parse.cookie_name),
    "SESSION_COOKIE_AGE": ("cookie_age", parse.positive_int),
    "SESSION_COOKIE_DOMAIN": ("cookie_domain", parse.optional_text),
    "SESSION_COOKIE_PATH": ("cookie_path", parse.cookie_path),
    "SESSION_COOKIE_SECURE": ("cookie_secure", parse.boolean),
    "SESSION_COOKIE_HTTPONLY": ("cookie_httponly", parse.boolean),
    "SESSION_COOKIE_SAMESITE": ("cookie_samesite", parse.samesite),
    "SESSION_COOKIE_ENCRYPT": ("cookie_encrypt", parse.boolean),
    "SESSION_EXPIRE_AT_BROWSER_CLOSE": ("expire_at_browser_close", parse.boolean),
    "SESSION_SAVE_EVERY_REQUEST": ("save_every_request", parse.boolean),
    "SESSION_SERIALIZER": ("serializer", parse.serializer),
    "SESSION_DB_URL": ("db_url", parse.text),
    "SESSION_DB_TABLE": ("db_table", parse.text),
    "SESSION_CACHE_URL": ("cache_url", parse.url("memory", "redis", "rediss", "memcached")),
    "SESSION_FILE_PATH": ("file_path", parse.text),
    "SESSION_REDIS_URL": ("redis_url", parse.optional(parse.redis_url)),
    "SESSION_REDIS_PREFIX": ("redis_prefix", parse.text),
    "SESSION_REDIS_SOCKET_TIMEOUT": ("redis_socket_timeout", parse.positive_seconds),
    "SESSION_REDIS_CONNECT_TIMEOUT": ("redis_connect_timeout", parse.positive_seconds),
    "SESSION_REDIS_MAX_CONNECTIONS": ("redis_max_connections", parse.connection_count),
    "SESSION_REDIS_SSL_CA_CERTS": ("redis_ssl_ca_certs", parse.ca_file),
    "SESSION_TOUCH_INTERVAL": ("touch_interval", parse.non_negative_int),
    "SESSION_LOCKING": ("locking", parse.boolean),
    "SESSION_LOCK_TIMEOUT": ("lock_timeout", parse.positive_seconds),
    "SESSION_ABSOLUTE_AGE": ("absolute_age", parse.optional(parse.positive_int)),
    "SESSION_STORE_FAILURE": ("store_failure", parse.one_of("raise", "anonymous")),
    "SESSION_REDIS_HOST": (None, parse.optional_text),
    "SESSION_REDIS_PORT": (None, parse.optional(parse.port)),
    "SESSION_REDIS_DB": (None, parse.optional(parse.db_number)),
    "SESSION_REDIS_PASSWORD": (None, parse.optional(parse.text)),
    "SESSION_REDIS_SENTINELS": (None, parse.optional(parse.host_ports)),
    "SESSION_REDIS_SENTINEL_MASTER": (None, parse.optional_text),
    "SESSION_REDIS_CLUSTER": (None, parse.boolean),
}

#: Every key the settings dict may hold.
KNOWN_KEYS = tuple(_TABLE)
#: The keys whose values are never shown, not even in part.
SECRET_KEYS = frozenset({"SECRET_KEY", "SECRET_KEY_FALLBACKS", "SESSION_REDIS_PASSWORD"})


def _parse(mapping: Mapping[str, Any]) -> Settings:
    problems: list[SettingProblem] = []
    values: dict[str, Any] = {}
    seed_redis: dict[str, Any] = {}
    for key, raw in mapping.items():
        entry = _TABLE.get(key) if isinstance(key, str) else None
        if entry is None:
            close = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1)
            problems.append(SettingProblem(str(key), "a known setting", "an unknown key", close[0] if close else None))
            continue
        attr, parser = entry
        try:
            parsed = parser(raw)
        except parse.Invalid as invalid:
            shown = invalid.received or ("a value of the wrong kind" if key in SECRET_KEYS else repr(raw))
            problems.append(SettingProblem(key, invalid.expected, shown))
            continue
        if attr is None:
            seed_redis[key] = parsed
        else:
            values[attr] = parsed
    _fold_redis(seed_redis, values, problems)
    settings = Settings(**values)
    problems.extend(_cross_checks(settings, {problem.key for problem in problems}))
    if problems:
        raise ConfigurationError(problems)
    return settings


def _fold_redis(seed: dict[str, Any], values: dict[str, Any], problems: list[SettingProblem]) -> None:
    """Turn the keys without a field (seed-era SESSION_REDIS_HOST/…, Sentinels, Cluster) into SESSION_REDIS_URL."""
    given = {key for key, value in seed.items() if value is not None and value is not False}
    if given & {"SESSION_REDIS_SENTINELS", "SESSION_REDIS_SENTINEL_MASTER"}:
        _fold_sentinels(seed, values, problems)
    elif given - {"SESSION_REDIS_CLUSTER"}:
        _fold_seed(seed, values, problems)
    if seed.get("SESSION_REDIS_CLUSTER"):
        _fold_cluster(values, problems)


def _fold_seed(seed: dict[str, Any], values: dict[str, Any], problems: list[SettingProblem]) -> None:
    if values.get("redis_url"):
        problems.append(SettingProblem("SESSION_REDIS_URL", "either a URL or SESSION_REDIS_HOST and friends, not both",
                                       "both"))
        return
    host = seed.get("SESSION_REDIS_HOST") or "127.0.0.1"
    port, db = seed.get("SESSION_REDIS_PORT") or 6379, seed.get("SESSION_REDIS_DB") or 0
    values["redis_url"] = f"redis://{_auth(seed)}{host}:{port}/{db}"


def _fold_sentinels(seed: dict[str, Any], values: dict[str, Any], problems: list[SettingProblem]) -> None:
    """SESSION_REDIS_SENTINELS and _SENTINEL_MASTER, with the seed-era _PASSWORD and _DB if given."""
    sentinels, master = seed.get("SESSION_REDIS_SENTINELS"), seed.get("SESSION_REDIS_SENTINEL_MASTER")
    clashes = [key for key in ("SESSION_REDIS_HOST", "SESSION_REDIS_PORT") if seed.get(key) is not None]
    clashes += ["SESSION_REDIS_URL"] if values.get("redis_url") else []
    for key in clashes:
        problems.append(SettingProblem(key, "no value with SESSION_REDIS_SENTINELS (the Sentinels name the master)",
                                       "a value"))
    if not sentinels or not master:
        missing = "SESSION_REDIS_SENTINEL_MASTER" if sentinels else "SESSION_REDIS_SENTINELS"
        problems.append(SettingProblem(missing, "SESSION_REDIS_SENTINELS and _SENTINEL_MASTER together", "none"))
    elif not clashes:
        values["redis_url"] = (f"redis+sentinel://{_auth(seed)}{','.join(sentinels)}/{quote(master, safe='')}"
                               f"/{seed.get('SESSION_REDIS_DB') or 0}")


def _fold_cluster(values: dict[str, Any], problems: list[SettingProblem]) -> None:
    """SESSION_REDIS_CLUSTER: the redis:// or rediss:// URL names one node of a Redis Cluster."""
    scheme, _, rest = (values.get("redis_url") or "").partition("://")
    if scheme.lower() in ("redis", "rediss"):
        values["redis_url"] = f"{scheme.lower()}+cluster://{rest}"
    elif scheme.lower() not in ("redis+cluster", "rediss+cluster"):
        problems.append(SettingProblem("SESSION_REDIS_CLUSTER", "True only with a redis:// or rediss:// "
                                       "SESSION_REDIS_URL (or SESSION_REDIS_HOST) naming a node of the Cluster",
                                       "True"))


def _auth(seed: dict[str, Any]) -> str:
    password = seed.get("SESSION_REDIS_PASSWORD")
    return f":{quote(password, safe='')}@" if password else ""


def _cross_checks(settings: Settings, refused: set[str]) -> list[SettingProblem]:
    problems = []
    if not settings.secret_key and "SECRET_KEY" not in refused:
        problems.append(SettingProblem("SECRET_KEY", "a secret key (it signs the session cookie)", "none"))
    if settings.engine == "redis" and not settings.redis_url:
        problems.append(SettingProblem("SESSION_REDIS_URL", "a Redis URL (or SESSION_REDIS_HOST) for the redis engine",
                                       "none"))
    if settings.locking and settings.engine == "signed_cookies":
        problems.append(SettingProblem("SESSION_LOCKING", "False with signed_cookies (a cookie cannot be locked)",
                                       "True"))
    if settings.cookie_samesite == "None" and not settings.cookie_secure:
        problems.append(SettingProblem("SESSION_COOKIE_SAMESITE", 'SESSION_COOKIE_SECURE=True with SameSite "None"'
                                       " (browsers drop such cookies otherwise)", "'None' without Secure"))
    problems.extend(_cookie_prefix_checks(settings))
    return problems


def _cookie_prefix_checks(settings: Settings) -> list[SettingProblem]:
    """The rules browsers enforce on ``__Host-`` and ``__Secure-`` names (RFC 6265bis, 4.1.3): else they drop it."""
    name = settings.cookie_name
    lowered = name.lower()  # browsers match the prefixes case-insensitively
    if not lowered.startswith(("__host-", "__secure-")):
        return []
    why = f"for a cookie named {name!r} (browsers drop it otherwise)"
    problems = []
    if not settings.cookie_secure:
        problems.append(SettingProblem("SESSION_COOKIE_SECURE", f"True {why}", "False"))
    if lowered.startswith("__host-") and settings.cookie_path != "/":
        problems.append(SettingProblem("SESSION_COOKIE_PATH", f'"/" {why}', repr(settings.cookie_path)))
    if lowered.startswith("__host-") and settings.cookie_domain is not None:
        problems.append(SettingProblem("SESSION_COOKIE_DOMAIN", f"None {why}", repr(settings.cookie_domain)))
    return problems

