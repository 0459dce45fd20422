"""signed_cookies: a cookie of 4 KB cannot decode to more than MAX_JSON_BYTES, and what each
worker remembers of decoded cookies is bounded in bytes.

The hostile cookies here are signed with the real SECRET_KEY: what an application signs when
it stores data a user chose (a long, repetitive form field compresses to almost nothing), or
what anyone holding the key could make.
"""

from __future__ import annotations

import gc
import json
import time
import tracemalloc
import zlib
from typing import Any

import pytest
from itsdangerous import Signer
from webtest import TestApp

from tests.conftest import SECRET
from tests.middleware.apps import behaviour_app
from wsgisession import CookieTooLargeError, SessionMiddleware, _b64, _lifecycle
from wsgisession.backends import Loaded
from wsgisession.backends.signed_cookies import MAX_JSON_BYTES, MEMO_BYTES, SALT, SignedCookieBackend
from wsgisession.encryption import CookieCipher
from wsgisession.settings import Settings


def payload(data: dict[str, str]) -> dict[str, Any]:
    return {"k": _lifecycle.new_session_key(), "m": _lifecycle.encode_meta(None, time.time()),
            "e": time.time() + 3600, "d": data}


def signed_raw(text: bytes) -> str:
    """``text`` as a compressed signed-cookie payload, signed with the real key."""
    return Signer(SECRET, salt=SALT).sign(b"." + _b64.encode(zlib.compress(text, 9))).decode()


def signed_payload(data: dict[str, str]) -> str:
    return signed_raw(json.dumps(payload(data), separators=(",", ":")).encode())


def encrypted_raw(text: bytes) -> str:
    return CookieCipher([SECRET], associated_data=b"sessionid").encrypt(text)


def middleware(encrypt: bool = False) -> SessionMiddleware:
    settings = {"SESSION_ENGINE": "signed_cookies", "SECRET_KEY": SECRET, "SESSION_COOKIE_ENCRYPT": encrypt}
    return SessionMiddleware(behaviour_app, settings)


def read(app: SessionMiddleware, cookie: str) -> Any:
    return TestApp(app).get("/get", extra_environ={"HTTP_COOKIE": f"sessionid={cookie}"}).json


def test_a_session_that_would_decode_past_the_limit_is_refused_on_write() -> None:
    client = TestApp(middleware())
    with pytest.raises(CookieTooLargeError, match=rf"\d+ bytes of data, over the limit of {MAX_JSON_BYTES}"):
        client.get("/set?note=" + "a" * MAX_JSON_BYTES)  # compresses to a few hundred bytes: it would fit a cookie


def test_a_real_session_of_tens_of_kilobytes_round_trips() -> None:
    client = TestApp(middleware())
    note = "a repetitive note " * 2000  # 36 KB, compressed well under 4 KB
    client.get("/set", params={"note": note})
    assert client.get("/get").json == {"note": note}


@pytest.mark.parametrize("size", [MAX_JSON_BYTES + 1, 1024 * 1024])
def test_a_validly_signed_bomb_reads_as_empty_and_is_counted_undecodable(size: int) -> None:
    app = middleware()
    bomb = signed_payload({"note": json.dumps("a" * size)})
    assert len(bomb) < 4096  # what a browser keeps and sends back
    assert read(app, bomb) == {}
    counts = app.event_counts()
    assert (counts.undecodable, counts.bad_signatures) == (1, 0)


@pytest.mark.parametrize("encrypt", [False, True], ids=["signed", "encrypted"])
def test_validly_signed_deep_nesting_reads_as_empty_and_is_counted_undecodable(encrypt: bool) -> None:
    app = middleware(encrypt)
    nested = b"[" * 2500 + b"]" * 2500  # deeper than the JSON decoder goes
    assert read(app, encrypted_raw(nested) if encrypt else signed_raw(nested)) == {}
    assert app.event_counts().undecodable == 1


def signed_cookies_backend() -> SignedCookieBackend:
    backend = SignedCookieBackend.from_settings(Settings.from_mapping(
        {"SESSION_ENGINE": "signed_cookies", "SECRET_KEY": SECRET}))
    assert isinstance(backend, SignedCookieBackend)
    return backend


def retained_by(load_all: Any) -> int:
    """Bytes still allocated after ``load_all()`` returned (tracemalloc, after a collection)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        load_all()
        gc.collect()
        return int(tracemalloc.get_traced_memory()[0] - before)
    finally:
        tracemalloc.stop()


def test_the_memo_of_read_cookies_is_bounded_in_bytes() -> None:
    backend = signed_cookies_backend()
    cookies = [signed_payload({"note": json.dumps(f"{i:06d}" + "a" * 60_000)}) for i in range(300)]  # 300 x 60 KB

    def load_all() -> None:
        for cookie in cookies:
            assert isinstance(backend.load(cookie, time.time()), Loaded)

    retained = retained_by(load_all)
    assert retained <= MEMO_BYTES + 1024 * 1024  # 300 x 60 KB = 18 MB if each were kept
    assert backend.memo_bytes() <= MEMO_BYTES


def test_the_memo_accounts_for_what_it_holds() -> None:
    backend = signed_cookies_backend()
    # Many small keys: the Python objects weigh far more than their JSON.
    cookies = [signed_payload({f"k{i}_{j}": '"v"' for j in range(1500)}) for i in range(40)]

    def load_all() -> None:
        for cookie in cookies:
            assert isinstance(backend.load(cookie, time.time()), Loaded)

    retained = retained_by(load_all)
    assert 0 < backend.memo_bytes() <= MEMO_BYTES
    assert retained <= backend.memo_bytes() * 1.1 + 256 * 1024


def test_genuine_cookies_are_still_remembered() -> None:
    backend = signed_cookies_backend()
    cookie = signed_payload({"user": '"bob"'})
    first, second = backend.load(cookie, time.time()), backend.load(cookie, time.time())
    assert isinstance(first, Loaded) and first is second
