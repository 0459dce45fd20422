"""Pyramid settings (often strings from an ``.ini`` file) -> the settings dict of SessionMiddleware.

Kept apart from :mod:`wsgisession.pyramid` so it can be tested without Pyramid installed.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

from .errors import ConfigurationError, SettingProblem
from .settings import KNOWN_KEYS, Settings

#: The prefix of the ``.ini`` spelling: ``wsgisession.redis_url`` is ``SESSION_REDIS_URL``.
PREFIX = "wsgisession."
_SECRET_NAMES = ("secret_key", "secret_key_fallbacks")
#: Keys without a field of their own in Settings (folded into SESSION_REDIS_URL), by the type they take.
_UNFIELDED: dict[str, Any] = {
    "SESSION_REDIS_PORT": int | None,
    "SESSION_REDIS_DB": int | None,
    "SESSION_REDIS_SENTINELS": tuple[str, ...],
    "SESSION_REDIS_CLUSTER": bool,
}
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def settings_key(name: str) -> str:
    """``wsgisession.cookie_secure`` -> ``SESSION_COOKIE_SECURE``; ``wsgisession.secret_key`` -> ``SECRET_KEY``."""
    short = name[len(PREFIX):]
    return short.upper() if short in _SECRET_NAMES else f"SESSION_{short.upper()}"


def ini_name(key: str) -> str:
    """``SESSION_COOKIE_SECURE`` -> ``wsgisession.cookie_secure``: the inverse of :func:`settings_key`."""
    return PREFIX + (key if key.startswith("SECRET_") else key.removeprefix("SESSION_")).lower()


def from_pyramid_settings(pyramid_settings: Mapping[str, Any]) -> dict[str, Any]:
    """The wsgisession keys of ``pyramid_settings``, with ``.ini`` strings turned into the types they stand for.

    Reads ``wsgisession.*`` keys and the upper-case keys themselves (``SECRET_KEY``, ``SESSION_*``); other
    keys belong to Pyramid or the application and are left alone. A string that does not read as the type
    it stands for is passed on as it is, so the ConfigurationError names the key and the value.

    :raises ConfigurationError: when one setting is given in both spellings.
    """
    hints = _type_hints()
    settings: dict[str, Any] = {}
    problems = []
    for name, value in pyramid_settings.items():
        if name.startswith(PREFIX):
            key = settings_key(name)
        elif name in ("SECRET_KEY", "SECRET_KEY_FALLBACKS") or name.startswith("SESSION_"):
            key = name
        else:
            continue
        if key in settings:
            problems.append(SettingProblem(key, f"one spelling ({key} or {ini_name(key)})", "both"))
        settings[key] = _typed(hints.get(key, str), value) if isinstance(value, str) else value
    if problems:
        raise ConfigurationError(problems)
    return settings


def _type_hints() -> dict[str, Any]:
    """Settings key -> the type its value takes (from the Settings fields' annotations)."""
    fields = typing.get_type_hints(Settings)
    hints = dict(_UNFIELDED)
    for key in KNOWN_KEYS:
        name = key.lower() if key.startswith("SECRET_") else key.removeprefix("SESSION_").lower()
        if name in fields:
            hints[key] = fields[name]
    return hints


def _typed(hint: Any, text: str) -> Any:
    """``text`` as a value of type ``hint``; ``text`` itself where it does not read as one."""
    optional = type(None) in typing.get_args(hint)
    if optional and text.strip().lower() in ("", "none") and hint != str | None:
        return None  # "None" stays a string where a string is wanted (SameSite "None")
    base = next((arg for arg in typing.get_args(hint) if arg is not type(None)), hint) if optional else hint
    cleaned = text.strip()
    if base is bool or bool in typing.get_args(base):  # bool | "auto" (SESSION_COOKIE_SECURE): other words stay text
        lowered = cleaned.lower()
        return True if lowered in _TRUE else False if lowered in _FALSE else text
    try:
        if base is int:
            return int(cleaned)
        if base is float:
            return float(cleaned)
    except ValueError:
        return text
    if typing.get_origin(base) is tuple:
        return tuple(cleaned.split())  # Pyramid's aslist: one value per line or word
    return text
