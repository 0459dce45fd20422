"""Settings: a plain dict in, a frozen :class:`Settings` out, every problem reported at once."""

from __future__ import annotations

import difflib
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .errors import ConfigurationError, SettingProblem

#: Engines known by name; anything else must be a dotted path ("pkg.module.Class").
ENGINE_NAMES = ("db", "cache", "cached_db", "file", "signed_cookies", "redis")
_DOTTED_PATH = re.compile(r"[A-Za-z_][\w.]*[.:][A-Za-z_]\w*")
# RFC 6265 cookie-name token: no separators, controls or spaces.
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_SAMESITE = {"strict": "Strict", "lax": "Lax", "none": "None"}
#: SESSION_REDIS_URL schemes, as wsgisession.stores.redis_client builds them.
REDIS_SCHEMES = ("redis", "rediss", "unix", "redis+sentinel", "redis+cluster", "rediss+cluster")
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[\w.-]+):\d{1,5}")


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


# --- parsers: each returns the parsed value or raises _Invalid(expected) --------------


class _Invalid(Exception):
    def __init__(self, expected: str) -> None:
        self.expected = expected


def _check(ok: bool, expected: str) -> None:
    if not ok:
        raise _Invalid(expected)


def _bool(value: Any) -> bool:
    _check(isinstance(value, bool), "True or False")
    return bool(value)


def _positive_int(value: Any) -> int:
    _check(isinstance(value, int) and not isinstance(value, bool) and value > 0, "a positive int (seconds)")
    return int(value)


def _non_negative_int(value: Any) -> int:
    _check(isinstance(value, int) and not isinstance(value, bool) and value >= 0, "an int >= 0 (seconds)")
    return int(value)


def _positive_seconds(value: Any) -> float:
    _check(isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0, "a number > 0 (seconds)")
    return float(value)


def _text(value: Any) -> str:
    _check(isinstance(value, str) and value != "", "a non-empty string")
    return str(value)


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    _check(isinstance(value, str) and len(value) >= 16, "a string of at least 16 characters")
    return str(value)


def _secret_list(value: Any) -> tuple[str, ...]:
    _check(isinstance(value, (list, tuple)), "a list of secret strings")
    return tuple(_text(item) for item in value)


def _engine(value: Any) -> str:
    _check(isinstance(value, str) and (value in ENGINE_NAMES or bool(_DOTTED_PATH.fullmatch(value))),
           f"one of {', '.join(ENGINE_NAMES)} or a dotted path to a store class")
    return str(value)


def _serializer(value: Any) -> str:
    _check(isinstance(value, str) and (value == "json" or bool(_DOTTED_PATH.fullmatch(value))),
           '"json" or a dotted path to a serializer class')
    return str(value)


def _cookie_name(value: Any) -> str:
    _check(isinstance(value, str) and bool(_COOKIE_NAME.fullmatch(value)), "a cookie name (letters, digits, -_.)")
    return str(value)


def _cookie_path(value: Any) -> str:
    _check(isinstance(value, str) and value.startswith("/"), 'a path starting with "/"')
    return str(value)


def _samesite(value: Any) -> str | None:
    if value is None:
        return None
    _check(isinstance(value, str) and value.lower() in _SAMESITE, '"Strict", "Lax", "None" or None')
    return _SAMESITE[value.lower()]


