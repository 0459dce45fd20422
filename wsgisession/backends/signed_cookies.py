"""The ``signed_cookies`` engine: the session data itself travels in the cookie.

By default the data is signed, not encrypted: the user can read it but not change
it. With ``SESSION_COOKIE_ENCRYPT`` it is encrypted (AES-GCM), so the user can do
neither. Nothing is kept on the server, so a copy of an old cookie stays valid until
the expiry inside it; ``flush()`` and ``cycle_key()`` only replace the browser's cookie.
So that replaying a copy cannot keep it alive, that expiry never moves past the
session's :attr:`~SignedCookieBackend.lifetime` (``SESSION_COOKIE_AGE`` after it began,
unless ``SESSION_ABSOLUTE_AGE`` bounds it instead).
"""

from __future__ import annotations

import json
import sys
import zlib
from typing import Any, Protocol

from .. import _b64, _lifecycle
from ..encryption import CookieCipher, DecryptionError
from ..errors import CookieTooLargeError
from ..settings import Settings
from ..signing import HmacSigner
from ._memo import BoundedMemo
from .contract import Loaded, Pending, Rejected, SessionBackend

#: Separates these signatures from any other use of SECRET_KEY.
SALT = "wsgisession.signed_cookies"
#: Shorter JSON is sent uncompressed: it is mostly the random session key and the
#: bookkeeping, which zlib cannot shrink (a few dozen bytes at best), and trying costs
#: more than the rest of signing.
COMPRESS_FROM = 256
#: The most JSON a cookie may carry, compressed or not: a save past it is refused and a
#: cookie inflating past it is read as undecodable. Deflate expands up to 1032:1, so a
#: 4 KB cookie could otherwise hold megabytes; real sessions need tens of KB at most.
MAX_JSON_BYTES = 64 * 1024
#: How many authentic cookies each back end remembers, read ...
READ_COOKIES = 1024
#: ... and how many bytes (estimated with ``sys.getsizeof``) they may pin in all.
MEMO_BYTES = 8 * 1024 * 1024


class BadCookie(Exception):
    """The cookie value is not authentic: tampered, truncated, or made with another key."""


class UndecodableCookie(BadCookie):
    """The cookie is authentic, but its payload cannot be decoded (or holds over :data:`MAX_JSON_BYTES`)."""


class CookieCodec(Protocol):
    """Turns the session payload into a cookie value and back (sign or encrypt)."""

    def dumps(self, payload: dict[str, Any]) -> str:
        """The cookie value for ``payload``."""
        ...

    def loads(self, value: str) -> Any:
        """The payload in ``value``; :class:`BadCookie` if it is not authentic."""
        ...


#: Built once: ``json.dumps`` with options builds an encoder per call.
_compact_json = json.JSONEncoder(separators=(",", ":")).encode


def _payload_json(payload: dict[str, Any]) -> bytes:
    """The compact JSON of ``payload`` (ASCII); CookieTooLargeError past :data:`MAX_JSON_BYTES`."""
    text = _compact_json(payload).encode("ascii")
    if len(text) > MAX_JSON_BYTES:
        raise CookieTooLargeError(len(text), MAX_JSON_BYTES, "the session cookie would hold {size} bytes of data,"
                                  " over the limit of {limit} a signed cookie may carry")
    return text


