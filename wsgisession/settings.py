"""Settings: a plain dict in, a frozen :class:`Settings` out, every problem reported at once."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import quote

from . import _django_settings
from . import _setting_parsers as parse
from ._migration_sources import FOREIGN_ENGINES
from .errors import ConfigurationError, SettingProblem, mask_url, mask_value

logger = logging.getLogger("wsgisession")


#: Engines known by name; anything else must be a dotted path ("pkg.module.Class").
@dataclass(frozen=True)
class Settings:
    """Validated settings; build with :meth:`from_mapping`. Field docs give the dict keys."""

    #: SECRET_KEY: **required**: signs the session cookie (every engine); a random string of at least 32
    #: characters, 10 or more of them different, not a placeholder
    #: (`python3 -c "import secrets; print(secrets.token_urlsafe(48))"`).
    secret_key: str | None = None
    #: SECRET_KEY_FALLBACKS: older keys still accepted when reading (key rotation); each meets SECRET_KEY's rule.
    secret_key_fallbacks: tuple[str, ...] = ()
    #: SESSION_ENGINE: `db`, `cache`, `cached_db`, `file`, `signed_cookies`, `redis`, or a dotted path
    #: ("pkg.module.Class") to your own store.
    engine: str = "db"
    #: SESSION_COOKIE_NAME: a `__Host-` name requires `SESSION_COOKIE_SECURE`, path `/` and no domain;
    #: `__Secure-` requires `SESSION_COOKIE_SECURE`.
    cookie_name: str = "sessionid"
    #: SESSION_COOKIE_AGE: seconds of inactivity before a session expires (two weeks); `0`, as in Django, makes
    #: every session expire at once (nothing is stored; the browser is told to drop its cookie).
    cookie_age: int = 1209600
    #: SESSION_COOKIE_DOMAIN: the cookie's `Domain`; `None` sends it back to the host that set it only.
    cookie_domain: str | None = None
    #: SESSION_COOKIE_PATH: the cookie's `Path`.
    cookie_path: str = "/"
    #: SESSION_COOKIE_SECURE: send the cookie over HTTPS only; `"auto"`: `Secure` when the request came over HTTPS
    #: (`wsgi.url_scheme`; behind a proxy, wrap the app in werkzeug's `ProxyFix` so it reads `X-Forwarded-Proto`).
    cookie_secure: bool | str = False
    #: SESSION_COOKIE_HTTPONLY: keep the cookie out of reach of JavaScript.
    cookie_httponly: bool = True
    #: SESSION_COOKIE_SAMESITE: `"Strict"`, `"Lax"`, `"None"` (requires `SESSION_COOKIE_SECURE`) or `None`.
    cookie_samesite: str | None = "Lax"
    #: SESSION_COOKIE_PARTITIONED: the cookie's `Partitioned` attribute (CHIPS: a third-party cookie kept per
    #: top-level site); requires `SESSION_COOKIE_SECURE`.
    cookie_partitioned: bool = False
    #: SESSION_COOKIE_ENCRYPT: the `signed_cookies` engine encrypts the data (AES-GCM), not only signs it;
    #: needs `pip install 'wsgi-session[crypto]'`; server-side engines ignore it.
    cookie_encrypt: bool = False
    #: SESSION_EXPIRE_AT_BROWSER_CLOSE: a cookie without `Max-Age`, which the browser drops when it closes.
    expire_at_browser_close: bool = False
    #: SESSION_SAVE_EVERY_REQUEST: save the session (and renew its expiry) on every request, changed or not.
    save_every_request: bool = False
    #: SESSION_SERIALIZER: `"json"`: JSON plus tagged `datetime`, `date`, `time`, `Decimal`, `UUID`, `bytes`,
    #: `set`, `frozenset` and `tuple` that come back as they went in (an aware datetime keeps its UTC offset,
    #: not its zone name; dict keys must be strings); or a dotted path to a class with `dumps(value) -> str`
    #: and `loads(str)`; pickle is not offered.
    serializer: str = "json"
    #: SESSION_DB_URL: any SQLAlchemy URL: SQLite, PostgreSQL (`postgresql+psycopg://…`),
    #: MySQL/MariaDB (`mysql+pymysql://…`); `postgres://`, `postgresql://`, `mysql://` and `mariadb://` get the
    #: drivers of the `postgres` and `mysql` extras; a SQLite file in the working directory by default.
    db_url: str = "sqlite:///wsgisession.sqlite3"
    #: SESSION_DB_TABLE: the table the `db` and `cached_db` engines use.
    db_table: str = "wsgisession"
    #: SESSION_CACHE_URL: the cache of the `cache` and `cached_db` engines: `memory://`
    #: (`memory://?max_entries=N`: at most N sessions, 10,000 by default), `redis://…`/`rediss://…` or
    #: `memcached://host:port`.
    cache_url: str = "memory://"
    #: SESSION_FILE_PATH: the folder of the `file` engine (a string or a `pathlib.Path`; must exist, belong to the
    #: app's user, and not be writable by group or others); `None` (as in Django): a private
    #: `<temp dir>/wsgisession-<uid>`, made `0700`.
    file_path: str | None = None
    #: SESSION_REDIS_URL: URL of the `redis` engine: `redis://`, `rediss://` (TLS), `unix://`,
    #: `redis+sentinel://`, `redis+cluster://` or `rediss+cluster://`; or built from SESSION_REDIS_SENTINELS
    #: and _SENTINEL_MASTER or the seed-era SESSION_REDIS_HOST/PORT/DB/PASSWORD; SESSION_REDIS_CLUSTER makes
    #: it a redis+cluster:// URL.
    redis_url: str | None = None
    #: SESSION_REDIS_PREFIX: key prefix of everything wsgisession keeps in Redis (the `redis` engine and
    #: `redis://` caches).
    redis_prefix: str = "session"
    #: SESSION_REDIS_SOCKET_TIMEOUT: seconds to wait for a Redis reply.
    redis_socket_timeout: float = 3.0
    #: SESSION_REDIS_CONNECT_TIMEOUT: seconds to wait for a connection to Redis (a failed connection is
    #: tried once more).
    redis_connect_timeout: float = 2.0
    #: SESSION_REDIS_MAX_CONNECTIONS: connections a worker process opens at most, per Redis server; with one
    #: server a command beyond it waits for a free one (up to the socket timeout), behind Sentinels or on a
    #: Cluster it fails (`StoreError`): at least the worker's threads there.
    redis_max_connections: int = 50
    #: SESSION_REDIS_SSL_CA_CERTS: PEM file of the CAs that `rediss://` servers' certificates must chain to;
    #: the system's by default.
    redis_ssl_ca_certs: str | None = None
    #: SESSION_TOUCH_INTERVAL: seconds: a read renews the idle expiry (and the cookie's `Max-Age`) at most
    #: this often, without rewriting the session; `0` renews on every read.
    touch_interval: int = 60
    #: SESSION_LOCKING: lock each session for the length of a request, so same-key read-modify-write is
    #: exact (not with `signed_cookies`).
    locking: bool = False
    #: SESSION_LOCK_TIMEOUT: seconds a request waits for a session's lock, and the longest a lock lasts.
    lock_timeout: float = 10.0
    #: SESSION_ABSOLUTE_AGE: seconds after which a session ends whatever the activity (the idle timeout is
    #: `SESSION_COOKIE_AGE`); `cycle_key()` keeps the deadline; with `signed_cookies`, `None` means
    #: `SESSION_COOKIE_AGE` (see the engine).
    absolute_age: int | None = None
    #: SESSION_STORE_FAILURE: `"raise"`: a store failure answers 503; `"anonymous"`: the request runs with
    #: an empty, unsaved session and no cookie change.
    store_failure: str = "raise"
    #: SESSION_NEW_TTL: seconds a session created by a request lives in the store until its cookie comes back
    #: once (crawlers, health checks and bots never return); then the touch of the first return that uses the
    #: session gives it the normal idle expiry. The cookie's `Max-Age` stays the normal one. `None` (the
    #: default): off; not with `signed_cookies` (nothing is stored to expire early).
    new_ttl: int | None = None
    #: SESSION_MAX_SIZE: bytes of data a session may hold (the UTF-8 size of its keys and serialized values,
    #: whatever the engine): a save past it raises `SessionTooLargeError` (a `SessionDataError` naming the
    #: largest keys) and writes nothing; `None`: no limit (1 MiB by default; signed cookies stop at 64 KiB anyway).
    max_size: int | None = 1024 * 1024
    #: SESSION_MIGRATE_FROM: the settings of the engine being left (a dict of the same keys; its SECRET_KEY
    #: defaults to this one's): a cookie the new store does not know is looked up there, and a session found
    #: is moved to the new store under a new key. Its SESSION_ENGINE may also be
    #: `"django.contrib.sessions.backends.db"` (Django's table, JSON serializer), `"flask_session.redis"`
    #: (msgpack) or `"beaker.cookie"` (JSON); see the Migrating page.
    migrate_from: Settings | None = None

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None = None, *, engine_being_left: bool = False) -> Settings:
        """Validate ``mapping``; raise :class:`~wsgisession.errors.ConfigurationError` listing every problem.

        ``engine_being_left``: the settings of a ``SESSION_MIGRATE_FROM`` (or ``migrate --from``),
        where a Django engine path names Django's own store.
        """
        return _parse(mapping or {}, engine_being_left=engine_being_left)

    def __repr__(self) -> str:
        """Every field, the keys as ``'***'`` and the URLs' passwords masked: tracebacks and error trackers show it."""
        shown = (f"{field.name}={_field_shown(field.name, getattr(self, field.name))}" for field in fields(self))
        return f"Settings({', '.join(shown)})"


