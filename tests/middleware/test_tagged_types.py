"""Every tagged type survives a trip through the real middleware, on every engine."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from webtest import TestApp
from werkzeug.middleware.lint import LintMiddleware

from tests.unit.test_serializers import TAGGED_VALUES, same
from wsgisession import SessionMiddleware, get_session

GROWN = "grown in place"
NESTED = {"when": [TAGGED_VALUES["datetime_utc"]], "ids": (TAGGED_VALUES["uuid"],), "raw": {" t": ["escaped"]}}


def tagged_app(expected: dict[str, Any]) -> Callable[..., Iterable[bytes]]:
    """``/store`` saves ``expected``; ``/grow`` changes a set in place; ``/check`` lists keys that differ."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        session = get_session(environ)
        if environ["PATH_INFO"] == "/store":
            session.update(expected)
            result: Any = "stored"
        elif environ["PATH_INFO"] == "/grow":
            session["set"].add(GROWN)
            result = "grown"
        else:
            result = sorted(key for key in {*expected, *session} if not same(session.get(key), expected.get(key)))
        body = json.dumps(result).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return app


def make_client(settings: dict[str, Any], expected: dict[str, Any]) -> TestApp:
    return TestApp(LintMiddleware(SessionMiddleware(LintMiddleware(tagged_app(expected)), settings)))


def test_every_tagged_type_round_trips_through_the_middleware(engine_settings: dict[str, Any]) -> None:
    client = make_client(engine_settings, {**TAGGED_VALUES, "nested": NESTED})
    assert "Set-Cookie" in client.get("/store").headers
    response = client.get("/check")
    assert response.json == []
    assert "Set-Cookie" not in response.headers  # read back unchanged: the same text, nothing to save


def test_a_set_changed_in_place_is_saved_and_stays_a_set(engine_settings: dict[str, Any]) -> None:
    expected = dict(TAGGED_VALUES)
    client = make_client(engine_settings, expected)
    client.get("/store")
    client.get("/grow")
    expected["set"] = TAGGED_VALUES["set"] | {GROWN}
    assert client.get("/check").json == []
