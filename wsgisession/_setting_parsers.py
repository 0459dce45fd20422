"""Parsers of setting values: each returns the parsed value or raises :class:`Invalid`.

``settings.py`` maps each settings key to one of these in its table.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

ENGINE_NAMES = ("db", "cache", "cached_db", "file", "signed_cookies", "redis")
_DOTTED_PATH = re.compile(r"[A-Za-z_][\w.]*[.:][A-Za-z_]\w*")
# RFC 6265 cookie-name token: no separators, controls or spaces.
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_SAMESITE = {"strict": "Strict", "lax": "Lax", "none": "None"}
#: SESSION_REDIS_URL schemes, as wsgisession.stores.redis_client builds them.
REDIS_SCHEMES = ("redis", "rediss", "unix", "redis+sentinel", "redis+cluster", "rediss+cluster")
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[\w.-]+):\d{1,5}")




class Invalid(Exception):
    def __init__(self, expected: str) -> None:
        self.expected = expected


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


def positive_seconds(value: Any) -> float:
    check(isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0, "a number > 0 (seconds)")
    return float(value)


def text(value: Any) -> str:
    check(isinstance(value, str) and value != "", "a non-empty string")
    return str(value)


def optional_text(value: Any) -> str | None:
    return None if value is None else text(value)


def secret(value: Any) -> str | None:
    if value is None:
        return None
    check(isinstance(value, str) and len(value) >= 16, "a string of at least 16 characters")
    return str(value)


def secret_list(value: Any) -> tuple[str, ...]:
    check(isinstance(value, (list, tuple)), "a list of secret strings")
    return tuple(text(item) for item in value)


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
