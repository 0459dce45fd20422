"""A WebTest client around the behaviour app, per engine, checked by werkzeug's LintMiddleware."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from webtest import TestApp
from werkzeug.middleware.lint import LintMiddleware

from tests.middleware.apps import behaviour_app
from wsgisession import SessionMiddleware

MakeClient = Callable[..., TestApp]


@pytest.fixture
def make_client(engine_settings: dict[str, Any]) -> MakeClient:
    """``make_client(**overrides, clock=None)``: a client of the behaviour app on the engine under test."""

    def make(clock: Callable[[], float] | None = None, **overrides: Any) -> TestApp:
        extra = {"clock": clock} if clock else {}
        middleware = SessionMiddleware(LintMiddleware(behaviour_app), {**engine_settings, **overrides}, **extra)
        return TestApp(LintMiddleware(middleware))

    return make


@pytest.fixture
def client(make_client: MakeClient) -> TestApp:
    return make_client()
