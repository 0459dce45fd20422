"""The session-id signer speaks itsdangerous' format exactly, with key rotation."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st
from itsdangerous import Signer

from wsgisession import _lifecycle
from wsgisession.signing import SESSION_ID_SALT, SessionIdSigner

OLD, NEW = "the-old-secret-key-0123456789abcdef", "the-new-secret-key-0123456789abcdef"


def reference(*keys: str) -> Signer:
    return Signer(list(keys), salt=SESSION_ID_SALT, digest_method=hashlib.sha256)


KEYS = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=64)


@given(KEYS)
def test_signatures_are_itsdangerous_signatures(key: str) -> None:
    assert SessionIdSigner(NEW).sign(key) == reference(NEW).sign(key).decode()
    assert SessionIdSigner(NEW).unsign(reference(NEW).sign(key).decode()) == (key, True)


def test_fallback_keys_verify_and_the_current_key_signs() -> None:
    key = _lifecycle.new_session_key()
    rotated = SessionIdSigner(NEW, (OLD,))
    # Verified, but signed by a fallback: the value is signed again on the next save.
    assert rotated.unsign(reference(OLD).sign(key).decode()) == (key, False)
    assert rotated.unsign(rotated.sign(key)) == (key, True)
    assert rotated.sign(key) == reference(OLD, NEW).sign(key).decode()
    assert SessionIdSigner(OLD).unsign(rotated.sign(key)) is None


@given(st.text(max_size=120))
def test_anything_else_is_refused(value: str) -> None:
    signer = SessionIdSigner(NEW)
    unsigned = signer.unsign(value)
    assert unsigned is None or signer.sign(unsigned[0]) == value


def test_a_changed_key_or_signature_is_refused() -> None:
    signer = SessionIdSigner(NEW)
    value = signer.sign(_lifecycle.new_session_key())
    key, signature = value.split(".")
    assert signer.unsign(value) == (key, True)
    flipped = "A" if key[0] != "A" else "B"
    assert signer.unsign(flipped + key[1:] + "." + signature) is None
    assert signer.unsign(key + "." + signature[:-1]) is None
    assert signer.unsign(key + "." + signature + "A") is None
    assert signer.unsign(key + signature) is None
