"""Several cookies of the session's name in one request (cookie tossing), on every engine.

Another site of the same registrable domain (or a man in the middle on plain HTTP) can set a
cookie of the session's name that the browser then sends beside the genuine one, often
first. The first value that verifies and loads wins; a response never deletes the cookie
when it cannot tell which of several values is ours.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from webtest import TestApp, TestResponse

from tests.middleware.conftest import MakeClient
from tests.middleware.test_behaviour import session_cookies
from wsgisession.cookies import MAX_SESSION_COOKIES

OTHER_SECRET = "another-secret-key-0123456789abcdef"


def get(client: TestApp, path: str, header: str) -> TestResponse:
    """``path`` with exactly ``header`` as the Cookie header (the client's cookie jar emptied first)."""
    client.reset()
    return client.get(path, extra_environ={"HTTP_COOKIE": header})


def cookie_of(client: TestApp, path: str) -> str:
    client.reset()
    value = client.get(path).headers["Set-Cookie"].split(";", 1)[0].split("=", 1)[1]
    return str(value)


@pytest.fixture
def tossed(make_client: MakeClient) -> tuple[TestApp, str, str]:
    """A client, alice's genuine cookie value, and a cookie a sibling site (another key) set."""
    client = make_client()
    genuine = cookie_of(client, "/set?who=alice")
    forged = cookie_of(make_client(SECRET_KEY=OTHER_SECRET), "/set?who=mallory")
    return client, genuine, forged


def is_deletion(header: str) -> bool:
    return header.startswith("sessionid=;") or header.startswith('sessionid="";')


def test_a_forged_cookie_sent_first_does_not_hide_the_genuine_one(tossed: tuple[TestApp, str, str]) -> None:
    client, genuine, forged = tossed
    for header in (f"sessionid={forged}; sessionid={genuine}", f"sessionid=garbage; sessionid={genuine}",
                   f"sessionid=; sessionid={forged}; sessionid={genuine}"):
        response = get(client, "/get", header)
        assert response.json == {"who": "alice"}
        assert session_cookies(response) == []  # a read: nothing set, nothing deleted


def test_the_genuine_cookie_first_wins_over_a_forged_one(tossed: tuple[TestApp, str, str]) -> None:
    client, genuine, forged = tossed
    response = get(client, "/get", f"sessionid={genuine}; sessionid={forged}")
    assert response.json == {"who": "alice"} and session_cookies(response) == []


def test_several_cookies_none_genuine_give_an_empty_session_and_no_deletion(
        tossed: tuple[TestApp, str, str]) -> None:
    client, _, forged = tossed
    response = get(client, "/get", f"sessionid={forged}; sessionid=garbage")
    assert response.json == {} and session_cookies(response) == []
    response = get(client, "/set?mine=1", f"sessionid={forged}; sessionid=garbage")
    [written] = session_cookies(response)  # a new session is written as usual
    assert not is_deletion(written)
    assert get(client, "/get", written.split(";", 1)[0]).json == {"mine": "1"}


def test_a_lone_bad_cookie_is_still_deleted(tossed: tuple[TestApp, str, str]) -> None:
    client, _, forged = tossed
    [deleting] = session_cookies(get(client, "/get", f"sessionid={forged}"))
    assert is_deletion(deleting)


def test_two_genuine_sessions_never_mix_the_first_wins(make_client: MakeClient) -> None:
    client = make_client()
    alice, bob = cookie_of(client, "/set?who=alice"), cookie_of(client, "/set?who=bob")
    assert get(client, "/get", f"sessionid={alice}; sessionid={bob}").json == {"who": "alice"}
    assert get(client, "/get", f"sessionid={bob}; sessionid={alice}").json == {"who": "bob"}


def test_only_the_first_few_values_are_tried(tossed: tuple[TestApp, str, str]) -> None:
    client, genuine, forged = tossed
    header = "; ".join([f"sessionid={forged}"] * MAX_SESSION_COOKIES + [f"sessionid={genuine}"])
    response = get(client, "/get", header)
    assert response.json == {} and session_cookies(response) == []


def test_flush_beside_a_forged_cookie_deletes_the_genuine_one(tossed: tuple[TestApp, str, str],
                                                               engine_settings: dict[str, Any]) -> None:
    """A logout must not leave the genuine cookie behind (with signed_cookies it still holds the data)."""
    client, genuine, forged = tossed
    response = get(client, "/flush", f"sessionid={forged}; sessionid={genuine}")
    assert [is_deletion(header) for header in session_cookies(response)] == [True]
    if engine_settings["SESSION_ENGINE"] != "signed_cookies":  # its copies live until their expiry
        assert get(client, "/get", f"sessionid={genuine}").json == {}


def test_several_cookies_are_logged_once_on_the_security_logger_without_values(
        tossed: tuple[TestApp, str, str], caplog: pytest.LogCaptureFixture) -> None:
    client, genuine, forged = tossed
    with caplog.at_level(logging.INFO, logger="wsgisession"):
        get(client, "/get", f"sessionid={forged}; sessionid={genuine}")
    records = [record for record in caplog.records if "cookies named" in record.getMessage()]
    assert [record.name for record in records] == ["wsgisession.security"]
    assert "2 cookies" in records[0].getMessage()
    for record in caplog.records:
        assert genuine not in record.getMessage() and forged not in record.getMessage()
    assert client.app.app.event_counts().several_cookies == 1
