"""A Flask app whose ``flask.session`` is kept by wsgisession: a visit counter and a cart.

Needs Flask (``pip install 'wsgi-session[flask]'``). Run it from the repository root,
under gunicorn::

    gunicorn -w 3 examples.flask_app:app

or Flask's development server::

    flask --app examples.flask_app run

then call it, keeping the cookies::

    curl -c jar -b jar http://127.0.0.1:8000/            # (port 5000 under flask run)
    curl -c jar -b jar -X POST -d item=apple http://127.0.0.1:8000/cart

The settings come from the same environment variables as the other examples
(``examples/settings.py``: ``WSGISESSION_ENGINE``, ``WSGISESSION_REDIS_URL``, ...), put
into ``app.config`` where the extension reads them. Every endpoint answers JSON:

- ``GET /``: ``{"visits": n, "cart": [...], "new": bool}``; counts the visit.
- ``POST /cart`` with ``item``: adds it to the cart (a list changed in place: saved
  without ``session.modified = True``).
- ``POST /remember`` with ``remember=1`` or ``0``: ``session.permanent``. 0: the cookie
  ends when the browser closes; 1: it lives ``PERMANENT_SESSION_LIFETIME``.
- ``POST /reset``: forgets the session (the store entry and the cookie).

``Session(app)`` wraps ``app.wsgi_app``: keep ``app`` the Flask object (gunicorn and
``flask run`` both serve it). Do not write ``app = SessionMiddleware(app, ...)`` for a
Flask app: ``flask run`` would serve the unwrapped app.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from examples.settings import example_settings
from wsgisession.flask import Session, session  # flask.session, typed with wsgisession's methods


def create_app(settings: dict[str, Any] | None = None) -> Flask:
    """The app, its sessions configured by ``settings`` (the environment's by default)."""
    app = Flask(__name__)
    app.config.update(example_settings() if settings is None else settings)
    Session(app)

    @app.get("/")
    def home() -> dict[str, Any]:
        session["visits"] = session.get("visits", 0) + 1
        return {"visits": session["visits"], "cart": session.get("cart", []), "new": session.new}

    @app.post("/cart")
    def add_to_cart() -> dict[str, Any]:
        item = request.form.get("item", "").strip()[:100]
        if item:
            session.setdefault("cart", []).append(item)
        return {"cart": session.get("cart", [])}

    @app.post("/remember")
    def remember() -> dict[str, Any]:
        session.permanent = request.form.get("remember") == "1"
        return {"permanent": session.permanent}

    @app.post("/reset")
    def reset() -> dict[str, Any]:
        session.flush()
        return {"visits": 0}

    return app


app = create_app()