def _url(*schemes: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        _check(isinstance(value, str) and value.split(":", 1)[0].split("+", 1)[0] in schemes,
               f"a URL starting with {' or '.join(s + '://' for s in schemes)}")
        return str(value)
    return parse


def _one_of(*choices: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        _check(value in choices, " or ".join(repr(choice) for choice in choices))
        return str(value)
    return parse


def _optional(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else parse(value)


def _port(value: Any) -> int:
    _check(isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536, "a port number")
    return int(value)


def _db_number(value: Any) -> int:
    _check(isinstance(value, int) and not isinstance(value, bool) and value >= 0, "a Redis database number")
    return int(value)


def _redis_url(value: Any) -> str:
    _check(isinstance(value, str) and value.partition("://")[0].lower() in REDIS_SCHEMES,
           f"a URL starting with {' or '.join(s + '://' for s in REDIS_SCHEMES)}")
    return str(value)


def _host_ports(value: Any) -> tuple[str, ...]:
    _check(isinstance(value, (list, tuple)) and bool(value)
           and all(isinstance(item, str) and _HOST_PORT.fullmatch(item) for item in value),
           'a non-empty list of "host:port" strings')
    return tuple(value)


def _connection_count(value: Any) -> int:
    _check(isinstance(value, int) and not isinstance(value, bool) and value > 0, "a positive int (connections)")
    return int(value)


def _ca_file(value: Any) -> str | None:
    if value is None:
        return None
    _check(isinstance(value, str) and os.path.isfile(value), "the path of a PEM file of CA certificates")
    return str(value)


#: settings key -> (Settings field, parser). Keys without a field are folded in by _fold_redis.
_TABLE: dict[str, tuple[str | None, Callable[[Any], Any]]] = {
    "SECRET_KEY": ("secret_key", _secret),
    "SECRET_KEY_FALLBACKS": ("secret_key_fallbacks", _secret_list),
    "SESSION_ENGINE": ("engine", _engine),
    "SESSION_COOKIE_NAME": ("cookie_name", _cookie_name),
    "SESSION_COOKIE_AGE": ("cookie_age", _positive_int),
    "SESSION_COOKIE_DOMAIN": ("cookie_domain", _optional_text),
    "SESSION_COOKIE_PATH": ("cookie_path", _cookie_path),
    "SESSION_COOKIE_SECURE": ("cookie_secure", _bool),
    "SESSION_COOKIE_HTTPONLY": ("cookie_httponly", _bool),
    "SESSION_COOKIE_SAMESITE": ("cookie_samesite", _samesite),
    "SESSION_COOKIE_ENCRYPT": ("cookie_encrypt", _bool),
    "SESSION_EXPIRE_AT_BROWSER_CLOSE": ("expire_at_browser_close", _bool),
    "SESSION_SAVE_EVERY_REQUEST": ("save_every_request", _bool),
    "SESSION_SERIALIZER": ("serializer", _serializer),
    "SESSION_DB_URL": ("db_url", _text),
    "SESSION_DB_TABLE": ("db_table", _text),
    "SESSION_CACHE_URL": ("cache_url", _url("memory", "redis", "rediss", "memcached")),
    "SESSION_FILE_PATH": ("file_path", _text),
    "SESSION_REDIS_URL": ("redis_url", _optional(_redis_url)),
    "SESSION_REDIS_PREFIX": ("redis_prefix", _text),
    "SESSION_REDIS_SOCKET_TIMEOUT": ("redis_socket_timeout", _positive_seconds),
    "SESSION_REDIS_CONNECT_TIMEOUT": ("redis_connect_timeout", _positive_seconds),
    "SESSION_REDIS_MAX_CONNECTIONS": ("redis_max_connections", _connection_count),
    "SESSION_REDIS_SSL_CA_CERTS": ("redis_ssl_ca_certs", _ca_file),
    "SESSION_TOUCH_INTERVAL": ("touch_interval", _non_negative_int),
    "SESSION_LOCKING": ("locking", _bool),
    "SESSION_LOCK_TIMEOUT": ("lock_timeout", _positive_seconds),
    "SESSION_ABSOLUTE_AGE": ("absolute_age", _optional(_positive_int)),
    "SESSION_STORE_FAILURE": ("store_failure", _one_of("raise", "anonymous")),
    "SESSION_REDIS_HOST": (None, _optional_text),
    "SESSION_REDIS_PORT": (None, _optional(_port)),
    "SESSION_REDIS_DB": (None, _optional(_db_number)),
    "SESSION_REDIS_PASSWORD": (None, _optional(_text)),
    "SESSION_REDIS_SENTINELS": (None, _optional(_host_ports)),
    "SESSION_REDIS_SENTINEL_MASTER": (None, _optional_text),
    "SESSION_REDIS_CLUSTER": (None, _bool),
}

#: Every key the settings dict may hold.
KNOWN_KEYS = tuple(_TABLE)


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
        attr, parse = entry
        try:
            parsed = parse(raw)
        except _Invalid as invalid:
            shown = "a value of the wrong kind" if "SECRET" in key else repr(raw)
            problems.append(SettingProblem(key, invalid.expected, shown))
            continue
        if attr is None:
            seed_redis[key] = parsed
        else:
            values[attr] = parsed
    _fold_redis(seed_redis, values, problems)
    settings = Settings(**values)
    problems.extend(_cross_checks(settings))
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


def _cross_checks(settings: Settings) -> list[SettingProblem]:
    problems = []
    if not settings.secret_key:
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

