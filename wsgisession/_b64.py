"""URL-safe base64 without padding: how signatures, signed payloads and encrypted cookies are written."""

from __future__ import annotations

import base64
import binascii

_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def encode(data: bytes) -> bytes:
    """``data`` in URL-safe base64, with the ``=`` padding dropped (itsdangerous' spelling)."""
    # What base64.urlsafe_b64encode does, without its two Python-level calls.
    return binascii.b2a_base64(data, newline=False).translate(_URL_SAFE).rstrip(b"=")


def decode(text: bytes) -> bytes:
    """The bytes :func:`encode` wrote; ``binascii.Error`` (a ValueError) if ``text`` is not base64."""
    return base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))
