"""What the middleware does to each request (SPEC: "What the middleware does"), on every engine."""

from __future__ import annotations

import time

import pytest
from webtest import TestApp

from tests.middleware.apps import _Body
from tests.middleware.conftest import MakeClient
from wsgisession import MiddlewareMissingError, SessionDataError, get_session

pytestmark = pytest.mark.filterwarnings("error::werkzeug.middleware.lint.WSGIWarning")


def cookie_attributes(header: str) -> dict[str, str]:
    name_value, *attributes = header.split("; ")
    parsed = {"": name_value}
    for attribute in attributes:
        name, _, value = attribute.partition("=")
        parsed[name.lower()] = value
    return parsed


def session_cookies(response: object) -> list[str]:
    return [h for h in response.headers.getall("Set-Cookie") if h.startswith("sessionid=")]  # type: ignore[attr-defined]


def test_untouched_session_sends_no_cookie_and_no_vary(client: TestApp) -> None:
    client.get("/inc")
    response = client.get("/untouched")
    assert session_cookies(response) == [] and "Vary" not in response.headers


def test_first_write_sets_a_complete_cookie(client: TestApp) -> None:
    response = client.get("/inc")
    assert response.json == {"count": 1}
    [header] = session_cookies(response)
    attributes = cookie_attributes(header)
    assert attributes["max-age"] == "1209600" and "expires" in attributes
    assert attributes["path"] == "/" and "httponly" in attributes and attributes["samesite"] == "Lax"
    assert "secure" not in attributes and "domain" not in attributes
    assert response.headers["Vary"] == "Cookie"


def test_counter_is_exact_and_read_only_requests_do_not_set_cookies(client: TestApp) -> None:
    for expected in range(1, 6):
        assert client.get("/inc").json == {"count": expected}
    response = client.get("/get")
    assert response.json == {"count": 5}
    assert session_cookies(response) == [] and response.headers["Vary"] == "Cookie"


def test_two_clients_never_see_each_other(make_client: MakeClient) -> None:
    first, second = make_client(), make_client()
    first.get("/set?who=first")
    second.get("/set?who=second")
    for _ in range(3):
        first.get("/inc")
    assert first.get("/get").json == {"who": "first", "count": 3}
    assert second.get("/get").json == {"who": "second"}


def test_existing_vary_is_extended_not_duplicated(client: TestApp) -> None:
    response = client.get("/inc?vary=Accept-Encoding")
    assert response.headers.getall("Vary") == ["Accept-Encoding", "Cookie"]
    response = client.get("/inc?vary=Accept, Cookie")
    assert response.headers.getall("Vary") == ["Accept, Cookie"]


def test_flush_deletes_the_cookie_and_the_data(client: TestApp, engine_id: str) -> None:
    client.get("/set?user=bob")
    old_cookie = client.cookies["sessionid"]
    response = client.get("/flush")
    [header] = session_cookies(response)
    attributes = cookie_attributes(header)
    assert attributes[""] == "sessionid=" and attributes["max-age"] == "0"
    assert client.get("/get").json == {}
    if engine_id != "signed_cookies":  # a signed cookie cannot be revoked before its expiry (documented)
        assert client.get("/get", extra_environ={"HTTP_COOKIE": f"sessionid={old_cookie}"}).json == {}


def test_cycle_key_keeps_the_data_under_a_new_key(client: TestApp, engine_id: str) -> None:
    client.get("/set?user=bob")
    old_cookie = client.cookies["sessionid"]
    old_key = client.get("/key").json
    response = client.get("/cycle")
    assert response.json == {"user": "bob"}
    assert client.cookies["sessionid"] != old_cookie and client.get("/key").json != old_key
    assert client.get("/get").json == {"user": "bob"}
    if engine_id != "signed_cookies":
        assert client.get("/get", extra_environ={"HTTP_COOKIE": f"sessionid={old_cookie}"}).json == {}


def test_server_errors_save_nothing(client: TestApp) -> None:
    client.get("/inc")
    response = client.get("/inc?status=500", status=500)
    assert session_cookies(response) == []
    assert client.get("/get").json == {"count": 1}


def test_new_session_on_a_server_error_sets_no_cookie(client: TestApp) -> None:
    response = client.get("/inc?status=503", status=503)
    assert session_cookies(response) == [] and "sessionid" not in client.cookies


def test_clear_keeps_the_cookie_and_empties_the_data(client: TestApp) -> None:
    client.get("/set?a=1&b=2")
    response = client.get("/clear")
    assert response.json == {}
    assert client.get("/get").json == {}