def _field_shown(name: str, value: Any) -> str:
    if name in ("secret_key", "secret_key_fallbacks") and value:
        return "'***'"
    return repr(mask_url(value)) if name.endswith("_url") and isinstance(value, str) else repr(value)


#: settings key -> (Settings field, parser). Keys without a field are folded in by _fold_redis.
_TABLE: dict[str, tuple[str | None, Callable[[Any], Any]]] = {
    "SECRET_KEY": ("secret_key", parse.secret),
    "SECRET_KEY_FALLBACKS": ("secret_key_fallbacks", parse.secret_list),
    "SESSION_ENGINE": ("engine", parse.engine),
    "SESSION_COOKIE_NAME": ("cookie_name", parse.cookie_name),
    "SESSION_COOKIE_AGE": ("cookie_age", parse.non_negative_int),
    "SESSION_COOKIE_DOMAIN": ("cookie_domain", parse.optional_text),
    "SESSION_COOKIE_PATH": ("cookie_path", parse.cookie_path),
    "SESSION_COOKIE_SECURE": ("cookie_secure", parse.secure),
    "SESSION_COOKIE_PARTITIONED": ("cookie_partitioned", parse.boolean),
    "SESSION_COOKIE_HTTPONLY": ("cookie_httponly", parse.boolean),
    "SESSION_COOKIE_SAMESITE": ("cookie_samesite", parse.samesite),
    "SESSION_COOKIE_ENCRYPT": ("cookie_encrypt", parse.boolean),
    "SESSION_EXPIRE_AT_BROWSER_CLOSE": ("expire_at_browser_close", parse.boolean),
    "SESSION_SAVE_EVERY_REQUEST": ("save_every_request", parse.boolean),
    "SESSION_SERIALIZER": ("serializer", parse.serializer),
    "SESSION_DB_URL": ("db_url", parse.text),
    "SESSION_DB_TABLE": ("db_table", parse.text),
    "SESSION_CACHE_URL": ("cache_url", parse.url("memory", "redis", "rediss", "memcached")),
    "SESSION_FILE_PATH": ("file_path", parse.optional(parse.path)),
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
    "SESSION_NEW_TTL": ("new_ttl", parse.optional(parse.positive_int)),
    "SESSION_MAX_SIZE": ("max_size", parse.optional(parse.positive_bytes)),
    "SESSION_MIGRATE_FROM": ("migrate_from", parse.optional(parse.settings_dict)),
    #: SESSION_REDIS_HOST: the seed-era spelling (django-redis-sessions), with _PORT, _DB and _PASSWORD;
    #: turned into SESSION_REDIS_URL; not together with it.
    "SESSION_REDIS_HOST": (None, parse.optional_text),
    #: SESSION_REDIS_PORT: with SESSION_REDIS_HOST (6379 by default).
    "SESSION_REDIS_PORT": (None, parse.optional(parse.port)),
    #: SESSION_REDIS_DB: the database number, with SESSION_REDIS_HOST or the Sentinels (0 by default).
    "SESSION_REDIS_DB": (None, parse.optional(parse.db_number)),
    #: SESSION_REDIS_PASSWORD: with SESSION_REDIS_HOST or the Sentinels.
    "SESSION_REDIS_PASSWORD": (None, parse.optional(parse.text)),
    #: SESSION_REDIS_SENTINELS: `["host:port", …]` of the Sentinels that watch the master; with
    #: SESSION_REDIS_SENTINEL_MASTER; not together with SESSION_REDIS_URL.
    "SESSION_REDIS_SENTINELS": (None, parse.optional(parse.host_ports)),
    #: SESSION_REDIS_SENTINEL_MASTER: the name the Sentinels know the master by (`sentinel monitor <name> …`).
    "SESSION_REDIS_SENTINEL_MASTER": (None, parse.optional_text),
    #: SESSION_REDIS_CLUSTER: `True`: SESSION_REDIS_URL (or SESSION_REDIS_HOST) names one node of a Redis Cluster.
    "SESSION_REDIS_CLUSTER": (None, parse.boolean),
    #: CACHES: Django's cache settings: with the `cache` and `cached_db` engines and no SESSION_CACHE_URL, the
    #: entry SESSION_CACHE_ALIAS names (Django's or django-redis's RedisCache, PyMemcacheCache, PyLibMCCache,
    #: LocMemCache) becomes SESSION_CACHE_URL; other engines ignore it (see "Coming from Django").
    "CACHES": (None, parse.anything),
    #: SESSION_CACHE_ALIAS: the entry of CACHES sessions use (`"default"`).
    "SESSION_CACHE_ALIAS": (None, parse.anything),
    #: DATABASES: Django's database settings: with the `db` and `cached_db` engines and no SESSION_DB_URL,
    #: `DATABASES["default"]` (PostgreSQL, MySQL/MariaDB, SQLite) becomes SESSION_DB_URL; other engines ignore it.
    "DATABASES": (None, parse.anything),
}

