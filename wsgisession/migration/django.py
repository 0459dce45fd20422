"""Django's sessions, as ``SESSION_MIGRATE_FROM`` reads them: the ``django_session`` table.

``"SESSION_ENGINE": "django.contrib.sessions.backends.db"`` (or ``…cached_db``, which keeps
every session in the same table) with ``SESSION_DB_URL``, ``SESSION_DB_TABLE`` (default
``django_session``), Django's ``SECRET_KEY`` (and ``SECRET_KEY_FALLBACKS``) and
``SESSION_COOKIE_NAME``. Django's cookie holds the raw session key; a session is read only if
its row is live and its data carries a valid signature by one of Django's keys, as Django
itself checks it (``django.core.signing``, ``SESSION_SERIALIZER = JSONSerializer``: the pickle
serializer's data is refused, never unpickled). Django's cache backend is not read: Django's
caches pickle what they store.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from .. import _b64
from .._lifecycle import Expiry
from ..backends import Loaded, Rejected
from ..errors import ConfigurationError, SettingProblem, StoreError
from ..serializers import Serializer
from ..settings import Settings

#: Django's ``SessionBase.key_salt`` for every backend class named ``SessionStore``.
SALT = "django.contrib.sessions.SessionStore"
#: The table Django's ``db`` and ``cached_db`` backends use.
DEFAULT_TABLE = "django_session"
#: Django's session keys: ``VALID_KEY_CHARS`` (lowercase letters and digits), 8 to 40 long (its column).
KEY_PATTERN = re.compile(r"[a-z0-9]{8,40}")
#: The most a compressed session may inflate to: Django's own data, but read before our size checks.
MAX_DECOMPRESSED = 1 << 20
#: What Django keeps its ``set_expiry`` value under, inside the data.
EXPIRY_KEY = "_session_expiry"


class DjangoSignature:
    """``django.core.signing.loads`` for one salt and Django's key list (TimestampSigner, HMAC-SHA256)."""

    def __init__(self, keys: tuple[str, ...], salt: str = SALT) -> None:
        # salted_hmac: the HMAC key is the digest of salt + "signer" + secret.
        self._keys = [hashlib.sha256(f"{salt}signer{key}".encode()).digest() for key in keys]

    def loads(self, signed: str) -> Any:
        """The JSON value ``signed`` holds; ValueError if no key signed it or it is not JSON."""
        message, _, signature = signed.rpartition(":")
        if not signed.isascii() or not any(hmac.compare_digest(self._sign(key, message), signature)
                                           for key in self._keys):
            raise ValueError("bad signature")
        payload = message.rpartition(":")[0]  # drop the TimestampSigner's time: Django ignores it for sessions
        compressed = payload.startswith(".")
        data = _b64.decode((payload[1:] if compressed else payload).encode("ascii"))
        if compressed:
            inflater = zlib.decompressobj()
            data = inflater.decompress(data, MAX_DECOMPRESSED)
            if inflater.unconsumed_tail:
                raise ValueError("session data too large")
        return json.loads(data.decode("latin-1"))  # Django's JSONSerializer: latin-1 over ASCII-only JSON

    @staticmethod
    def _sign(key: bytes, message: str) -> str:
        return _b64.encode(hmac.new(key, message.encode("ascii"), hashlib.sha256).digest()).decode("ascii")


@dataclass(frozen=True)
class DjangoRow:
    """One row of ``django_session``."""

    key: str
    data: str
    expires_at: float