def test_deleting_keys_and_changing_values_in_place(client: TestApp) -> None:
    client.get("/set?a=1&b=2")
    client.get("/del?k=a")
    client.get("/append?v=x")
    client.get("/append?v=y")
    assert client.get("/get").json == {"b": "2", "list": ["x", "y"]}


def test_set_expiry_on_an_empty_session_saves_nothing(client: TestApp) -> None:
    assert session_cookies(client.get("/expiry?seconds=300")) == []


def test_set_expiry_seconds_sets_max_age_and_is_remembered(client: TestApp) -> None:
    client.get("/inc")
    [header] = session_cookies(client.get("/expiry?seconds=300"))
    assert cookie_attributes(header)["max-age"] == "300"
    [header] = session_cookies(client.get("/inc"))
    assert cookie_attributes(header)["max-age"] == "300"


def test_expire_at_browser_close(make_client: MakeClient) -> None:
    client = make_client()
    client.get("/inc")
    [header] = session_cookies(client.get("/expiry?seconds=0"))
    attributes = cookie_attributes(header)
    assert "max-age" not in attributes and "expires" not in attributes
    client = make_client(SESSION_EXPIRE_AT_BROWSER_CLOSE=True)
    [header] = session_cookies(client.get("/inc"))
    assert "max-age" not in cookie_attributes(header)


def test_idle_expiry_is_enforced_on_the_server(make_client: MakeClient) -> None:
    now = [time.time()]
    client = make_client(clock=lambda: now[0])
    client.get("/inc")
    client.get("/expiry?seconds=60")
    now[0] += 59
    assert client.get("/get").json == {"count": 1}
    now[0] += 61
    response = client.get("/get")
    assert response.json == {}
    [header] = session_cookies(response)  # the dead session's cookie is deleted
    assert cookie_attributes(header)["max-age"] == "0"


def test_save_every_request_renews_the_cookie(make_client: MakeClient) -> None:
    client = make_client(SESSION_SAVE_EVERY_REQUEST=True)
    client.get("/inc")
    assert len(session_cookies(client.get("/get"))) == 1
    assert len(session_cookies(client.get("/untouched"))) == 1


def test_cookie_attributes_come_from_the_settings(make_client: MakeClient) -> None:
    client = make_client(SESSION_COOKIE_NAME="sid", SESSION_COOKIE_DOMAIN="example.com", SESSION_COOKIE_PATH="/app",
                         SESSION_COOKIE_SECURE=True, SESSION_COOKIE_HTTPONLY=False, SESSION_COOKIE_SAMESITE="Strict",
                         SESSION_COOKIE_AGE=600)
    [header] = client.get("/inc").headers.getall("Set-Cookie")
    attributes = cookie_attributes(header)
    assert attributes[""].startswith("sid=") and attributes["domain"] == "example.com"
    assert attributes["path"] == "/app" and "secure" in attributes and "httponly" not in attributes
    assert attributes["samesite"] == "Strict" and attributes["max-age"] == "600"


def test_unserializable_data_fails_clearly_and_keeps_the_stored_session(client: TestApp) -> None:
    client.get("/inc")
    with pytest.raises(SessionDataError, match="'bad'"):
        client.get("/unserializable")
    assert client.get("/get").json == {"count": 1}


def test_a_server_error_while_streaming_saves_nothing_at_close(client: TestApp) -> None:
    client.get("/inc")
    client.get("/inc?status=500", status=500)
    client.get("/stream?status=500", status=500)
    assert client.get("/get").json == {"count": 1}


def test_changes_made_while_the_body_is_sent_are_saved_at_close(client: TestApp, engine_id: str) -> None:
    client.get("/inc")
    client.get("/stream")
    expected = {"count": 1} if engine_id == "signed_cookies" else {"count": 1, "streamed": True}
    assert client.get("/get").json == expected  # a cookie cannot change once the body started


def test_the_app_iterable_is_closed(client: TestApp) -> None:
    _Body.closed.clear()
    client.get("/inc")
    client.get("/untouched")
    assert _Body.closed == [True, True]


def test_get_session_without_the_middleware_is_a_clear_error() -> None:
    with pytest.raises(MiddlewareMissingError, match="SessionMiddleware"):
        get_session({})


def test_session_key_is_none_until_saved(client: TestApp) -> None:
    assert client.get("/key").json is None
    client.get("/inc")
    key = client.get("/key").json
    assert isinstance(key, str) and len(key) == 43
