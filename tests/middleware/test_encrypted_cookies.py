"""SESSION_COOKIE_ENCRYPT: signed_cookies whose data the user can neither read nor change."""

from __future__ import annotations

import base64
import logging
import secrets
import sys
from collections.abc import Callable
from typing import Any

import pytest
from webtest import TestApp
from werkzeug.middleware.lint import LintMiddleware

from tests.conftest import SECRET
from tests.middleware.apps import behaviour_app
from tests.middleware.test_tagged_types import tagged_app
from tests.unit.test_serializers import TAGGED_VALUES
from wsgisession import ConfigurationError, CookieTooLargeError, SessionMiddleware
from wsgisession.encryption import derive_key

PLAINTEXT = "RECOGNIZABLE-PLAINTEXT-4242"
OLD_KEY = "the-old-secret-key-0123456789abcdef"


def encrypted_client(clock: Any = None, **overrides: Any) -> TestApp:
    settings = {"SESSION_ENGINE": "signed_cookies", "SECRET_KEY": SECRET, "SESSION_COOKIE_ENCRYPT": True, **overrides}
    extra = {"clock": clock} if clock else {}
    return TestApp(LintMiddleware(SessionMiddleware(LintMiddleware(behaviour_app), settings, **extra)))


def get_with(client: TestApp, cookie: str, path: str = "/get") -> Any:
    """The app's answer to a request carrying ``cookie`` as the session cookie."""
    return client.get(path, extra_environ={"HTTP_COOKIE": cookie}).json


def stored_cookie(**overrides: Any) -> str:
    client = encrypted_client(**overrides)
    client.get(f"/set?secret={PLAINTEXT}")
    return str(client.cookies[overrides.get("SESSION_COOKIE_NAME", "sessionid")])


def test_the_cookie_does_not_contain_the_plaintext_and_round_trips() -> None:
    client = encrypted_client()
    client.get(f"/set?secret={PLAINTEXT}")
    value = client.cookies["sessionid"]
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    assert PLAINTEXT not in value and PLAINTEXT.encode() not in raw and b"secret" not in raw
    assert set(value) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")  # no quoting
    assert client.get("/get").json == {"secret": PLAINTEXT}
    client.get("/inc")
    assert client.get("/get").json == {"secret": PLAINTEXT, "count": 1}


def test_each_cookie_gets_a_fresh_nonce() -> None:
    client = encrypted_client(SESSION_SAVE_EVERY_REQUEST=True)
    client.get("/set?a=1")
    first = client.cookies["sessionid"]
    client.get("/get")
    assert client.cookies["sessionid"] != first
    assert client.get("/get").json == {"a": "1"}


def _flip(value: str, at: int) -> str:
    return value[:at] + ("A" if value[at] != "A" else "B") + value[at + 1:]


def _signed_cookie(_: str) -> str:
    client = TestApp(SessionMiddleware(behaviour_app, {"SESSION_ENGINE": "signed_cookies", "SECRET_KEY": SECRET}))
    client.get(f"/set?secret={PLAINTEXT}")
    return str(client.cookies["sessionid"])


