"""Signatures in itsdangerous' format: one signer per use, each with its own salt and the key list.

Keys: ``SECRET_KEY`` signs; it and every key of ``SECRET_KEY_FALLBACKS`` verify, so a
key can be rotated without logging anyone out (move the old key to the fallbacks).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from itsdangerous import Signer

from . import _b64

#: Separates session-id signatures from any other use of SECRET_KEY.
SESSION_ID_SALT = "wsgisession.session_id"


class HmacSigner:
    """itsdangerous' ``Signer`` signatures for one salt and digest, with each key derived once.

    Signs with ``secret_key``; verifies with it, then with each of ``fallbacks``. A signature
    is the URL-safe base64 (no padding) of the HMAC with itsdangerous' derived key, so
    itsdangerous reads what this makes and the other way round. Thread-safe.
    """

    def __init__(self, secret_key: str, fallbacks: tuple[str, ...], salt: str, digest: str) -> None:
        # itsdangerous signs with the last key of its list and verifies with each, newest first.
        signer = Signer([*fallbacks, secret_key], salt=salt, digest_method=getattr(hashlib, digest))
        # Copying a keyed HMAC costs a third of keying a new one.
        self._signing = _keyed_hmac(signer.derive_key(), digest)
        self._verifying = [_keyed_hmac(signer.derive_key(secret), digest) for secret in reversed(signer.secret_keys)]

    def signature(self, message: bytes) -> bytes:
        """The signature of ``message`` with the signing key."""
        return _sign(self._signing, message)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is the signature of ``message`` with one of the keys."""
        return self.signed_by(message, signature) is not None

    def signed_by(self, message: bytes, signature: bytes) -> int | None:
        """Which key made ``signature`` (0: ``secret_key``, then the fallbacks in order), or None."""
        # Compared as text in its one canonical spelling: lenient base64 decoding would
        # accept other spellings of the same signature, and a value changed so must not load.
        for index, keyed in enumerate(self._verifying):
            if hmac.compare_digest(_sign(keyed, message), signature):
                return index
        return None


class SessionIdSigner:
    """Signs session keys for the cookie, so a made-up key is refused without a store call.

    The format is itsdangerous' (``value.signature``: HMAC-SHA256 with itsdangerous' key
    derivation and salt, URL-safe base64); a test checks that itsdangerous and this class
    accept and produce the same values.
    """

    def __init__(self, secret_key: str, fallbacks: tuple[str, ...] = ()) -> None:
        self._signer = HmacSigner(secret_key, fallbacks, SESSION_ID_SALT, "sha256")

    def sign(self, key: str) -> str:
        """The cookie value for ``key``: the key, a dot, and its HMAC-SHA256."""
        return f"{key}.{self._signer.signature(key.encode('ascii')).decode('ascii')}"

    def unsign(self, value: str) -> tuple[str, bool] | None:
        """The key inside a cookie value and whether ``SECRET_KEY`` itself signed it (then
        ``value`` is what :meth:`sign` gives); None if the signature does not check out."""
        key, dot, signature = value.rpartition(".")
        if not dot or len(signature) != _SIGNATURE_LENGTH or not value.isascii():
            return None
        signed_by = self._signer.signed_by(key.encode("ascii"), signature.encode("ascii"))
        return None if signed_by is None else (key, signed_by == 0)


#: Length of an unpadded URL-safe base64 SHA-256 digest.
_SIGNATURE_LENGTH = 43


def _keyed_hmac(key: bytes, digest: str) -> Any:
    """An HMAC keyed with ``key``: OpenSSL's own object where there is one.

    ``hmac.HMAC`` wraps that object in Python-level methods, which cost a third of a
    signature; ``copy``, ``update`` and ``digest`` behave the same on both.
    """
    keyed = hmac.new(key, digestmod=digest)
    return getattr(keyed, "_hmac", None) or keyed


def _sign(keyed: Any, message: bytes) -> bytes:
    mac = keyed.copy()
    mac.update(message)
    return _b64.encode(mac.digest())
