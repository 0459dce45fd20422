"""SESSION_LOCKING in the middleware: clear timeouts, and a lock never outlives its request."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

import pytest
from webtest import TestApp

from tests.conftest import SECRET, STORE_IDS
from wsgisession import ConfigurationError, SessionMiddleware, _lifecycle, get_session


def locking_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    session = get_session(environ)
    session["count"] = session.get("count", 0) + 1
    if environ["PATH_INFO"] == "/slow":
        time.sleep(1.0)
    if environ["PATH_INFO"] == "/boom":
        raise RuntimeError("the application failed")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(session["count"]).encode()]


@pytest.fixture(params=STORE_IDS)
def client(request: pytest.FixtureRequest, engine_settings_factory: Any) -> TestApp:
    settings = {**engine_settings_factory(request.param), "SESSION_LOCKING": True, "SESSION_LOCK_TIMEOUT": 0.4}
    return TestApp(SessionMiddleware(locking_app, settings))


def cookie_of(client: TestApp) -> dict[str, str]:
    return {"HTTP_COOKIE": f"sessionid={client.cookies['sessionid']}"}


def test_a_request_that_cannot_get_the_lock_in_time_fails_clearly(client: TestApp) -> None:
    client.get("/")
    store = client.app.backend.store
    key, _ = client.app.backend.signer.unsign(client.cookies["sessionid"])
    assert key is not None
    record_id = _lifecycle.record_id(key)
    token = store.acquire(record_id, 5, 1)  # held by a worker configured with a longer timeout
    try:
        TestApp(client.app).get("/", extra_environ=cookie_of(client), status=503)
        assert client.app.event_counts().store_failures == 1
    finally:
        store.release(record_id, token)
    assert TestApp(client.app).get("/", extra_environ=cookie_of(client)).text == "2"


def test_a_request_that_outlives_its_lock_saves_nothing(client: TestApp) -> None:
    client.get("/")
    environ = cookie_of(client)
    outcome: list[int] = []

    def slow_request() -> None:
        outcome.append(TestApp(client.app).get("/slow", extra_environ=environ, expect_errors=True).status_int)

    slow = threading.Thread(target=slow_request)
    slow.start()
    time.sleep(0.1)
    assert TestApp(client.app).get("/", extra_environ=environ).text == "2"  # got the lock when the lease ended
    slow.join()
    assert outcome == [503]  # the slow request's save was refused, not written over the newer one
    assert TestApp(client.app).get("/", extra_environ=environ).text == "3"


def test_the_lock_is_released_when_the_application_raises(client: TestApp) -> None:
    client.get("/")
    environ = cookie_of(client)
    with pytest.raises(RuntimeError, match="the application failed"):
        TestApp(client.app).get("/boom", extra_environ=environ)
    started = time.monotonic()
    assert TestApp(client.app).get("/", extra_environ=environ).text == "2"
    assert time.monotonic() - started < 0.3  # no waiting for a lease to run out


def test_sequential_requests_take_and_release_the_lock(client: TestApp) -> None:
    for expected in range(1, 6):
        assert client.get("/").text == str(expected)


def test_signed_cookies_refuse_locking() -> None:
    with pytest.raises(ConfigurationError, match="SESSION_LOCKING"):
        SessionMiddleware(locking_app, {"SESSION_ENGINE": "signed_cookies", "SECRET_KEY": SECRET,
                                        "SESSION_LOCKING": True})
