"""The suite's app in Flask, wired both ways (see the package docstring for its routes).

- ``extension``: ``wsgisession.flask.Session(app)``, the views use ``flask.session`` (cookie ``session``,
  Flask's name).
- ``middleware``: ``app.wsgi_app = SessionMiddleware(app.wsgi_app, ...)`` with ``store_unavailable``
  registered, the views use ``get_session(request.environ)`` (cookie ``sessionid``).

Flask answers an exception with its own 500, as Bottle and Falcon do.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request, send_file, stream_with_context
from flask import session as flask_session
from werkzeug.middleware.lint import LintMiddleware, WSGIWarning

from examples.settings import example_settings
from tests.frameworks.apps.common import payload_path, stream, unless_head
from wsgisession import SessionMiddleware, get_session
from wsgisession.errors import StoreError
from wsgisession.flask import Session as FlaskExtension
from wsgisession.flask import store_unavailable

# Servers that set wsgi.input_terminated (gunicorn, waitress) let werkzeug read a form to the end of the
# input, which is safe there; LintMiddleware cannot know that.
warnings.filterwarnings("ignore", "WSGI does not guarantee an EOF marker", WSGIWarning)


def create_app(wiring: str, lint: bool = True) -> Flask:
    """The Flask app with the suite's routes, its session wired as ``wiring`` says, linted on both sides."""
    app = Flask(__name__)
    if lint:
        app.wsgi_app = unless_head(LintMiddleware(app.wsgi_app), app.wsgi_app)  # type: ignore[method-assign,assignment]
    if wiring == "extension":
        app.config.update(example_settings())
        FlaskExtension(app)
    else:
        app.wsgi_app = SessionMiddleware(app.wsgi_app, example_settings())  # type: ignore[method-assign]
        app.register_error_handler(StoreError, store_unavailable)  # Session(app) does this itself
    if lint:
        app.wsgi_app = unless_head(LintMiddleware(app.wsgi_app), app.wsgi_app)  # type: ignore[method-assign,assignment]
    add_routes(app, (lambda: flask_session) if wiring == "extension" else (lambda: get_session(request.environ)))
    return app


def add_routes(app: Flask, current: Callable[[], Any]) -> None:
    """The routes, ``current()`` being the request's session (``flask.session`` or ``get_session``)."""

    @app.get("/state")  # Flask answers HEAD with the GET route, without the body
    def state() -> dict[str, Any]:
        return dict(current())

    @app.post("/login")
    def login() -> str:
        current().cycle_key()
        current()["user"] = request.form["username"]
        return "logged in"

    @app.get("/count")
    def count() -> str:
        current()["count"] = current().get("count", 0) + 1
        return str(current()["count"])

    @app.get("/stream")
    def streamed() -> Response:
        current()["stream"] = "started"
        return Response(stream_with_context(stream(current())), mimetype="application/octet-stream")

    @app.get("/stream-late")
    def streamed_late() -> Response:
        # stream_with_context: flask.session is the request's session while the body is sent, too
        return Response(stream_with_context(stream(current(), "late")), mimetype="application/octet-stream")

    @app.get("/file")
    def file() -> Response:
        current()["files"] = current().get("files", 0) + 1
        return send_file(payload_path(), mimetype="application/octet-stream")  # through wsgi.file_wrapper

    @app.get("/boom")
    def boom() -> str:
        current()["boom"] = True
        raise RuntimeError("the view failed")

    @app.post("/logout")
    def logout() -> str:
        current().flush()
        return "logged out"


extension = create_app("extension")
middleware = create_app("middleware")
