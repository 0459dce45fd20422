"""The settings every example shares, read from environment variables.

=========================  ========================  ===========================================
variable                   settings key              default
=========================  ========================  ===========================================
WSGISESSION_ENGINE         SESSION_ENGINE            ``db``
WSGISESSION_SECRET_KEY     SECRET_KEY                none: required, unless WSGISESSION_DEMO=1
WSGISESSION_DEMO           (a random SECRET_KEY)     off; ``1`` for the demo mode below
WSGISESSION_DB_URL         SESSION_DB_URL            the library's (``wsgisession.sqlite3``)
WSGISESSION_REDIS_URL      SESSION_REDIS_URL         none (required by the redis engine)
WSGISESSION_REDIS_PREFIX   SESSION_REDIS_PREFIX      the library's (``session``)
WSGISESSION_CACHE_URL      SESSION_CACHE_URL         the library's (``memory://``)
WSGISESSION_FILE_PATH      SESSION_FILE_PATH         the library's (private, in the temp dir)
=========================  ========================  ===========================================

Without ``WSGISESSION_SECRET_KEY`` the examples refuse to start, unless
``WSGISESSION_DEMO=1`` asks for the demo mode: a random key made at start, in each
process, with a warning on stderr. Sessions then end when the server restarts and
are not shared between gunicorn workers: run one worker (gunicorn's default).

A variable that is not set is left out, so the library's own default applies: with
none set, sessions go to the SQLite file ``wsgisession.sqlite3`` in the working
directory. With several gunicorn workers, use a store the workers share: ``memory://``
(the ``cache`` engine's default) is per process.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from typing import Any, TextIO

#: The command that makes a key, as the error and the warning show it.
MAKE_A_KEY = 'python3 -c "import secrets; print(secrets.token_urlsafe(48))"'
#: Values of WSGISESSION_DEMO that turn the demo mode on.
DEMO_ON = ("1", "true", "yes", "on")


class MissingSecretKey(RuntimeError):
    """Neither WSGISESSION_SECRET_KEY nor the demo mode (WSGISESSION_DEMO=1): the example will not start."""

    def __init__(self) -> None:
        super().__init__(
            "the examples need a secret key to sign session cookies: set WSGISESSION_SECRET_KEY to the output of"
            f" {MAKE_A_KEY} (the same value for every worker), or set WSGISESSION_DEMO=1 for a throwaway demo key")


#: Variables copied to the settings key when they are set.
OPTIONAL_VARIABLES = {
    "WSGISESSION_DB_URL": "SESSION_DB_URL",
    "WSGISESSION_REDIS_URL": "SESSION_REDIS_URL",
    "WSGISESSION_REDIS_PREFIX": "SESSION_REDIS_PREFIX",
    "WSGISESSION_CACHE_URL": "SESSION_CACHE_URL",
    "WSGISESSION_FILE_PATH": "SESSION_FILE_PATH",
}


def demo_secret_key(env: Mapping[str, str], warn_to: TextIO | None = None) -> str:
    """A random key for this process if WSGISESSION_DEMO=1, announced on ``warn_to`` (stderr); else MissingSecretKey."""
    if env.get("WSGISESSION_DEMO", "").strip().lower() not in DEMO_ON:
        raise MissingSecretKey()
    stream = sys.stderr if warn_to is None else warn_to
    stream.write(
        "\n*** wsgisession DEMO MODE (WSGISESSION_DEMO=1): a random SECRET_KEY made for this process only. ***\n"
        "*** Sessions end when it restarts and are not shared between workers. Never run this in production: ***\n"
        f"*** set WSGISESSION_SECRET_KEY to the output of {MAKE_A_KEY} ***\n\n")
    stream.flush()
    return secrets.token_urlsafe(48)


def example_settings(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings dict for :class:`wsgisession.SessionMiddleware`, from ``environ`` (``os.environ``).

    Raises :class:`MissingSecretKey` without WSGISESSION_SECRET_KEY outside the demo mode.
    """
    env = os.environ if environ is None else environ
    settings: dict[str, Any] = {
        "SESSION_ENGINE": env.get("WSGISESSION_ENGINE", "db"),
        "SECRET_KEY": env.get("WSGISESSION_SECRET_KEY") or demo_secret_key(env),
    }
    for variable, key in OPTIONAL_VARIABLES.items():
        if variable in env:
            settings[key] = env[variable]
    return settings
