"""Beaker's cookie-only sessions, as ``SESSION_MIGRATE_FROM`` reads them (JSON only, never pickle).

``"SESSION_ENGINE": "beaker.cookie"`` for ``session.type = "cookie"`` with
``session.data_serializer = "json"`` and no ``encrypt_key``: ``SECRET_KEY`` is Beaker's
``validate_key``, ``SESSION_COOKIE_NAME`` its ``key`` (``beaker.session.id``), and
``SESSION_COOKIE_AGE`` its ``timeout`` (counted from the last access, as Beaker does). The cookie
must carry Beaker's HMAC-SHA1 by that key. Beaker's server-side back ends pickle every record
(whatever ``data_serializer`` says) and are not read; encrypted cookies are not read either.
The data lives in the cookie, so there is no record to delete: a copy of an old cookie reads
until its timeout.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import zlib
from typing import Any

from .._lifecycle import Expiry
from ..backends import Loaded, Rejected
from ..serializers import Serializer
from ..settings import Settings

#: What Beaker keeps beside the application's values, inside the cookie.
BOOKKEEPING = ("_id", "_creation_time", "_accessed_time", "_domain", "_path", "_expires")
#: Beaker refuses to write a cookie value longer than this.
MAX_COOKIE = 4096
#: The most the zlib-compressed JSON may inflate to.
MAX_DECOMPRESSED = 1 << 20


class BeakerCookies:
    """Reads Beaker's signed, JSON cookie sessions; values come back for ``serializer``. Thread-safe."""

    def __init__(self, validate_keys: tuple[str, ...], timeout: int, serializer: Serializer) -> None:
        self._keys = [key.encode("utf-8") for key in validate_keys]
        self.timeout = timeout
        self.serializer = serializer

    @classmethod
    def from_settings(cls, settings: Settings, serializer: Serializer) -> BeakerCookies:
        assert settings.secret_key is not None  # Settings refuses none
        return cls((settings.secret_key, *settings.secret_key_fallbacks), settings.cookie_age, serializer)

    def load(self, cookie_value: str, now: float) -> Loaded | Rejected:
        value = cookie_value.strip('"')
        if not value.isascii() or len(value) > MAX_COOKIE or not self._signed(value[:40], value[40:]):
            return Rejected.BAD_SIGNATURE
        try:
            values = self._decode(value[40:])
            accessed = float(values.get("_accessed_time", now))
            created = float(values.get("_creation_time", now))
            if accessed + self.timeout <= now:
                return Rejected.MISSING
            data = {key: self.serializer.dumps(item) for key, item in values.items() if key not in BOOKKEEPING}
        except (ValueError, TypeError):
            return Rejected.UNDECODABLE
        expiry: Expiry = None  # SESSION_COOKIE_AGE's idle expiry, as Beaker's timeout was
        return Loaded(str(values.get("_id", "beaker")), data, expiry, created, accessed + self.timeout)

    def delete(self, key: str) -> None:
        """Nothing to delete: the session lives in the browser's cookie."""

    def _signed(self, signature: str, payload: str) -> bool:
        message = payload.encode("ascii")
        return any(hmac.compare_digest(hmac.new(key, message, hashlib.sha1).hexdigest(), signature)
                   for key in self._keys)

    @staticmethod
    def _decode(payload: str) -> dict[str, Any]:
        try:
            compressed = base64.b64decode(payload, validate=True)
        except binascii.Error as exc:
            raise ValueError("not base64") from exc
        inflater = zlib.decompressobj()
        try:
            text = inflater.decompress(compressed, MAX_DECOMPRESSED)
        except zlib.error as exc:  # pickled data is not zlib: refused here, never unpickled
            raise ValueError("not Beaker's JSON") from exc
        if inflater.unconsumed_tail:
            raise ValueError("session data too large")
        values = json.loads(text.decode("utf-8"))
        if not isinstance(values, dict):
            raise ValueError("not a session dict")
        return values
