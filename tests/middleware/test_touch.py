"""SESSION_TOUCH_INTERVAL: reads renew the idle expiry at most once per interval, without a save."""

from __future__ import annotations

import time

from tests.middleware.conftest import MakeClient
from tests.middleware.test_behaviour import cookie_attributes, session_cookies

AGE = 600


def test_a_read_renews_the_expiry_once_per_interval(make_client: MakeClient) -> None:
    now = [time.time()]
    # An explicit absolute age: without one, a signed cookie's session ends AGE after it began.
    client = make_client(clock=lambda: now[0], SESSION_COOKIE_AGE=AGE, SESSION_TOUCH_INTERVAL=60,
                         SESSION_ABSOLUTE_AGE=2 * AGE)
    client.get("/inc")
    now[0] += 30
    assert session_cookies(client.get("/get")) == []  # within the interval: nothing renewed
    now[0] += 40
    [header] = session_cookies(client.get("/get"))  # 70 s after the save: renewed
    assert cookie_attributes(header)["max-age"] == str(AGE)
    assert session_cookies(client.get("/get")) == []
    now[0] += AGE - 10  # past the first expiry, within the renewed one
    assert client.get("/get").json == {"count": 1}


def test_without_reads_the_session_dies_at_its_idle_expiry(make_client: MakeClient) -> None:
    now = [time.time()]
    client = make_client(clock=lambda: now[0], SESSION_COOKIE_AGE=AGE)
    client.get("/inc")
    now[0] += AGE + 1
    assert client.get("/get").json == {}


def test_interval_zero_renews_on_every_read(make_client: MakeClient) -> None:
    now = [time.time()]
    client = make_client(clock=lambda: now[0], SESSION_COOKIE_AGE=AGE, SESSION_TOUCH_INTERVAL=0)
    client.get("/inc")
    for _ in range(3):
        now[0] += 1
        assert len(session_cookies(client.get("/get"))) == 1


def test_a_fixed_deadline_is_never_extended(make_client: MakeClient) -> None:
    now = [time.time()]
    client = make_client(clock=lambda: now[0], SESSION_TOUCH_INTERVAL=0)
    client.get("/inc")
    client.get(f"/deadline?seconds={AGE}")
    now[0] += AGE - 10
    assert session_cookies(client.get("/get")) == []  # nothing to renew
    now[0] += 11
    assert client.get("/get").json == {}


def test_unread_requests_do_not_touch(make_client: MakeClient) -> None:
    now = [time.time()]
    client = make_client(clock=lambda: now[0], SESSION_TOUCH_INTERVAL=0)
    client.get("/inc")
    now[0] += 120
    assert session_cookies(client.get("/untouched")) == []
