"""The settings every example shares, read from environment variables.

=========================  ========================  ===========================================
variable                   settings key              default
=========================  ========================  ===========================================
WSGISESSION_ENGINE         SESSION_ENGINE            ``db``
WSGISESSION_SECRET_KEY     SECRET_KEY                a fixed demo key (never in production)
WSGISESSION_DB_URL         SESSION_DB_URL            the library's (``wsgisession.sqlite3``)
WSGISESSION_REDIS_URL      SESSION_REDIS_URL         none (required by the redis engine)
WSGISESSION_REDIS_PREFIX   SESSION_REDIS_PREFIX      the library's (``session``)
WSGISESSION_CACHE_URL      SESSION_CACHE_URL         the library's (``memory://``)
WSGISESSION_FILE_PATH      SESSION_FILE_PATH         the library's (private, in the temp dir)
=========================  ========================  ===========================================

A variable that is not set is left out, so the library's own default applies: with
none set, sessions go to the SQLite file ``wsgisession.sqlite3`` in the working
directory. With several gunicorn workers, use a store the workers share: ``memory://``
(the ``cache`` engine's default) is per process.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

#: For the demo only: anyone who reads this file can forge signed cookies. Set
#: WSGISESSION_SECRET_KEY to a long random value (``python -c "import secrets;
#: print(secrets.token_urlsafe(50))"``) anywhere real.
DEMO_SECRET_KEY = "demo-only-secret-key-do-not-use-in-production"

#: Variables copied to the settings key when they are set.
OPTIONAL_VARIABLES = {
    "WSGISESSION_DB_URL": "SESSION_DB_URL",
    "WSGISESSION_REDIS_URL": "SESSION_REDIS_URL",
    "WSGISESSION_REDIS_PREFIX": "SESSION_REDIS_PREFIX",
    "WSGISESSION_CACHE_URL": "SESSION_CACHE_URL",
    "WSGISESSION_FILE_PATH": "SESSION_FILE_PATH",
}


def example_settings(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings dict for :class:`wsgisession.SessionMiddleware`, from ``environ`` (``os.environ``)."""
    env = os.environ if environ is None else environ
    settings: dict[str, Any] = {
        "SESSION_ENGINE": env.get("WSGISESSION_ENGINE", "db"),
        "SECRET_KEY": env.get("WSGISESSION_SECRET_KEY", DEMO_SECRET_KEY),
    }
    for variable, key in OPTIONAL_VARIABLES.items():
        if variable in env:
            settings[key] = env[variable]
    return settings
