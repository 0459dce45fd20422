"""Flask apps on every engine configuration (tests/conftest.py ``ENGINE_IDS``), through Flask's test client.

Each test module turns werkzeug's lint warnings into failures (``LINT_ERRORS``): the app
wraps both sides of the middleware in LintMiddleware.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import ENGINE_IDS
from tests.flask.apps import WIRINGS, create_app

#: The engine configurations the Flask suite runs on: every one of tests/conftest.py (Flask-Session's
#: suite ran on Redis, memcached, the file system and SQLAlchemy; ours runs on all of ours).
FLASK_ENGINES = ENGINE_IDS

MakeApp = Callable[..., Flask]

#: ``pytestmark`` of every Flask test module.
LINT_ERRORS = pytest.mark.filterwarnings("error::werkzeug.middleware.lint.WSGIWarning",
                                         "error::werkzeug.middleware.lint.HTTPWarning")


@pytest.fixture(params=FLASK_ENGINES)
def flask_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=WIRINGS)
def wiring(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_app(engine_settings_factory: Callable[[str], dict[str, Any]]) -> MakeApp:
    """``make_app(engine_id="file", wiring="extension", **settings)``: a fresh Flask app on that engine."""

    def make(engine_id: str = "file", wiring: str = "extension", **overrides: Any) -> Flask:
        return create_app({**engine_settings_factory(engine_id), **overrides}, wiring)

    return make


@pytest.fixture
def client(make_app: MakeApp) -> FlaskClient:
    """The extension-wired app on the file engine."""
    return make_app().test_client()
