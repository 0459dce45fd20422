"""The per-user index of :class:`~.sql.SqlStore`: a ``user_id`` column with an index of its own.

A row's ``user_id`` is written only by saves whose :class:`~.base.Change` names a user, so
saves that do not (most of them) send the statements they always did. Reading and deleting
a user's sessions are one statement each, by equality on the indexed column: no ``LIKE``,
no scan of the table, user ids only ever sent as bound parameters.

User ids compare exactly, byte for byte, on every database: MySQL/MariaDB's usual utf8mb4
collations would make ``"Alice"``, ``"alicé"`` and ``"alice "`` the same user as
``"alice"``, and "log out everywhere" would then end another user's sessions.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

#: The longest user id the column holds, in characters.
MAX_LENGTH = 255


class UserId(sa.String):
    """``VARCHAR`` with a binary, no-pad collation on MySQL/MariaDB (the plain type elsewhere)."""


@compiles(UserId, "mysql")
@compiles(UserId, "mariadb")
def _exact_on_mysql(type_: UserId, compiler: Any, **_kw: Any) -> str:
    # The two servers share no binary NO PAD collation: utf8mb4_bin ignores trailing spaces,
    # and MariaDB (even through a mysql:// URL) lacks utf8mb4_0900_bin. MySQL needs 8.0 or later.
    collation = "utf8mb4_nopad_bin" if compiler.dialect.is_mariadb else "utf8mb4_0900_bin"
    return f"VARCHAR({type_.length}) COLLATE {collation}"


def column() -> sa.Column[Any]:
    """The ``user_id`` column: NULL for sessions no user was ever set on."""
    return sa.Column("user_id", UserId(MAX_LENGTH), nullable=True, index=True)


def checked(user_id: str) -> str:
    """``user_id`` itself, if the column can hold it; ValueError otherwise (a caller's bug, not a system failure)."""
    if len(user_id) > MAX_LENGTH:
        raise ValueError(f"the db session engine keeps user ids of at most {MAX_LENGTH} characters;"
                         f" this one has {len(user_id)}")
    if "\x00" in user_id:
        raise ValueError("the db session engine cannot keep a user id that contains a NUL character")
    return user_id


def select_live(table: sa.Table) -> sa.Select[str]:
    """The SELECT of user ``:user``'s record ids unexpired at ``:now``, in order."""
    columns = table.c
    return (sa.select(columns.session_key)
            .where(columns.user_id == sa.bindparam("user"), columns.expire_date > sa.bindparam("now"))
            .order_by(columns.session_key))


def delete_all(table: sa.Table, keeping: bool) -> sa.Delete:
    """The DELETE of user ``:user``'s rows (expired ones too), but row ``:keep`` when ``keeping``."""
    guard = [table.c.user_id == sa.bindparam("user")]
    if keeping:
        guard.append(table.c.session_key != sa.bindparam("keep"))
    return sa.delete(table).where(*guard)
