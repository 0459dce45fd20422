"""Signing with itsdangerous: one signer per use, each with its own salt and the key list.

Keys: ``SECRET_KEY`` signs; it and every key of ``SECRET_KEY_FALLBACKS`` verify, so a
key can be rotated without logging anyone out (move the old key to the fallbacks).
"""

from __future__ import annotations

import hashlib

from itsdangerous import BadSignature, Signer

#: Separates session-id signatures from any other use of SECRET_KEY.
SESSION_ID_SALT = "wsgisession.session_id"


class SessionIdSigner:
    """Signs session keys for the cookie, so a made-up key is refused without a store call."""

    def __init__(self, secret_key: str, fallbacks: tuple[str, ...] = ()) -> None:
        # itsdangerous signs with the last key and verifies with each, newest first.
        self._signer = Signer([*fallbacks, secret_key], salt=SESSION_ID_SALT, digest_method=hashlib.sha256)

    def sign(self, key: str) -> str:
        """The cookie value for ``key``: the key, a dot, and its HMAC-SHA256."""
        return self._signer.sign(key).decode("ascii")

    def unsign(self, value: str) -> str | None:
        """The key inside a cookie value, or None if the signature does not check out."""
        try:
            return self._signer.unsign(value).decode("ascii", "replace")
        except BadSignature:
            return None
