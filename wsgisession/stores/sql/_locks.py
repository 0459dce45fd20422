"""Session locks as leases kept in the session's own row (used by :class:`~.sql.SqlStore`).

A lease is two nullable columns: ``lock_token`` (who holds the lock) and ``lock_expires``
(the Unix time it ends). Taking it is one conditional ``UPDATE`` that succeeds only while
the row is free or its lease has run out: portable across SQLite, PostgreSQL and
MySQL/MariaDB, with no transaction or row lock held across the request, and a crashed
worker's lock ends with its lease. A save made under the lock adds :func:`fence` to its
guarded ``UPDATE``, so a holder whose lease ran out (and was taken over) writes nothing.

Times are the application hosts' clocks (``time.time``): one host writes a lease, another
compares it, so hosts sharing a database need clocks that agree to well within the lease.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa


def columns() -> list[sa.Column[Any]]:
    """The lease's columns for the session table: both NULL while nobody holds the lock."""
    return [sa.Column("lock_token", sa.String(64), nullable=True),
            sa.Column("lock_expires", sa.Double(), nullable=True)]


def take(table: sa.Table) -> sa.Update:
    """The UPDATE that gives ``:token`` the lock of row ``:key`` until ``:until`` if no lease holds it at ``:now``."""
    free = sa.or_(table.c.lock_token.is_(None), table.c.lock_expires <= sa.bindparam("now"))
    return (sa.update(table).where(table.c.session_key == sa.bindparam("key"), free)
            .values(lock_token=sa.bindparam("token"), lock_expires=sa.bindparam("until")))


def give_back(table: sa.Table) -> sa.Update:
    """The UPDATE that frees row ``:key``'s lock if ``:token`` holds it (expired or not), and does nothing otherwise."""
    held = table.c.lock_token == sa.bindparam("token")
    return (sa.update(table).where(table.c.session_key == sa.bindparam("key"), held)
            .values(lock_token=sa.null(), lock_expires=sa.null()))


def fence(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    """The conditions that let a write through only while ``:token`` holds a lease unexpired at ``:now``."""
    return [table.c.lock_token == sa.bindparam("token"), table.c.lock_expires > sa.bindparam("now")]


def holds(holder: str | None, expires: float | None, token: str) -> bool:
    """Whether a row whose lease columns read ``holder`` and ``expires`` is locked by ``token`` now."""
    return holder == token and expires is not None and expires > time.time()