class DjangoDbSessions:
    """Reads and deletes rows of Django's session table; values come back for ``serializer``. Thread-safe."""

    def __init__(self, url: str, table: str, keys: tuple[str, ...], serializer: Serializer) -> None:
        self.engine = sa.create_engine(engine_url(url), pool_pre_ping=True)
        schema, _, name = table.rpartition(".")  # "schema.table" names a table in another schema
        self.table = sa.table(name, sa.column("session_key"), sa.column("session_data"), sa.column("expire_date"),
                              schema=schema or None)
        self.signature = DjangoSignature(keys)
        self.serializer = serializer

    @classmethod
    def from_settings(cls, settings: Settings, serializer: Serializer) -> DjangoDbSessions:
        """From ``SESSION_MIGRATE_FROM``: ``SESSION_DB_TABLE`` left at wsgisession's default means Django's."""
        if settings.db_url == Settings.db_url:  # wsgisession's own default file: not where Django's sessions are
            raise ConfigurationError([SettingProblem("SESSION_MIGRATE_FROM[SESSION_DB_URL]",
                                                     "the URL of Django's database", "none")])
        table = DEFAULT_TABLE if settings.db_table == Settings.db_table else settings.db_table
        assert settings.secret_key is not None  # Settings refuses none
        return cls(settings.db_url, table, (settings.secret_key, *settings.secret_key_fallbacks), serializer)

    def load(self, cookie_value: str, now: float) -> Loaded | Rejected:
        """The live, authentic session Django's cookie names, its values serialized for the new engine."""
        if not KEY_PATTERN.fullmatch(cookie_value):
            return Rejected.BAD_SIGNATURE
        try:
            row = self._row(cookie_value)
            if row is None or row.expires_at <= now:
                return Rejected.MISSING
            return self.decode(row, now)
        except (ValueError, TypeError):
            return Rejected.UNDECODABLE

    def decode(self, row: DjangoRow, now: float) -> Loaded:
        """The session ``row`` holds; ValueError or TypeError if it is not Django's signed JSON."""
        values = self.signature.loads(row.data)
        if not isinstance(values, dict):
            raise ValueError("not a session dict")
        expiry = django_expiry(values.pop(EXPIRY_KEY, None))
        data = {key: self.serializer.dumps(value) for key, value in values.items()}
        # Django keeps no creation time: SESSION_ABSOLUTE_AGE counts from the move.
        return Loaded(row.key, data, expiry, now, row.expires_at)

    def delete(self, key: str) -> None:
        """Delete Django's row for ``key``."""
        statement = sa.delete(self.table).where(self.table.c.session_key == key)
        with self._errors("delete"), self.engine.begin() as connection:
            connection.execute(statement)

    def rows(self, batch_size: int, after: str = "") -> Iterator[list[DjangoRow]]:
        """Every row, ``batch_size`` at a time, in key order from after ``after``."""
        columns = self.table.c
        while True:
            statement = (sa.select(columns.session_key, columns.session_data, columns.expire_date)
                         .where(columns.session_key > after).order_by(columns.session_key).limit(batch_size))
            with self._errors("read"), self.engine.connect() as connection:
                found = connection.execute(statement).all()
            batch = [DjangoRow(key, data, _timestamp(expires)) for key, data, expires in found]
            if not batch:
                return
            yield batch
            after = batch[-1].key

    def close(self) -> None:
        self.engine.dispose()

    def _row(self, key: str) -> DjangoRow | None:
        columns = self.table.c
        statement = sa.select(columns.session_data, columns.expire_date).where(columns.session_key == key)
        with self._errors("read"), self.engine.connect() as connection:
            found = connection.execute(statement).first()
        return None if found is None else DjangoRow(key, found[0], _timestamp(found[1]))

    @contextmanager
    def _errors(self, operation: str) -> Iterator[None]:
        """SQLAlchemy's errors as StoreError, without the statement's parameters (a session key)."""
        try:
            yield
        except SQLAlchemyError as exc:
            cause = getattr(exc, "orig", None) or exc
            raise StoreError(f"Django's {self.table.name}", operation, type(cause).__name__) from exc


def django_expiry(value: Any) -> Expiry:
    """Django's ``_session_expiry`` (seconds, 0, or an ISO datetime) as wsgisession's expiry."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        when = datetime.fromisoformat(value)
        return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    raise ValueError("not an expiry Django writes")


def _timestamp(value: Any) -> float:
    """A ``expire_date`` as Unix time (a naive one is UTC, as Django writes it with USE_TZ)."""
    if isinstance(value, str):  # SQLite hands back text
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise ValueError("expire_date is not a timestamp")
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).timestamp()


def engine_url(url: str) -> sa.URL:
    """``postgresql://`` and ``mysql://`` with the drivers of the ``postgres`` and ``mysql`` extras."""
    parsed = sa.make_url(url)
    drivers = {"postgres": "postgresql+psycopg", "postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql",
               "mariadb": "mysql+pymysql"}
    return parsed.set(drivername=drivers.get(parsed.drivername, parsed.drivername))
