"""URL-safe base64 without padding: how signatures, signed payloads and encrypted cookies are written."""

from __future__ import annotations

import base64


def encode(data: bytes) -> bytes:
    """``data`` in URL-safe base64, with the ``=`` padding dropped (itsdangerous' spelling)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def decode(text: bytes) -> bytes:
    """The bytes :func:`encode` wrote; ``binascii.Error`` (a ValueError) if ``text`` is not base64."""
    return base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))