def _parse_json(text: bytes) -> Any:
    """The JSON in an authentic payload; UndecodableCookie if it is not JSON or nests too deeply."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # authentic: written by a broken build, or with a leaked key
        raise UndecodableCookie(f"undecodable payload: {type(exc).__name__}") from None


class SigningCodec:
    """itsdangerous' ``URLSafeSerializer`` format: HMAC-SHA1-signed, readable by the user.

    Signs with ``secret_key``; verifies with it or any of ``fallbacks``. The value is the
    payload (URL-safe base64 of the compact JSON, zlib-compressed with a leading dot when
    that is shorter), a dot, and its signature: ``URLSafeSerializer([*fallbacks, secret_key],
    salt=SALT)`` with compact JSON reads these values, and makes values this class reads.
    """

    def __init__(self, secret_key: str, fallbacks: tuple[str, ...] = ()) -> None:
        self._signer = HmacSigner(secret_key, fallbacks, SALT, "sha1")

    def dumps(self, payload: dict[str, Any]) -> str:
        text = _payload_json(payload)
        body = _b64.encode(text)
        if len(text) >= COMPRESS_FROM:
            compressed = zlib.compress(text)
            if len(compressed) < len(text) - 1:  # itsdangerous' rule: the dot costs a byte
                body = b"." + _b64.encode(compressed)
        return (body + b"." + self._signer.signature(body)).decode("ascii")

    def loads(self, value: str) -> Any:
        body, dot, signature = value.rpartition(".")
        if not (dot and value.isascii()):
            raise BadCookie("not a signed value")
        payload = body.encode("ascii")
        if not self._signer.verify(payload, signature.encode("ascii")):
            raise BadCookie("bad signature")
        try:
            text = _decode_payload(payload)
        except ValueError as exc:
            raise UndecodableCookie(f"undecodable payload: {exc}") from None
        return _parse_json(text)


def _decode_payload(payload: bytes) -> bytes:
    """The JSON in a signed payload; ValueError if it is not base64, not zlib after a dot, or too long.

    Inflating stops one byte past :data:`MAX_JSON_BYTES`: a bomb is never inflated whole.
    """
    compressed = payload.startswith(b".")
    encoded = payload[1:] if compressed else payload
    if not compressed and len(encoded) > (MAX_JSON_BYTES * 4 + 2) // 3:
        raise ValueError(f"over {MAX_JSON_BYTES} bytes")
    data = _b64.decode(encoded)  # binascii.Error is a ValueError
    if not compressed:
        return data
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(data, MAX_JSON_BYTES + 1)
    except zlib.error as exc:
        raise ValueError(f"not zlib data: {exc}") from exc
    if len(text) > MAX_JSON_BYTES or not inflater.eof:
        raise ValueError(f"zlib data truncated or inflating to over {MAX_JSON_BYTES} bytes")
    return text


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
        return self._cipher.encrypt(_payload_json(payload))

    def loads(self, value: str) -> Any:
        try:
            plaintext = self._cipher.decrypt(value)  # at most MAX_TOKEN_CHARS: far below MAX_JSON_BYTES
        except DecryptionError as exc:
            raise BadCookie(f"failed authentication: {exc}") from exc
        return _parse_json(plaintext)


class SignedCookieBackend(SessionBackend):
    """Keeps the whole session in the cookie value the ``codec`` makes (signed or encrypted)."""

    def __init__(self, codec: CookieCodec, lifetime: int | None = None) -> None:
        self._codec = codec
        #: A copy of the cookie cannot be revoked: without SESSION_ABSOLUTE_AGE, a session ends
        #: this long after it began however often it is re-signed (None: no such bound).
        self.lifetime = lifetime
        self._memo: BoundedMemo[Loaded] = BoundedMemo(READ_COOKIES, MEMO_BYTES, _weight)
        self._remembered = self._memo.get

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
        return cls(codec, settings.cookie_age if settings.absolute_age is None else None)

    def load(self, cookie_value: str, now: float) -> Loaded | Rejected:
        loaded = self._remembered(cookie_value)
        if loaded is None:
            read = self._read_cookie(cookie_value)
            if isinstance(read, Rejected):  # never remembered: checked, refused and counted every time
                return read
            self._memo.add(cookie_value, read)
            loaded = read
        if loaded.expires_at <= now:
            return Rejected.MISSING
        return loaded

    def save(self, pending: Pending) -> str:
        payload = {"k": pending.key, "m": pending.meta(),
                   "e": pending.expires_at, "d": pending.all_data()}
        return self._codec.dumps(payload)

    def delete(self, key: str) -> None:
        """Nothing to delete on the server: the response replaces the cookie."""

    def memo_bytes(self) -> int:
        """What the cookies this back end remembers weigh, estimated (at most :data:`MEMO_BYTES`)."""
        return self._memo.bytes()

    def _read_cookie(self, cookie_value: str) -> Loaded | Rejected:
        """The session in an authentic cookie (shared by every request sending it: read-only)."""
        try:
            payload = self._codec.loads(cookie_value)
        except UndecodableCookie:
            return Rejected.UNDECODABLE
        except BadCookie:
            return Rejected.BAD_SIGNATURE
        loaded = _from_payload(payload)
        if loaded is None:
            return Rejected.UNDECODABLE
        if self.lifetime is not None:  # a cookie 0.1.0 re-signed past the bound dies at it too
            deadline = _lifecycle.lifetime_deadline(loaded.expiry, loaded.created_at, self.lifetime)
            if deadline is not None and deadline < loaded.expires_at:
                loaded.expires_at = deadline
        return loaded


def _from_payload(payload: Any) -> Loaded | None:
    if not isinstance(payload, dict):
        return None
    key, meta, expires, data = payload.get("k"), payload.get("m"), payload.get("e"), payload.get("d")
    if not (isinstance(key, str) and _lifecycle.looks_like_key(key) and isinstance(meta, str)
            and isinstance(expires, (int, float))
            and isinstance(data, dict) and all(isinstance(v, str) for v in data.values())):
        return None
    try:
        decoded = _lifecycle.decode_meta(meta)
    except ValueError:
        return None
    return Loaded(key, data, decoded.expiry, decoded.created_at, float(expires), user_id=decoded.user_id)


#: What one memo entry costs beyond its objects: its slots in two dicts and an OrderedDict link.
_ENTRY_OVERHEAD = 200


def _weight(cookie_value: str, loaded: Loaded) -> int:
    """The bytes a remembered cookie pins: its value, the Loaded and the objects it holds."""
    size = _ENTRY_OVERHEAD + sys.getsizeof(cookie_value) + sys.getsizeof(loaded) + sys.getsizeof(loaded.key)
    size += sys.getsizeof(loaded.data) + sys.getsizeof(loaded.expiry) + sys.getsizeof(loaded.user_id)
    for key, value in loaded.data.items():
        size += sys.getsizeof(key) + sys.getsizeof(value)
    return size
