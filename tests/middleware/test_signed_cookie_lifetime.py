"""signed_cookies: a copied cookie dies SESSION_COOKIE_AGE after its session began, however often it is replayed.

Nothing is kept on the server, so a copy taken before a logout cannot be revoked; what
bounds it is the deadline signed inside the value. Re-signing on each touch must never
move that deadline past the session's creation plus SESSION_COOKIE_AGE (or plus the
longer idle age a ``set_expiry(seconds)`` asked for); a ``set_expiry`` datetime or
timedelta is a fixed deadline, kept as set.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from webtest import TestApp
from werkzeug.middleware.lint import LintMiddleware

from tests.conftest import SECRET
from tests.middleware.apps import behaviour_app
from tests.middleware.test_behaviour import cookie_attributes, session_cookies
from wsgisession import SessionMiddleware, _lifecycle
from wsgisession.backends.signed_cookies import CookieCodec, EncryptingCodec, SigningCodec

AGE = 100


class Clock:
    """The middleware's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=[False, True], ids=["signed", "encrypted"])
def encrypt(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def middleware(clock: Clock, encrypt: bool, **overrides: Any) -> SessionMiddleware:
    settings = {"SESSION_ENGINE": "signed_cookies", "SECRET_KEY": SECRET, "SESSION_COOKIE_ENCRYPT": encrypt,
                "SESSION_COOKIE_AGE": AGE, "SESSION_TOUCH_INTERVAL": 0, **overrides}
    return SessionMiddleware(LintMiddleware(behaviour_app), settings, clock=clock)


def browser(app: SessionMiddleware) -> TestApp:
    """A browser of ``app``: it keeps the cookies it is sent."""
    return TestApp(LintMiddleware(app))


def replay(app: SessionMiddleware, cookie: str, path: str = "/get") -> tuple[Any, str]:
    """Send ``cookie`` by hand; the app's answer, and the cookie the response set (else ``cookie``)."""
    response = TestApp(LintMiddleware(app)).get(path, extra_environ={"HTTP_COOKIE": f"sessionid={cookie}"})
    headers = session_cookies(response)
    return response.json, cookie_attributes(headers[0])[""].partition("=")[2] if headers else cookie


def test_a_copy_taken_before_logout_dies_cookie_age_after_login(encrypt: bool) -> None:
    clock = Clock()
    app = middleware(clock, encrypt)
    user = browser(app)
    user.get("/set?user=bob")
    copy = user.cookies["sessionid"]
    user.get("/flush")
    seen = {copy}
    for count in (1, 2, 3):  # replayed every 30 s, and re-signed each time (0.1.0 moved the expiry then)
        clock.now += 30
        answer, copy = replay(app, copy, "/inc")
        assert answer == {"user": "bob", "count": count}
        seen.add(copy)
    assert len(seen) == 4
    clock.now += 11  # 101 s after login, 11 s after the last re-signing
    assert replay(app, copy)[0] == {}


def test_the_cookie_max_age_never_reaches_past_the_signed_deadline(encrypt: bool) -> None:
    clock = Clock()
    client = browser(middleware(clock, encrypt))
    client.get("/inc")
    clock.now += 90
    [header] = session_cookies(client.get("/get"))
    assert cookie_attributes(header)["max-age"] == "10"


def test_cycle_key_keeps_the_deadline(encrypt: bool) -> None:
    clock = Clock()
    client = browser(middleware(clock, encrypt))
    client.get("/inc")
    clock.now += 90
    client.get("/cycle")  # a login late in the session does not buy a new lifetime
    clock.now += 11
    assert client.get("/get").json == {}


def old_cookie(encrypt: bool, created_at: float, expires_at: float) -> str:
    """A cookie such as 0.1.0 wrote: authentic, its idle expiry re-signed long after it began."""
    codec: CookieCodec = EncryptingCodec(SECRET, (), "sessionid") if encrypt else SigningCodec(SECRET)
    return codec.dumps({"k": _lifecycle.new_session_key(), "m": _lifecycle.encode_meta(None, created_at),
                        "e": expires_at, "d": {"user": '"bob"'}})


def test_a_cookie_signed_before_the_upgrade_dies_cookie_age_after_it_began(encrypt: bool) -> None:
    clock = Clock()
    app = middleware(clock, encrypt)
    young = old_cookie(encrypt, created_at=clock.now - AGE + 10, expires_at=clock.now + AGE)
    assert replay(app, young)[0] == {"user": "bob"}
    old = old_cookie(encrypt, created_at=clock.now - AGE - 1, expires_at=clock.now + AGE)
    assert replay(app, old)[0] == {}


def test_set_expiry_seconds_longer_than_the_cookie_age_bounds_the_session_by_as_much(encrypt: bool) -> None:
    clock = Clock()
    client = browser(middleware(clock, encrypt))
    client.get("/set?user=bob")
    client.get("/expiry?seconds=300")
    for _ in range(5):  # active every 50 s, past SESSION_COOKIE_AGE
        clock.now += 50
        assert client.get("/get").json == {"user": "bob"}
    clock.now += 49  # 299 s after it began
    assert client.get("/get").json == {"user": "bob"}
    clock.now += 2  # 301 s: idle for only 2 s, but 300 s after it began
    assert client.get("/get").json == {}


def test_a_set_expiry_deadline_is_kept_as_set(encrypt: bool) -> None:
    clock = Clock()
    client = browser(middleware(clock, encrypt))
    client.get("/set?user=bob")
    client.get("/deadline?seconds=500")
    clock.now += 450  # idle past SESSION_COOKIE_AGE, before the deadline the app chose
    assert client.get("/get").json == {"user": "bob"}
    clock.now += 51
    assert client.get("/get").json == {}


def test_an_explicit_absolute_age_replaces_the_cookie_age_bound(encrypt: bool) -> None:
    clock = Clock()
    client = browser(middleware(clock, encrypt, SESSION_ABSOLUTE_AGE=300))
    client.get("/set?user=bob")
    for _ in range(5):  # active every 50 s: past SESSION_COOKIE_AGE, within SESSION_ABSOLUTE_AGE
        clock.now += 50
        assert client.get("/get").json == {"user": "bob"}
    clock.now += 51
    assert client.get("/get").json == {}
