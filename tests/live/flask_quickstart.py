"""The README's Quick start applied to a Flask app: ``app = SessionMiddleware(flask_app, ...)``.

Right under gunicorn (it serves ``app``), wrong under ``flask run``: that looks for a Flask
object, finds ``flask_app`` and serves it without the middleware, so every view that uses
the session answers 500. Wire Flask with ``wsgisession.flask.Session(app)`` instead.
"""

from __future__ import annotations

from examples.settings import example_settings
from tests.flask.apps import create_app
from wsgisession import SessionMiddleware

flask_app = create_app(None, "outside")
app = SessionMiddleware(flask_app, example_settings())
