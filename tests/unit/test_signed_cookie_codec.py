"""The signed_cookies codec speaks itsdangerous' URLSafeSerializer format exactly, and refuses the rest."""

from __future__ import annotations

import base64
import json
import time
import tracemalloc
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from itsdangerous import Signer, URLSafeSerializer

from wsgisession import CookieTooLargeError, _lifecycle
from wsgisession.backends import Loaded, Rejected
from wsgisession.backends.signed_cookies import (
    COMPRESS_FROM,
    MAX_JSON_BYTES,
    SALT,
    BadCookie,
    SignedCookieBackend,
    SigningCodec,
)

OLD, NEW = "the-old-secret-key-0123456789abcdef", "the-new-secret-key-0123456789abcdef"


class CompactJSON:
    dumps = staticmethod(lambda obj: json.dumps(obj, separators=(",", ":")))
    loads = staticmethod(json.loads)


def reference(*keys: str) -> URLSafeSerializer:
    """itsdangerous, as the codec describes itself: signs with the last key, verifies with each."""
    return URLSafeSerializer(list(keys), salt=SALT, serializer=CompactJSON)


def signed(body: bytes, key: str = NEW) -> str:
    """``body`` signed as a payload with ``key``, whatever it holds."""
    return Signer(key, salt=SALT).sign(body).decode()


def b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def session_payload(data: dict[str, str]) -> dict[str, Any]:
    return {"k": _lifecycle.new_session_key(), "m": '{"c":0}', "e": time.time() + 3600, "d": data}


SMALL = session_payload({"count": "1"})
LARGE = session_payload({f"key{i}": json.dumps(f"a repetitive value {i}") for i in range(40)})
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                           max_leaves=40)
PAYLOADS = st.dictionaries(st.text(), JSON_VALUES, max_size=8)


def test_small_payloads_are_not_compressed_and_large_ones_are() -> None:
    assert len(CompactJSON.dumps(SMALL)) < COMPRESS_FROM <= len(CompactJSON.dumps(LARGE))
    assert not SigningCodec(NEW).dumps(SMALL).startswith(".")
    assert SigningCodec(NEW).dumps(LARGE).startswith(".")


@pytest.mark.parametrize("payload", [SMALL, LARGE], ids=["plain", "compressed"])
def test_itsdangerous_and_the_codec_read_each_other(payload: dict[str, Any]) -> None:
    assert reference(NEW).loads(SigningCodec(NEW).dumps(payload)) == payload
    assert SigningCodec(NEW).loads(reference(NEW).dumps(payload)) == payload


def test_large_values_are_exactly_itsdangerous_values() -> None:
    assert SigningCodec(NEW).dumps(LARGE) == reference(NEW).dumps(LARGE)


@given(PAYLOADS)
def test_any_payload_round_trips_through_itsdangerous(payload: dict[str, Any]) -> None:
    assert reference(NEW).loads(SigningCodec(NEW).dumps(payload)) == payload
    assert SigningCodec(NEW).loads(reference(NEW).dumps(payload)) == payload


def test_fallback_keys_verify_and_the_current_key_signs() -> None:
    rotated = SigningCodec(NEW, (OLD,))
    for payload in (SMALL, LARGE):
        assert rotated.loads(SigningCodec(OLD).dumps(payload)) == payload
        assert rotated.loads(reference(OLD).dumps(payload)) == payload
        assert reference(NEW).loads(rotated.dumps(payload)) == payload
        with pytest.raises(BadCookie):
            SigningCodec(OLD).loads(rotated.dumps(payload))


