"""Which Redis failures are the configuration's fault (a wrong password, an ACL, no such database), and what to fix."""

from __future__ import annotations

import functools
from typing import Any

from redis.exceptions import AuthenticationError, NoPermissionError, ResponseError

from ...errors import mask_url
from .._errors import Diagnosis, Misconfiguration

# No example URL with a password in it: every line shown passes through mask_urls, which would blank it.
_PASSWORD_FIX = ("put the password the server requires in the URL, before the host (a colon, the password and"
                 " an at sign; the ACL user's name before the colon), or in SESSION_REDIS_PASSWORD with"
                 " SESSION_REDIS_HOST")
_ACL_FIX = ("give the URL's ACL user the commands the store runs (+@read +@write +@scripting +@connection)"
            " on the keys under SESSION_REDIS_PREFIX (~PREFIX:*), or set SESSION_REDIS_PREFIX to the keys it may use")
_DB_FIX = "name a database number the server has (0 to 15 unless redis.conf sets 'databases')"


def classify(exc: BaseException, setting: str) -> Misconfiguration | None:
    """What ``exc`` says is wrong with ``setting`` (the store's URL), or None for an outage or anything else."""
    if isinstance(exc, AuthenticationError):
        text = str(exc)
        missing = text.startswith(("HELLO must be called", "Authentication required"))
        return Misconfiguration(setting, "no password given, and the server requires one" if missing
                                else "authentication failed", _PASSWORD_FIX)
    if isinstance(exc, NoPermissionError):
        return Misconfiguration(setting, "permission denied", _ACL_FIX)
    if isinstance(exc, ResponseError):
        text = str(exc)
        if "DB index is out of range" in text or "invalid DB index" in text:
            return Misconfiguration(setting, "unknown database", _DB_FIX)
        if text.startswith("unknown command"):
            return Misconfiguration(setting, "command refused",
                                    "use a Redis (7.0 or later) that allows EVAL, EVALSHA and SCRIPT")
    return None


def diagnosis(client: Any, setting: str, url: str | None = None) -> Diagnosis:
    """The :class:`Diagnosis` of a store on ``client``, whose server is ``url`` or read from the client."""
    return Diagnosis(functools.partial(classify, setting=setting), mask_url(url) if url else server_of(client))


def server_of(client: Any) -> str:
    """``host:port/db`` (or the socket path) of a client's connections, with no credentials; its type if unknown."""
    kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", None)
    if not isinstance(kwargs, dict):
        return type(client).__name__
    if kwargs.get("path"):
        return f"unix://{kwargs['path']}"
    if "service_name" in kwargs:  # a Sentinel's master: the Sentinels name it
        return f"the master {kwargs['service_name']!r} of the Sentinels"
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