#: Every key the settings dict may hold.
KNOWN_KEYS = tuple(_TABLE)
#: The keys whose values are never shown, not even in part.
SECRET_KEYS = frozenset({"SECRET_KEY", "SECRET_KEY_FALLBACKS", "SESSION_REDIS_PASSWORD"})


def _parse(mapping: Mapping[str, Any], *, engine_being_left: bool = False) -> Settings:
    if engine_being_left and mapping.get("SESSION_ENGINE") in FOREIGN_ENGINES:  # the other library's own store
        translation = _django_settings.Translation(dict(mapping))
    else:  # Django's spellings first, so one error lists everything
        translation = _django_settings.translate(mapping)
    problems = translation.problems
    values: dict[str, Any] = {}
    seed_redis: dict[str, Any] = {}
    for key, raw in translation.settings.items():
        entry = _TABLE.get(key) if isinstance(key, str) else None
        if entry is None:
            close = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1)
            problems.append(SettingProblem(str(key), "a known setting", "an unknown key", close[0] if close else None))
            continue
        attr, parser = entry
        try:
            parsed = parser(raw)
        except parse.Invalid as invalid:
            shown = invalid.received or ("a value of the wrong kind" if key in SECRET_KEYS else mask_value(raw))
            problems.append(SettingProblem(key, invalid.expected, shown))
            continue
        if attr is None:
            seed_redis[key] = parsed
        else:
            values[attr] = parsed
    _fold_redis(seed_redis, values, problems)
    if values.get("migrate_from") is not None:
        values["migrate_from"] = _old_engine(values["migrate_from"], values, problems)
    settings = Settings(**values)
    problems.extend(_cross_checks(settings, {problem.key for problem in problems}))
    if problems:
        raise ConfigurationError(problems)
    for note in translation.notes:
        logger.warning("settings: %s", note)
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


