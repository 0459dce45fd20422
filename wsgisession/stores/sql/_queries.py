"""The statements :class:`~.sql.SqlStore` runs per request, each compiled once for the engine's dialect.

They take their values by name: ``key`` (the record id); ``data``, ``expires``, ``version`` and
``user`` (what a write sets); ``loaded`` (the version a guarded write expects); ``token``,
``until`` and ``now`` (leases, expiry); ``keep`` (the one session of a user left alone).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from . import _locks, _users
from ._statements import Statement


class Queries:
    """The session table's per-request statements for one dialect; immutable, so shared by every thread."""

    __slots__ = ("_inserts", "_user_deletes", "_writes", "delete", "give_back", "select", "take", "touch",
                 "user_sessions")

    def __init__(self, table: sa.Table, dialect: Dialect) -> None:
        columns = table.c
        key = columns.session_key == sa.bindparam("key")
        #: Row ``:key``'s data, expiry and version, then its lease (token, end).
        self.select = Statement(sa.select(columns.session_data, columns.expire_date, columns.version,
                                          columns.lock_token, columns.lock_expires).where(key), dialect)
        self.touch = Statement(sa.update(table).where(key).values(expire_date=sa.bindparam("expires")), dialect)
        self.delete = Statement(sa.delete(table).where(key), dialect)
        self.take = Statement(_locks.take(table), dialect)
        self.give_back = Statement(_locks.give_back(table), dialect)
        self.user_sessions = Statement(_users.select_live(table), dialect)
        self._user_deletes = {keeping: Statement(_users.delete_all(table, keeping), dialect)
                              for keeping in (False, True)}
        self._inserts = {with_user: Statement(_insert(table, with_user), dialect) for with_user in (False, True)}
        self._writes = {(fenced, with_user): Statement(_write(table, fenced, with_user), dialect)
                        for fenced in (False, True) for with_user in (False, True)}

    def insert(self, with_user: bool) -> Statement:
        """The INSERT of row ``:key`` at ``:version``, naming ``:user`` if ``with_user``."""
        return self._inserts[with_user]

    def write(self, fenced: bool, with_user: bool) -> Statement:
        """The UPDATE of row ``:key`` guarded by ``:loaded``, fenced by ``:token`` at ``:now`` if ``fenced``."""
        return self._writes[fenced, with_user]

    def delete_user_sessions(self, keeping: bool) -> Statement:
        """The DELETE of user ``:user``'s rows, but row ``:keep`` if ``keeping``."""
        return self._user_deletes[keeping]


def _written(with_user: bool) -> dict[str, sa.BindParameter[object]]:
    names = {"session_data": "data", "expire_date": "expires", "version": "version"}
    if with_user:
        names["user_id"] = "user"
    return {column: sa.bindparam(name) for column, name in names.items()}


def _insert(table: sa.Table, with_user: bool) -> sa.Insert:
    return sa.insert(table).values(session_key=sa.bindparam("key"), **_written(with_user))


def _write(table: sa.Table, fenced: bool, with_user: bool) -> sa.Update:
    columns = table.c
    guard = [columns.session_key == sa.bindparam("key"), columns.version == sa.bindparam("loaded")]
    if fenced:
        guard += _locks.fence(table)
    return sa.update(table).where(*guard).values(_written(with_user))
