"""The Flask app the Flask tests drive, in process and under gunicorn, wired either way.

``wiring="extension"``: ``wsgisession.flask.Session(app)``, views use ``flask.session``.
``wiring="middleware"``: ``app.wsgi_app = SessionMiddleware(app.wsgi_app, ...)``, views use
``get_session(request.environ)``. ``wiring="outside"``: no session wiring, the views use
``get_session``; the caller wraps the whole app (``app = SessionMiddleware(app, ...)``).
werkzeug's LintMiddleware checks both sides of the
middleware: what Flask hands it and what it hands the server.

The first five routes are Flask-Session's test app (tests/conftest.py, ``create_app``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, request, session, stream_with_context
from flask.testing import FlaskClient
from werkzeug.middleware.lint import LintMiddleware

from wsgisession import Session as WSGISession
from wsgisession import SessionMiddleware, get_session
from wsgisession.errors import StoreError
from wsgisession.flask import Session, store_unavailable

WIRINGS = ["extension", "middleware"]


class ClosingClient(FlaskClient):
    """Flask's test client, closing each response's iterable as a WSGI server does (``buffered=True``).

    Changes made while a body streams are saved at that close.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


def create_app(settings: dict[str, Any] | None, wiring: str = "extension", *, lint: bool = True) -> Flask:
    """A Flask app with the session routes below, its sessions kept as ``settings`` say."""
    app = Flask(__name__)
    app.test_client_class = ClosingClient
    if lint:
        app.wsgi_app = LintMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    if wiring == "extension":
        app.config.update(settings or {})
        Session(app)
    elif wiring == "middleware":
        app.secret_key = "flask-own-cookie-key-unused-0123456789"
        app.wsgi_app = SessionMiddleware(app.wsgi_app, settings)  # type: ignore[method-assign]
        app.register_error_handler(StoreError, store_unavailable)  # Session(app) does this itself
    if lint:
        app.wsgi_app = LintMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    _add_routes(app, wiring)
    return app


def _add_routes(app: Flask, wiring: str) -> None:
    def current() -> WSGISession:
        return session if wiring == "extension" else get_session(request.environ)  # type: ignore[return-value]

    @app.get("/")
    def hello() -> str:
        return "hello world"

    @app.post("/set")
    def set_value() -> str:
        current()["value"] = request.form["value"]
        return "value set"

    @app.post("/modify")
    def modify() -> str:
        current()["value"] = request.form["value"]
        return "value set"

    @app.post("/delete")
    def delete() -> str:
        del current()["value"]
        return "value deleted"

    @app.get("/get")
    def get() -> str:
        return str(current().get("value", "no value set"))

    @app.post("/login")
    def login() -> dict[str, Any]:
        current().cycle_key()  # against session fixation
        current()["user"] = request.form["user"]
        return {"user": current()["user"]}

    @app.get("/whoami")
    def whoami() -> dict[str, Any]:
        return {"user": current().get("user")}

    @app.get("/inc")
    def inc() -> dict[str, Any]:
        current()["count"] = current().get("count", 0) + 1
        return {"count": current()["count"]}

    @app.get("/stream")
    def stream() -> Response:
        # The view uses the session before it returns (as a login check would): the middleware
        # then saves, when the body is closed, what the body changed.
        current().get("user")

        @stream_with_context
        def body() -> Iterator[str]:
            yield f"count={current().get('count', 0)}\n"
            current()["streamed"] = True  # saved when the body is closed (the browser has the cookie)
            yield "done\n"

        return Response(body(), mimetype="text/plain")

    @app.get("/stream-only")
    def stream_only() -> Response:
        @stream_with_context
        def body() -> Iterator[str]:  # the view never touched the session: only its body does
            current()["streamed_only"] = current().get("count", 0)
            yield "done\n"

        return Response(body(), mimetype="text/plain")

    @app.get("/boom")
    def boom() -> str:
        current()["boom"] = True
        raise RuntimeError("the app failed")

    @app.post("/logout")
    def logout() -> str:
        current().flush()
        return "bye"

    @app.get("/mark/<name>")
    def mark(name: str) -> str:
        current()[name] = True  # each request its own key: overlapping requests must all land
        return "marked"

    @app.get("/data")
    def data() -> dict[str, Any]:
        return dict(current())
