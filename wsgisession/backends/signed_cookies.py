"""The ``signed_cookies`` engine: the session data itself travels in a signed cookie.

The data is signed, not encrypted: the user can read it but not change it. Nothing
is kept on the server, so a copy of an old cookie stays valid until the expiry
signed inside it; ``flush()`` and ``cycle_key()`` only replace the browser's cookie.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from .. import _lifecycle
from ..session import Pending
from ..settings import Settings
from . import Loaded, SessionBackend

logger = logging.getLogger("wsgisession")

#: Separates these signatures from any other use of SECRET_KEY.
SALT = "wsgisession.signed_cookies"


class _CompactJSON:
    """The cookie payload's own format; values inside are already serialized strings."""

    @staticmethod
    def dumps(obj: Any) -> str:
        return json.dumps(obj, separators=(",", ":"))

    @staticmethod
    def loads(text: str) -> Any:
        return json.loads(text)


class SignedCookieBackend(SessionBackend):
    """Signs with ``SECRET_KEY``; reads cookies signed with it or any of ``SECRET_KEY_FALLBACKS``."""

    def __init__(self, secret_key: str, fallbacks: tuple[str, ...] = ()) -> None:
        # itsdangerous signs with the last key and verifies with every key.
        self._serializer = URLSafeSerializer([*fallbacks, secret_key], salt=SALT, serializer=_CompactJSON)

    @classmethod
    def from_settings(cls, settings: Settings) -> SignedCookieBackend:
        if settings.secret_key is None:  # settings validation refuses this already
            raise ValueError("the signed_cookies engine needs SECRET_KEY")
        return cls(settings.secret_key, settings.secret_key_fallbacks)

    def load(self, cookie_value: str, now: float) -> Loaded | None:
        try:
            payload = self._serializer.loads(cookie_value)
        except BadSignature:
            logger.warning("session cookie with a bad signature ignored")
            return None
        loaded = _from_payload(payload)
        if loaded is None:
            logger.warning("signed session cookie holds an unexpected payload; ignored")
            return None
        if payload["e"] <= now:
            return None
        return loaded

    def save(self, pending: Pending) -> str:
        payload = {"k": pending.key, "m": _lifecycle.encode_meta(pending.expiry, pending.created_at),
                   "e": pending.expires_at, "d": pending.all_data()}
        return self._serializer.dumps(payload)

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
        expiry, created_at = _lifecycle.decode_meta(meta)
    except ValueError:
        return None
    return Loaded(key, data, expiry, created_at, float(expires))