def respelled(value: str) -> str:
    """``value`` with the last character of its signature changed in bits base64 decoding drops."""
    body, _, signature = value.rpartition(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    index = alphabet.index(signature[-1])  # an SHA-1 signature's last character carries 2 bits
    return f"{body}.{signature[:-1]}{alphabet[index ^ 1]}"


def test_a_respelled_signature_is_one_itsdangerous_accepts() -> None:
    value = SigningCodec(NEW).dumps(SMALL)
    assert reference(NEW).loads(respelled(value)) == SMALL  # hence the codec's canonical comparison


#: Case -> how to make its value from a good one (made by SigningCodec(NEW)).
BAD_VALUES: dict[str, Callable[[str], str]] = {
    "respelled signature": respelled,
    "padded signature": lambda good: good + "=",
    "truncated": lambda good: good[:-1],
    "truncated to the payload": lambda good: good.rpartition(".")[0],
    "tampered payload": lambda good: ("A" if good[0] != "A" else "B") + good[1:],
    "signed with another key": lambda _: SigningCodec("another-secret-key-of-some-length").dumps(SMALL),
    "empty": lambda _: "",
    "garbage": lambda _: "not.a.cookie",
    "not ASCII": lambda good: good + "é",
}
#: Authentic (signed with the key), but what they carry cannot be decoded.
UNDECODABLE_VALUES: dict[str, Callable[[str], str]] = {
    "inflating over the cap": lambda _: signed(b"." + b64(zlib.compress(b'"' + b"a" * MAX_JSON_BYTES + b'"'))),
    "plain, over the cap": lambda _: signed(b64(b'"' + b"a" * MAX_JSON_BYTES + b'"')),
    "truncated zlib": lambda _: signed(b"." + b64(zlib.compress(json.dumps(SMALL).encode())[:-3])),
    "signed, not zlib": lambda _: signed(b"." + b64(b"not zlib data")),
    "signed, not base64": lambda _: signed(b"a"),
    "signed, not JSON": lambda _: signed(b64(b"{not json")),
    "signed, nesting too deep": lambda _: signed(b64(b"[" * 100_000)),
}


@pytest.mark.parametrize("case", [*BAD_VALUES, *UNDECODABLE_VALUES])
@pytest.mark.parametrize("payload", [SMALL, LARGE], ids=["plain", "compressed"])
def test_a_bad_value_is_refused_and_reads_as_no_session(case: str, payload: dict[str, Any]) -> None:
    codec = SigningCodec(NEW)
    bad = {**BAD_VALUES, **UNDECODABLE_VALUES}[case](codec.dumps(payload))
    with pytest.raises(BadCookie):
        codec.loads(bad)
    expected = Rejected.UNDECODABLE if case in UNDECODABLE_VALUES else Rejected.BAD_SIGNATURE
    assert SignedCookieBackend(codec).load(bad, time.time()) is expected


def test_a_payload_of_exactly_the_cap_loads_and_one_byte_more_is_refused_on_write() -> None:
    fill = {"d": ""}
    fill["d"] = "a" * (MAX_JSON_BYTES - len(CompactJSON.dumps(fill)))
    assert SigningCodec(NEW).loads(SigningCodec(NEW).dumps(fill)) == fill
    with pytest.raises(CookieTooLargeError, match=f"over the limit of {MAX_JSON_BYTES}"):
        SigningCodec(NEW).dumps({"d": fill["d"] + "a"})


def test_compressed_payloads_up_to_the_cap_load() -> None:
    big = {"d": "a" * (MAX_JSON_BYTES // 2)}
    assert SigningCodec(NEW).loads(signed(b"." + b64(zlib.compress(CompactJSON.dumps(big).encode())))) == big


def deflated_zeros(size: int) -> bytes:
    compressor, chunk = zlib.compressobj(9), bytes(1 << 20)
    return b"".join(compressor.compress(chunk) for _ in range(size >> 20)) + compressor.flush()


def test_a_zlib_bomb_is_refused_without_inflating_it() -> None:
    bomb = signed(b"." + b64(deflated_zeros(16 * MAX_JSON_BYTES)))
    tracemalloc.start()
    try:
        with pytest.raises(BadCookie):
            SigningCodec(NEW).loads(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * MAX_JSON_BYTES  # inflating it all would take 16 times the cap


@given(st.text(max_size=200) | st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.",
                                      max_size=200))
def test_anything_else_is_refused(value: str) -> None:
    with pytest.raises(BadCookie):
        SigningCodec(NEW).loads(value)


def test_the_backend_loads_what_it_saved() -> None:
    codec = SigningCodec(NEW)
    value = codec.dumps(session_payload({"x": '"y"'}))
    loaded = SignedCookieBackend(codec).load(value, time.time())
    assert isinstance(loaded, Loaded) and loaded.data == {"x": '"y"'}
