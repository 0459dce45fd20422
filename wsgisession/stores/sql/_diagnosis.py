"""Which database failures are the configuration's fault (a wrong password, no such database or table,
permission denied), and what to fix; everything else is an outage.

PyMySQL gives MySQL's error numbers; psycopg gives SQLSTATEs, except for a failed
connection, known by libpq's text; sqlite3 gives SQLite's error names.
"""

from __future__ import annotations

import errno
from typing import Any

from sqlalchemy.engine import URL
from sqlalchemy.exc import StatementError

from .._errors import Diagnosis, Misconfiguration

_URL, _TABLE = "SESSION_DB_URL", "SESSION_DB_TABLE"
_AUTH = (_URL, "authentication failed", "set a user and password the database accepts in SESSION_DB_URL")
_DATABASE = (_URL, "unknown database", "name a database that exists in SESSION_DB_URL, or create it")
_TABLE_FIX = ("run 'wsgisession createtable --settings SOURCE', or correct SESSION_DB_TABLE if it is a typo"
              " of the table you made")
_GRANT = ("grant the SESSION_DB_URL user SELECT, INSERT, UPDATE and DELETE on the session table"
          " (and CREATE where the app creates it)")
_SQLITE_FILE = ("point SESSION_DB_URL to a file in a folder that exists and that the app's user can write"
                " (an absolute path: sqlite:////var/lib/myapp/sessions.sqlite3)")

#: MySQL and MariaDB error numbers.
_MYSQL = {1045: _AUTH, 1698: _AUTH, 1049: _DATABASE, 1044: (_URL, "permission denied", _GRANT),
          1142: (_URL, "permission denied", _GRANT), 1143: (_URL, "permission denied", _GRANT),
          1146: (_TABLE, "unknown table", _TABLE_FIX)}
#: PostgreSQL SQLSTATEs.
_POSTGRES = {"28P01": _AUTH, "28000": _AUTH, "3D000": _DATABASE, "42501": (_URL, "permission denied", _GRANT),
             "42P01": (_TABLE, "unknown table", _TABLE_FIX)}
#: libpq's words for a connection refused for its settings.
_POSTGRES_CONNECT = {"password authentication failed": _AUTH, "no pg_hba.conf entry": _AUTH,
                     "role \"": _AUTH, "database \"": _DATABASE, "permission denied": _AUTH}
_SQLITE = {"SQLITE_READONLY": (_URL, "permission denied", _SQLITE_FILE),
           "SQLITE_CANTOPEN": (_URL, "cannot open the file", _SQLITE_FILE)}
_FILE_ERRNOS = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT, errno.ENOTDIR)


def classify(exc: BaseException) -> Misconfiguration | None:
    """What a driver's (or SQLAlchemy's) exception says is wrong with the settings; None for an outage."""
    cause: Any = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    found: tuple[str, str, str] | None = None
    if isinstance(cause, OSError) and cause.errno in _FILE_ERRNOS:  # making the SQLite file
        found = (_URL, "cannot make the file", _SQLITE_FILE)
    elif isinstance(getattr(cause, "sqlite_errorname", None), str):
        found = _SQLITE.get(cause.sqlite_errorname)
        if found is None and str(cause).startswith("no such table"):
            found = (_TABLE, "unknown table", _TABLE_FIX)
    elif cause.args and isinstance(cause.args[0], int):  # PyMySQL: (number, text)
        found = _MYSQL.get(cause.args[0])
    elif isinstance(getattr(cause, "sqlstate", None), str):
        found = _POSTGRES.get(cause.sqlstate)
    elif type(cause).__module__.startswith("psycopg") and "failed: FATAL:" in str(cause):
        found = next((hit for words, hit in _POSTGRES_CONNECT.items() if words in str(cause)), None)
    return Misconfiguration(*found) if found is not None else None


def diagnosis(url: URL) -> Diagnosis:
    """The :class:`Diagnosis` of a store on ``url`` (shown without its password)."""
    return Diagnosis(classify, url.render_as_string(hide_password=True))