def _old_engine(raw: Mapping[str, Any], values: dict[str, Any], problems: list[SettingProblem]) -> Settings | None:
    """SESSION_MIGRATE_FROM parsed as settings of its own; SECRET_KEY (and its fallbacks) default to the outer ones."""
    inherited = {"SECRET_KEY": values.get("secret_key"), "SECRET_KEY_FALLBACKS": values.get("secret_key_fallbacks")}
    try:
        return _parse({**{key: value for key, value in inherited.items() if value}, **raw}, engine_being_left=True)
    except ConfigurationError as exc:
        problems.extend(SettingProblem(f"SESSION_MIGRATE_FROM[{problem.key}]", problem.expected, problem.received,
                                       problem.suggestion) for problem in exc.problems)
        return None


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
    if settings.new_ttl is not None and settings.engine == "signed_cookies":
        problems.append(SettingProblem("SESSION_NEW_TTL", "None with signed_cookies (the server keeps no record"
                                       " to expire early)", repr(settings.new_ttl)))
    if settings.cookie_samesite == "None" and not settings.cookie_secure:
        problems.append(SettingProblem("SESSION_COOKIE_SAMESITE", 'SESSION_COOKIE_SECURE=True with SameSite "None"'
                                       " (browsers drop such cookies otherwise)", "'None' without Secure"))
    if settings.cookie_partitioned and not settings.cookie_secure:
        problems.append(SettingProblem("SESSION_COOKIE_PARTITIONED", 'SESSION_COOKIE_SECURE=True (or "auto") with a'
                                       " Partitioned cookie (browsers drop such cookies otherwise)", "True"))
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

