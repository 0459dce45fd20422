"""Parsers of setting values: each returns the parsed value or raises :class:`Invalid`.

``settings.py`` maps each settings key to one of these in its table.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from ._names import ENGINES, REDIS_URL_KINDS

ENGINE_NAMES = tuple(ENGINES)
_DOTTED_PATH = re.compile(r"[A-Za-z_][\w.]*[.:][A-Za-z_]\w*")
# RFC 6265 cookie-name token: no separators, controls or spaces.
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_SAMESITE = {"strict": "Strict", "lax": "Lax", "none": "None"}
#: SESSION_REDIS_URL schemes, as wsgisession.stores.redis_client builds them.
REDIS_SCHEMES = tuple(REDIS_URL_KINDS)
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[\w.-]+):\d{1,5}")

#: The rule every signing key meets (SECRET_KEY and each of SECRET_KEY_FALLBACKS).
SECRET_MIN_LENGTH = 32
SECRET_MIN_DISTINCT = 10
#: Keys copied from documentation and templates: anyone can forge cookies signed with them.
SECRET_PLACEHOLDERS = ("change-me", "changeme", "change_me", "replace-me", "replace_me", "your-secret",
                       "your_secret", "insecure", "do-not-use", "not-for-production", "placeholder")
SECRET_RULE = (f"a random string of at least {SECRET_MIN_LENGTH} characters, {SECRET_MIN_DISTINCT} or more of them"
               " different, not a placeholder (make one: python3 -c \"import secrets;"
               " print(secrets.token_urlsafe(48))\")")


class Invalid(Exception):
    def __init__(self, expected: str, received: str | None = None) -> None:
        self.expected = expected
        #: What the value was, in words, where its repr must not be shown (a secret).
        self.received = received


def check(ok: bool, expected: str) -> None:
    if not ok:
        raise Invalid(expected)


def boolean(value: Any) -> bool:
    check(isinstance(value, bool), "True or False")
    return bool(value)


def positive_int(value: Any) -> int:
    check(isinstance(value, int) and not isinstance(value, bool) and value > 0, "a positive int (seconds)")
    return int(value)


def non_negative_int(value: Any) -> int:
    check(isinstance(value, int) and not isinstance(value, bool) and value >= 0, "an int >= 0 (seconds)")
    return int(value)


def positive_bytes(value: Any) -> int:
    check(isinstance(value, int) and not isinstance(value, bool) and value > 0, "a positive int (bytes) or None")
    return int(value)


def positive_seconds(value: Any) -> float:
    check(isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0, "a number > 0 (seconds)")
    return float(value)


def text(value: Any) -> str:
    check(isinstance(value, str) and value != "", "a non-empty string")
    return str(value)


def path(value: Any) -> str:
    """A string or an ``os.PathLike`` (``pathlib.Path``, as Django's settings use), as a string."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    check(isinstance(value, str) and value != "", "a folder path (a string or a pathlib.Path)")
    return str(value)


def secure(value: Any) -> bool | str:
    """SESSION_COOKIE_SECURE: True, False or ``"auto"`` (Secure on HTTPS requests only)."""
    check(isinstance(value, bool) or value == "auto", 'True, False or "auto"')
    return value if isinstance(value, bool) else "auto"


def anything(value: Any) -> Any:
    return value


def optional_text(value: Any) -> str | None:
    return None if value is None else text(value)


def secret_weakness(value: Any) -> str | None:
    """What makes ``value`` unfit to sign cookies, in words that do not reveal it; None for a good key."""
    if not isinstance(value, str):
        return f"a {type(value).__name__}, not a string"
    if len(value) < SECRET_MIN_LENGTH:
        return f"a key of {len(value)} characters"
    if len(set(value)) < SECRET_MIN_DISTINCT:
        return f"a key of only {len(set(value))} different characters"
    lowered = value.lower()
    if lowered.startswith("django-insecure-") or any(word in lowered for word in SECRET_PLACEHOLDERS):
        return "a placeholder key from documentation or a template"
    return None


def secret(value: Any) -> str | None:
    if value is None:
        return None
    weakness = secret_weakness(value)
    if weakness is not None:
        raise Invalid(SECRET_RULE, weakness)
    return str(value)


def secret_list(value: Any) -> tuple[str, ...]:
    """SECRET_KEY_FALLBACKS: each entry meets the rule of SECRET_KEY (a weak old key forges sessions as well)."""
    if not isinstance(value, (list, tuple)):
        raise Invalid("a list of old secret keys", f"a {type(value).__name__}")
    for index, item in enumerate(value):
        weakness = secret_weakness(item)
        if weakness is not None:
            raise Invalid(f"in every entry, {SECRET_RULE}", f"entry {index}: {weakness}")
    return tuple(value)


def engine(value: Any) -> str:
    check(isinstance(value, str) and (value in ENGINE_NAMES or bool(_DOTTED_PATH.fullmatch(value))),
           f"one of {', '.join(ENGINE_NAMES)} or a dotted path to a store class")
    return str(value)


def serializer(value: Any) -> str:
    check(isinstance(value, str) and (value == "json" or bool(_DOTTED_PATH.fullmatch(value))),
           '"json" or a dotted path to a serializer class')
    return str(value)


def cookie_name(value: Any) -> str:
    check(isinstance(value, str) and bool(_COOKIE_NAME.fullmatch(value)), "a cookie name (letters, digits, -_.)")
    return str(value)


def cookie_path(value: Any) -> str:
    check(isinstance(value, str) and value.startswith("/"), 'a path starting with "/"')
    return str(value)


def samesite(value: Any) -> str | None:
    if value is None:
        return None
    check(isinstance(value, str) and value.lower() in _SAMESITE, '"Strict", "Lax", "None" or None')
    return _SAMESITE[value.lower()]


def url(*schemes: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        check(isinstance(value, str) and value.split(":", 1)[0].split("+", 1)[0] in schemes,
               f"a URL starting with {' or '.join(s + '://' for s in schemes)}")
        return str(value)
    return parse


def one_of(*choices: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        check(value in choices, " or ".join(repr(choice) for choice in choices))
        return str(value)
    return parse


def settings_dict(value: Any) -> dict[str, Any]:
    """A nested settings dict (SESSION_MIGRATE_FROM); its keys are checked as settings of their own."""
    check(isinstance(value, dict) and all(isinstance(key, str) for key in value)
          and "SESSION_MIGRATE_FROM" not in value, "a dict of settings (without SESSION_MIGRATE_FROM)")
    return dict(value)


def optional(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else parse(value)


def port(value: Any) -> int:
    check(isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536, "a port number")
    return int(value)


def db_number(value: Any) -> int:
    check(isinstance(value, int) and not isinstance(value, bool) and value >= 0, "a Redis database number")
    return int(value)


def redis_url(value: Any) -> str:
    check(isinstance(value, str) and value.partition("://")[0].lower() in REDIS_SCHEMES,
           f"a URL starting with {' or '.join(s + '://' for s in REDIS_SCHEMES)}")
    return str(value)


def host_ports(value: Any) -> tuple[str, ...]:
    check(isinstance(value, (list, tuple)) and bool(value)
           and all(isinstance(item, str) and _HOST_PORT.fullmatch(item) for item in value),
           'a non-empty list of "host:port" strings')
    return tuple(value)


def connection_count(value: Any) -> int:
    check(isinstance(value, int) and not isinstance(value, bool) and value > 0, "a positive int (connections)")
    return int(value)


def ca_file(value: Any) -> str | None:
    if value is None:
        return None
    check(isinstance(value, str) and os.path.isfile(value), "the path of a PEM file of CA certificates")
    return str(value)
