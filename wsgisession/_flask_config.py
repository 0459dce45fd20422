"""Flask's ``app.config`` -> a wsgisession settings dict (no Flask import: plain mappings in, a dict out).

Read are ``SECRET_KEY``, ``SECRET_KEY_FALLBACKS``, ``PERMANENT_SESSION_LIFETIME``,
``APPLICATION_ROOT`` and every ``SESSION_*`` key; every other key belongs to Flask or
another extension and is left alone. Flask's own ``SESSION_COOKIE_*`` keys are shared with
Flask (see :data:`FLASK_KEYS`); Flask-Session's keys are refused with our equivalent named.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from .errors import ConfigurationError, SettingProblem
from .settings import Settings

#: Flask-Session's keys, and what to set instead (a ConfigurationError names it).
FLASK_SESSION_KEYS = {
    "SESSION_TYPE": 'SESSION_ENGINE ("redis", "db" for sqlalchemy, "file" for filesystem, "cache" with'
                    ' SESSION_CACHE_URL="memcached://host:port" for memcached)',
    "SESSION_PERMANENT": "SESSION_EXPIRE_AT_BROWSER_CLOSE (its inverse), or session.permanent per session",
    "SESSION_USE_SIGNER": "nothing: wsgisession always signs the cookie with SECRET_KEY (remove the key)",
    "SESSION_KEY_PREFIX": "SESSION_REDIS_PREFIX",
    "SESSION_REDIS": "SESSION_REDIS_URL (or SESSION_REDIS_SENTINELS, SESSION_REDIS_CLUSTER): a URL, not a client",
    "SESSION_MEMCACHED": 'SESSION_ENGINE="cache" with SESSION_CACHE_URL="memcached://host:port"',
    "SESSION_CACHELIB": 'SESSION_ENGINE="cache" with SESSION_CACHE_URL',
    "SESSION_FILE_DIR": "SESSION_FILE_PATH",
    "SESSION_FILE_THRESHOLD": "nothing: `wsgisession clearsessions` deletes expired sessions (remove the key)",
    "SESSION_FILE_MODE": "nothing: session files are created readable by their owner only (remove the key)",
    "SESSION_SQLALCHEMY": "SESSION_DB_URL (a SQLAlchemy URL, not a Flask-SQLAlchemy object)",
    "SESSION_SQLALCHEMY_TABLE": "SESSION_DB_TABLE",
    "SESSION_SQLALCHEMY_SEQUENCE": "nothing (remove the key)",
    "SESSION_SQLALCHEMY_SCHEMA": "SESSION_DB_TABLE",
    "SESSION_SQLALCHEMY_BIND_KEY": "SESSION_DB_URL",
    "SESSION_SERIALIZATION_FORMAT": 'SESSION_SERIALIZER ("json", never pickle)',
    "SESSION_ID_LENGTH": "nothing: session keys are 256 random bits (remove the key)",
    "SESSION_CLEANUP_N_REQUESTS": "`wsgisession clearsessions` run from cron (remove the key)",
    "SESSION_MONGODB": 'SESSION_ENGINE ("db", "redis", ...): MongoDB is not supported',
    "SESSION_DYNAMODB": 'SESSION_ENGINE ("db", "redis", ...): DynamoDB is not supported',
}

#: Flask's own session keys (always in app.config), read as wsgisession's keys of the same name,
#: except where :func:`_flask_key` says otherwise.
FLASK_KEYS = frozenset({"SESSION_COOKIE_NAME", "SESSION_COOKIE_DOMAIN", "SESSION_COOKIE_PATH",
                        "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_SAMESITE",
                        "SESSION_COOKIE_PARTITIONED", "SESSION_REFRESH_EACH_REQUEST"})

#: SESSION_* keys of other extensions, left alone (Flask-Login's SESSION_PROTECTION).
OTHER_EXTENSION_KEYS = frozenset({"SESSION_PROTECTION"})


def settings_from_config(config: Mapping[str, Any], flask_defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The wsgisession settings dict ``config`` (a Flask app.config) describes.

    ``flask_defaults`` is Flask's ``app.default_config``: a Flask key still at Flask's
    default gives wsgisession's default where the two differ in safety (SameSite).
    Raises ConfigurationError listing every problem, Flask-Session keys included.
    """
    settings: dict[str, Any] = {}
    problems: list[SettingProblem] = []
    for name in ("SECRET_KEY", "SECRET_KEY_FALLBACKS"):
        if config.get(name):
            settings[name] = _secret(config[name])
    for key, value in config.items():
        if not isinstance(key, str) or not key.startswith("SESSION_") or key in OTHER_EXTENSION_KEYS:
            continue
        if key in FLASK_SESSION_KEYS:
            problems.append(SettingProblem(key, f"no Flask-Session key: set {FLASK_SESSION_KEYS[key]}",
                                           "a value" if key == "SESSION_REDIS" else repr(value)))
        elif key in FLASK_KEYS:
            problems.extend(_flask_key(key, value, config, flask_defaults, settings))
        else:
            settings[key] = value
    problems.extend(_lifetime(config, flask_defaults, settings))
    try:
        Settings.from_mapping(settings)
    except ConfigurationError as error:
        problems.extend(error.problems)
    if problems:
        raise ConfigurationError(problems)
    return settings


def _secret(value: Any) -> Any:
    """Flask accepts bytes keys (``os.urandom(24)``): read them as hex, so SECRET_KEY's rule weighs every bit."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (list, tuple)):
        return [_secret(item) for item in value]
    return value


def _flask_key(key: str, value: Any, config: Mapping[str, Any], defaults: Mapping[str, Any],
               settings: dict[str, Any]) -> list[SettingProblem]:
    if key == "SESSION_COOKIE_PARTITIONED":
        return [SettingProblem(key, "False (wsgisession does not send partitioned cookies)", repr(value))] \
            if value else []
    if key == "SESSION_REFRESH_EACH_REQUEST":
        return []  # Flask's cookie refresh: wsgisession renews the expiry every SESSION_TOUCH_INTERVAL instead
    if key == "SESSION_COOKIE_SAMESITE" and value == defaults.get(key):
        return []  # Flask's default is no SameSite at all; keep wsgisession's "Lax"
    if key == "SESSION_COOKIE_PATH" and value is None:
        value = config.get("APPLICATION_ROOT") or "/"  # as Flask's SessionInterface.get_cookie_path
    settings[key] = value
    return []


def _lifetime(config: Mapping[str, Any], defaults: Mapping[str, Any],
              settings: dict[str, Any]) -> list[SettingProblem]:
    """PERMANENT_SESSION_LIFETIME is SESSION_COOKIE_AGE, unless that is set (then they must agree)."""
    lifetime = config.get("PERMANENT_SESSION_LIFETIME")
    if lifetime is None:
        return []
    seconds = int(lifetime.total_seconds()) if isinstance(lifetime, timedelta) else lifetime
    if "SESSION_COOKIE_AGE" not in config:
        settings["SESSION_COOKIE_AGE"] = seconds
    elif lifetime != defaults.get("PERMANENT_SESSION_LIFETIME") and seconds != config["SESSION_COOKIE_AGE"]:
        return [SettingProblem("PERMANENT_SESSION_LIFETIME", "the same duration as SESSION_COOKIE_AGE, or only"
                               " one of the two", repr(lifetime))]
    return []
