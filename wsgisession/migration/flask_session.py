"""Flask-Session's Redis sessions, as ``SESSION_MIGRATE_FROM`` reads them (msgpack only, never pickle).

``"SESSION_ENGINE": "flask_session.redis"`` for an app that ran with ``SESSION_USE_SIGNER =
True`` (its cookie is ``sid.signature``, itsdangerous with Flask's ``SECRET_KEY``, salt
``flask-session``, HMAC key derivation, SHA-1, as Flask-Session signs it), or
``"flask_session.redis.unsigned"`` for one without (the cookie is the bare id). With
``SESSION_REDIS_URL``, ``SESSION_REDIS_PREFIX`` (Flask-Session's ``SESSION_KEY_PREFIX``;
``session:`` when left at wsgisession's default) and ``SESSION_COOKIE_NAME`` (Flask's is
``session``). Values must be msgpack (Flask-Session's default ``SESSION_SERIALIZATION_FORMAT``);
anything else, pickle included, is refused. Reading msgpack needs ``msgspec`` (Flask-Session's
own dependency).
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

from itsdangerous import BadSignature, Signer
from redis.client import NEVER_DECODE
from redis.exceptions import RedisClusterException, RedisError

from ..backends import Loaded, Rejected
from ..errors import ConfigurationError, SettingProblem, StoreError
from ..serializers import Serializer
from ..settings import Settings
from ..stores.redis import RedisStore

#: Flask-Session's default ``SESSION_KEY_PREFIX``.
DEFAULT_PREFIX = "session:"
#: ``secrets.token_urlsafe(SESSION_ID_LENGTH)`` ids; Flask-Session's length is configurable.
SID_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,128}")
#: Flask's own bookkeeping inside the data: kept by Flask-Session, meaningless here.
PERMANENT_KEY = "_permanent"
_REDIS_ERRORS = (RedisError, RedisClusterException, OSError)


class FlaskSessionRedis:
    """Reads and deletes Flask-Session's Redis records; values come back for ``serializer``. Thread-safe."""

    def __init__(self, client: Any, prefix: str, signer: Signer | None, serializer: Serializer,
                 lifetime: int = Settings.cookie_age) -> None:
        try:
            import msgspec
        except ImportError as exc:
            raise ConfigurationError([SettingProblem(
                "SESSION_MIGRATE_FROM", "msgspec installed to read Flask-Session's msgpack data"
                " (pip install msgspec)", "flask_session.redis without it")]) from exc
        self.client = client
        self.prefix = prefix
        self.signer = signer
        self.serializer = serializer
        self.lifetime = lifetime
        self._decode = msgspec.msgpack.Decoder(dict).decode
        self._decode_error = msgspec.DecodeError

    @classmethod
    def from_settings(cls, settings: Settings, serializer: Serializer) -> FlaskSessionRedis:
        if not settings.redis_url:
            raise ConfigurationError([SettingProblem("SESSION_MIGRATE_FROM[SESSION_REDIS_URL]",
                                                     "the Redis URL Flask-Session used", "none")])
        client = RedisStore.from_settings(settings).client  # the client the redis engine would use
        prefix = DEFAULT_PREFIX if settings.redis_prefix == Settings.redis_prefix else settings.redis_prefix
        signed = not settings.engine.endswith(".unsigned")
        assert settings.secret_key is not None  # Settings refuses none
        keys = [*reversed(settings.secret_key_fallbacks), settings.secret_key]
        signer = Signer(keys, salt="flask-session", key_derivation="hmac", digest_method=hashlib.sha1)
        return cls(client, prefix, signer if signed else None, serializer, settings.cookie_age)

    def load(self, cookie_value: str, now: float) -> Loaded | Rejected:
        sid = self._sid(cookie_value)
        if sid is None:
            return Rejected.BAD_SIGNATURE
        try:
            # msgpack is bytes, and the redis engine's client decodes replies as UTF-8 text.
            raw = self.client.execute_command("GET", self.prefix + sid, **{NEVER_DECODE: True})
            ttl = self.client.pttl(self.prefix + sid)
        except _REDIS_ERRORS as exc:
            raise StoreError("Flask-Session's Redis", "read", type(exc).__name__) from exc
        if raw is None or ttl == -2:
            return Rejected.MISSING
        try:
            values = self._decode(raw)
            expiry = 0 if values.pop(PERMANENT_KEY, True) is False else None  # not permanent: ends with the browser
            data = {str(key): self.serializer.dumps(value) for key, value in values.items()}
        except (self._decode_error, TypeError, ValueError):
            return Rejected.UNDECODABLE
        expires_at = time.time() + ttl / 1000 if ttl > 0 else now + self.lifetime  # -1: stored without a TTL
        return Loaded(sid, data, expiry, now, expires_at)

    def delete(self, key: str) -> None:
        try:
            self.client.delete(self.prefix + key)
        except _REDIS_ERRORS as exc:
            raise StoreError("Flask-Session's Redis", "delete", type(exc).__name__) from exc

    def _sid(self, cookie_value: str) -> str | None:
        if self.signer is not None:
            try:
                cookie_value = self.signer.unsign(cookie_value).decode("ascii")
            except (BadSignature, UnicodeDecodeError):
                return None
        return cookie_value if SID_PATTERN.fullmatch(cookie_value) else None
