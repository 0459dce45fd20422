"""The ``signed_cookies`` engine: the session data itself travels in the cookie.

By default the data is signed, not encrypted: the user can read it but not change
it. With ``SESSION_COOKIE_ENCRYPT`` it is encrypted (AES-GCM), so the user can do
neither. Nothing is kept on the server, so a copy of an old cookie stays valid until
the expiry inside it; ``flush()`` and ``cycle_key()`` only replace the browser's cookie.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from itsdangerous import BadData, URLSafeSerializer

from .. import _lifecycle
from .._pending import Pending
from ..encryption import CookieCipher, DecryptionError
from ..settings import Settings
from ..signing import CachedKeySigner
from . import Loaded, Rejected, SessionBackend

#: Separates these signatures from any other use of SECRET_KEY.
SALT = "wsgisession.signed_cookies"


class BadCookie(Exception):
    """The cookie value is not authentic: tampered, truncated, or made with another key."""


class CookieCodec(Protocol):
    """Turns the session payload into a cookie value and back (sign or encrypt)."""

    def dumps(self, payload: dict[str, Any]) -> str:
        """The cookie value for ``payload``."""
        ...

    def loads(self, value: str) -> Any:
        """The payload in ``value``; :class:`BadCookie` if it is not authentic."""
        ...


def _compact_json(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


class _CompactJSON:
    """The cookie payload's own format; values inside are already serialized strings."""

    dumps = staticmethod(_compact_json)
    loads = staticmethod(json.loads)


class SigningCodec:
    """itsdangerous: HMAC-signed, compressed when that is shorter; readable by the user.

    Signs with ``secret_key``; verifies with it or any of ``fallbacks``.
    """

    def __init__(self, secret_key: str, fallbacks: tuple[str, ...] = ()) -> None:
        # itsdangerous signs with the last key and verifies with every key.
        self._serializer = URLSafeSerializer([*fallbacks, secret_key], salt=SALT, serializer=_CompactJSON,
                                             signer=CachedKeySigner)

    def dumps(self, payload: dict[str, Any]) -> str:
        return self._serializer.dumps(payload)

    def loads(self, value: str) -> Any:
        try:
            return self._serializer.loads(value)
        except BadData as exc:
            raise BadCookie(f"bad signature ({type(exc).__name__})") from exc


class EncryptingCodec:
    """AES-256-GCM (:class:`~wsgisession.encryption.CookieCipher`): private and tamper-proof.

    Encrypts with the key derived from ``secret_key``; decrypts with it or any of the
    ``fallbacks``' keys. The cookie name is authenticated with each value.
    """

    def __init__(self, secret_key: str, fallbacks: tuple[str, ...], cookie_name: str) -> None:
        self._cipher = CookieCipher([secret_key, *fallbacks], associated_data=cookie_name.encode("ascii"))

    def dumps(self, payload: dict[str, Any]) -> str:
        # Never compressed: the size of compressed data mixing secrets with values an
        # attacker chose reveals how much they have in common (CRIME, BREACH).
        return self._cipher.encrypt(_compact_json(payload).encode("utf-8"))

    def loads(self, value: str) -> Any:
        try:
            plaintext = self._cipher.decrypt(value)
        except DecryptionError as exc:
            raise BadCookie(f"failed authentication: {exc}") from exc
        try:
            return json.loads(plaintext)
        except ValueError as exc:  # authentic, so written by a broken build of ours
            raise BadCookie(f"undecodable payload: {exc}") from exc


class SignedCookieBackend(SessionBackend):
    """Keeps the whole session in the cookie value the ``codec`` makes (signed or encrypted)."""

    def __init__(self, codec: CookieCodec) -> None:
        self._codec = codec

    @classmethod
    def from_settings(cls, settings: Settings) -> SignedCookieBackend:
        """Signs, or encrypts when ``SESSION_COOKIE_ENCRYPT``; ConfigurationError without ``cryptography``."""
        if settings.secret_key is None:  # settings validation refuses this already
            raise ValueError("the signed_cookies engine needs SECRET_KEY")
        codec: CookieCodec
        if settings.cookie_encrypt:
            codec = EncryptingCodec(settings.secret_key, settings.secret_key_fallbacks, settings.cookie_name)
        else:
            codec = SigningCodec(settings.secret_key, settings.secret_key_fallbacks)
        return cls(codec)

    def load(self, cookie_value: str, now: float) -> Loaded | Rejected:
        try:
            payload = self._codec.loads(cookie_value)
        except BadCookie:
            return Rejected.BAD_SIGNATURE
        loaded = _from_payload(payload)
        if loaded is None:
            return Rejected.UNDECODABLE
        if loaded.expires_at <= now:
            return Rejected.MISSING
        return loaded

    def save(self, pending: Pending) -> str:
        payload = {"k": pending.key, "m": _lifecycle.encode_meta(pending.meta()),
                   "e": pending.expires_at, "d": pending.all_data()}
        return self._codec.dumps(payload)

    def delete(self, key: str) -> None:
        """Nothing to delete on the server: the response replaces the cookie."""


def _from_payload(payload: Any) -> Loaded | None:
    if not isinstance(payload, dict):
        return None
    key, meta, expires, data = payload.get("k"), payload.get("m"), payload.get("e"), payload.get("d")
    if not (isinstance(key, str) and isinstance(meta, str) and isinstance(expires, (int, float))
            and isinstance(data, dict) and all(isinstance(v, str) for v in data.values())):
        return None
    try:
        decoded = _lifecycle.decode_meta(meta)
    except ValueError:
        return None
    return Loaded(key, data, decoded.expiry, decoded.created_at, float(expires), user_id=decoded.user_id)
