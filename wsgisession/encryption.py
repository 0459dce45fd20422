"""AES-GCM for cookie values: private and tamper-proof, with keys derived from SECRET_KEY.

``cryptography`` is imported only when a :class:`CookieCipher` is built, that is when
``SESSION_COOKIE_ENCRYPT`` is on; install it with ``pip install 'wsgi-session[crypto]'``.
"""

from __future__ import annotations

import binascii
import os
import re
from collections.abc import Sequence

from . import _b64
from .errors import ConfigurationError, SettingProblem

#: HKDF "info": keys derived for this use differ from any other use of SECRET_KEY.
HKDF_INFO = b"wsgisession.signed_cookies.aes-256-gcm.v1"
#: 96-bit random nonces, as GCM expects. Random nonces stay safe for about 2**32
#: cookies per key, far beyond what a SECRET_KEY sees between rotations.
NONCE_BYTES = 12
TAG_BYTES = 16
#: Longer than any browser sends back (4096 bytes per cookie): refused unread.
MAX_TOKEN_CHARS = 8192

_URLSAFE = re.compile(r"[A-Za-z0-9_-]+")


class DecryptionError(ValueError):
    """The value was not made by any of our keys for this cookie name, or it is garbled."""


class CookieCipher:
    """Encrypts with the first secret's key; decrypts with any of them (key rotation).

    Tokens are URL-safe base64 without padding of ``nonce || ciphertext || tag``, so a
    cookie carries them unquoted. ``associated_data`` (the cookie name) is authenticated
    with each token: a token made for one name does not decrypt under another.
    Thread-safe.

    :raises ConfigurationError: if ``cryptography`` is not installed.
    """

    def __init__(self, secrets: Sequence[str], associated_data: bytes) -> None:
        try:
            from cryptography.exceptions import InvalidTag
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        except ImportError as exc:
            raise ConfigurationError([SettingProblem(
                "SESSION_COOKIE_ENCRYPT", "the cryptography package: pip install 'wsgi-session[crypto]'",
                f"True, but cryptography cannot be imported ({exc})")]) from exc
        if not secrets:
            raise ValueError("CookieCipher needs at least one secret")
        self._ciphers = [AESGCM(derive_key(secret)) for secret in secrets]
        self._invalid_tag = InvalidTag
        self._aad = associated_data

    def encrypt(self, plaintext: bytes) -> str:
        """A fresh token for ``plaintext`` (a new random nonce each call)."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[0].encrypt(nonce, plaintext, self._aad)
        return _b64.encode(nonce + sealed).decode("ascii")

    def decrypt(self, token: str) -> bytes:
        """The plaintext of ``token``; :class:`DecryptionError` if no key authenticates it."""
        raw = _unbase64(token)
        nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
        for cipher in self._ciphers:
            try:
                return cipher.decrypt(nonce, sealed, self._aad)
            except self._invalid_tag:
                continue
        raise DecryptionError("authentication failed (tampered, or made with another key or cookie name)")


def derive_key(secret: str) -> bytes:
    """A 256-bit AES key from ``secret`` by HKDF-SHA256 (``info`` specific to cookie encryption)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(secret.encode("utf-8"))


def _unbase64(token: str) -> bytes:
    if len(token) > MAX_TOKEN_CHARS or not _URLSAFE.fullmatch(token):
        raise DecryptionError("not an encrypted cookie value")
    try:
        raw = _b64.decode(token.encode("ascii"))
    except binascii.Error as exc:
        raise DecryptionError("truncated encrypted cookie value") from exc
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("truncated encrypted cookie value")
    return raw
