"""Signing with itsdangerous: one signer per use, each with its own salt and the key list.

Keys: ``SECRET_KEY`` signs; it and every key of ``SECRET_KEY_FALLBACKS`` verify, so a
key can be rotated without logging anyone out (move the old key to the fallbacks).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from itsdangerous import Signer
from itsdangerous.encoding import base64_encode, want_bytes

#: Separates session-id signatures from any other use of SECRET_KEY.
SESSION_ID_SALT = "wsgisession.session_id"


#: Derived keys, by (secret, salt, derivation, digest): a handful per process.
_DERIVED: dict[tuple[bytes, bytes, str, Any], bytes] = {}


class CachedKeySigner(Signer):
    """itsdangerous' Signer, deriving each key once per process: a derived key depends only
    on the secret and the salt, and deriving it costs as much as checking a signature.

    The cache is module-wide because itsdangerous' serializers build a new signer per call.
    """

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        secret = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        cache_key = (secret, self.salt, self.key_derivation, self.digest_method)
        derived = _DERIVED.get(cache_key)
        if derived is None:
            derived = _DERIVED[cache_key] = super().derive_key(secret)
        return derived

    def verify_signature(self, value: str | bytes, sig: str | bytes) -> bool:
        """Only the canonical spelling of a signature: base64 decoding is lenient (padding,
        unused bits, other alphabets), and a cookie changed that way must not load."""
        value, sig = want_bytes(value), want_bytes(sig)
        return any(
            hmac.compare_digest(base64_encode(self.algorithm.get_signature(self.derive_key(secret), value)), sig)
            for secret in reversed(self.secret_keys))


class SessionIdSigner:
    """Signs session keys for the cookie, so a made-up key is refused without a store call.

    The format is itsdangerous' (``value.signature``: HMAC-SHA256 with itsdangerous' key
    derivation and salt, URL-safe base64); it runs on every request that touches the
    session, so signing and checking call ``hmac.digest`` on the derived keys directly
    (a test checks that itsdangerous and this class accept and produce the same values).
    """

    def __init__(self, secret_key: str, fallbacks: tuple[str, ...] = ()) -> None:
        # itsdangerous signs with the last key and verifies with each, newest first.
        signer = CachedKeySigner([*fallbacks, secret_key], salt=SESSION_ID_SALT, digest_method=hashlib.sha256)
        self._signing_key = signer.derive_key()
        self._verifying_keys = [signer.derive_key(secret) for secret in reversed(signer.secret_keys)]

    def sign(self, key: str) -> str:
        """The cookie value for ``key``: the key, a dot, and its HMAC-SHA256."""
        return f"{key}.{_encode(hmac.digest(self._signing_key, key.encode('ascii'), 'sha256')).decode('ascii')}"

    def unsign(self, value: str) -> str | None:
        """The key inside a cookie value, or None if the signature does not check out."""
        key, dot, signature = value.rpartition(".")
        if not dot or len(signature) != _SIGNATURE_LENGTH or not value.isascii():
            return None
        message, given = key.encode("ascii"), signature.encode("ascii")
        for secret in self._verifying_keys:
            # Compared as text in its one canonical spelling (lenient base64 decoding would
            # accept other spellings of the same signature).
            if hmac.compare_digest(_encode(hmac.digest(secret, message, "sha256")), given):
                return key
        return None


#: Length of an unpadded URL-safe base64 SHA-256 digest.
_SIGNATURE_LENGTH = 43


def _encode(digest: bytes) -> bytes:
    return base64.urlsafe_b64encode(digest).rstrip(b"=")