#: Case -> how to make its cookie value from a good one.
BAD_COOKIES: dict[str, Callable[[str], str]] = {
    "tampered at the start (nonce)": lambda good: _flip(good, 2),
    "tampered in the middle": lambda good: _flip(good, len(good) // 2),
    "tampered at the end (tag)": lambda good: _flip(good, len(good) - 2),
    "truncated by one": lambda good: good[:-1],
    "truncated by a block": lambda good: good[:-22],
    "truncated to the nonce": lambda good: good[:16],
    "not base64": lambda good: good[:-3] + "!!!",
    "made with another SECRET_KEY": lambda _: stored_cookie(SECRET_KEY="another-secret-key-of-some-length"),
    "moved from another cookie name": lambda _: stored_cookie(SESSION_COOKIE_NAME="othersession"),
    "only signed, not encrypted": _signed_cookie,
}


@pytest.mark.parametrize("case", BAD_COOKIES)
def test_an_unauthentic_cookie_reads_as_empty_and_is_logged(case: str, caplog: pytest.LogCaptureFixture) -> None:
    bad = BAD_COOKIES[case](stored_cookie())
    with caplog.at_level(logging.WARNING, logger="wsgisession.security"):
        assert get_with(encrypted_client(), f"sessionid={bad}") == {}
    assert [record.name for record in caplog.records] == ["wsgisession.security"]
    assert "session cookie with a bad signature ignored" in caplog.text


def test_an_encrypted_cookie_is_not_accepted_by_the_signing_engine() -> None:
    signing = TestApp(SessionMiddleware(behaviour_app, {"SESSION_ENGINE": "signed_cookies", "SECRET_KEY": SECRET}))
    assert get_with(signing, f"sessionid={stored_cookie()}") == {}


def test_key_rotation_reads_old_cookies_and_writes_with_the_new_key() -> None:
    old_cookie = f"sessionid={stored_cookie(SECRET_KEY=OLD_KEY)}"
    rotated = encrypted_client(SECRET_KEY_FALLBACKS=[OLD_KEY])
    assert get_with(rotated, old_cookie) == {"secret": PLAINTEXT}
    get_with(rotated, old_cookie, "/inc")
    new_cookie = f"sessionid={rotated.cookies['sessionid']}"
    assert get_with(encrypted_client(), new_cookie) == {"secret": PLAINTEXT, "count": 1}  # only the new key
    assert get_with(encrypted_client(SECRET_KEY=OLD_KEY), new_cookie) == {}  # written with the new key


def test_the_expiry_inside_the_encrypted_value_is_enforced() -> None:
    now = [1_000_000.0]
    client = encrypted_client(clock=lambda: now[0])
    client.get("/set?a=1")
    client.get("/expiry?seconds=60")
    cookie = f"sessionid={client.cookies['sessionid']}"
    now[0] += 59
    assert get_with(encrypted_client(clock=lambda: now[0]), cookie) == {"a": "1"}
    now[0] += 2
    assert get_with(encrypted_client(clock=lambda: now[0]), cookie) == {}


def test_tagged_types_round_trip_encrypted() -> None:
    settings = {"SESSION_ENGINE": "signed_cookies", "SECRET_KEY": SECRET, "SESSION_COOKIE_ENCRYPT": True}
    client = TestApp(SessionMiddleware(tagged_app(dict(TAGGED_VALUES)), settings))
    client.get("/store")
    assert client.get("/check").json == []


def test_a_cookie_over_the_browser_limit_is_a_clear_error() -> None:
    with pytest.raises(CookieTooLargeError, match=r"\d+ bytes, over the browser limit of 4096"):
        encrypted_client().get("/set?big=" + secrets.token_urlsafe(4000))


def test_without_secret_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        SessionMiddleware(behaviour_app, {"SESSION_ENGINE": "signed_cookies", "SESSION_COOKIE_ENCRYPT": True})


def test_the_setting_is_validated_like_the_other_bools() -> None:
    with pytest.raises(ConfigurationError, match="SESSION_COOKIE_ENCRYPT: expected True or False, got 'yes'"):
        SessionMiddleware(behaviour_app, {"SESSION_ENGINE": "signed_cookies", "SECRET_KEY": SECRET,
                                          "SESSION_COOKIE_ENCRYPT": "yes"})


def test_without_cryptography_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.ciphers.aead", None)
    with pytest.raises(ConfigurationError, match=r"SESSION_COOKIE_ENCRYPT.*pip install 'wsgi-session\[crypto\]'"):
        encrypted_client()
    assert TestApp(SessionMiddleware(behaviour_app, {"SESSION_ENGINE": "signed_cookies", "SECRET_KEY": SECRET}))


def test_keys_are_derived_per_secret_and_are_256_bits() -> None:
    assert len(derive_key(SECRET)) == 32
    assert derive_key(SECRET) != derive_key(OLD_KEY)
    assert SECRET.encode() not in derive_key(SECRET)
