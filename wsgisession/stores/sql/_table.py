"""The session table of :class:`~.sql.SqlStore`: its columns, its DDL, and what a row's ``session_data`` holds."""

from __future__ import annotations

import json
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import CreateIndex, CreateTable

from . import _locks, _users

MYSQL = ("mysql", "mariadb")


def session_table(name: str, metadata: sa.MetaData) -> sa.Table:
    """The session table: one row per record, keyed by the record id (never the cookie key)."""
    return sa.Table(
        name, metadata,
        sa.Column("session_key", sa.String(64), primary_key=True),
        sa.Column("session_data", sa.Text().with_variant(mysql.LONGTEXT(), *MYSQL), nullable=False),
        sa.Column("expire_date", sa.Double(), nullable=False, index=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        _users.column(),
        *_locks.columns(),
        # The MariaDB dialect (mariadb:// URLs) reads its own prefix only.
        mysql_charset="utf8mb4", mariadb_charset="utf8mb4",
    )


def create(engine: Engine, table: sa.Table) -> bool:
    """Create ``table`` and its indexes unless the table exists; whether this call created it."""
    try:
        return _create_missing(engine, table)
    except SQLAlchemyError:
        # Another process may create the table between the check and the CREATE; a second pass sees it.
        return _create_missing(engine, table)


def _create_missing(engine: Engine, table: sa.Table) -> bool:
    if sa.inspect(engine).has_table(table.name):
        return False
    table.create(engine)
    return True


def ddl(table: sa.Table, dialect: Dialect) -> str:
    """The ``CREATE TABLE`` and ``CREATE INDEX`` statements of ``table`` for ``dialect``, as one script."""
    statements = [CreateTable(table).compile(dialect=dialect)]
    for index in sorted(table.indexes, key=lambda index: str(index.name)):
        statements.append(CreateIndex(index).compile(dialect=dialect))
    header = ("-- For MySQL 8.0 or later; for MariaDB, set a mariadb:// URL and run this again.\n"
              if dialect.name == "mysql" else "")
    lines = [line.rstrip() for statement in statements for line in f"{str(statement).strip()};".splitlines()]
    return header + "\n".join(lines) + "\n"


def encode(meta: str, data: Mapping[str, str]) -> str:
    """The ``session_data`` value of a record."""
    return json.dumps({"m": meta, "d": dict(data)}, ensure_ascii=False, separators=(",", ":"))


def decode(text: object) -> tuple[str, dict[str, str]] | None:
    """``(meta, data)`` from a ``session_data`` value, or None if it is not what :func:`encode` writes."""
    try:
        document = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    meta, data = document.get("m"), document.get("d")
    if not isinstance(meta, str) or not isinstance(data, dict):
        return None
    if not all(isinstance(value, str) for value in data.values()):
        return None
    return meta, data
