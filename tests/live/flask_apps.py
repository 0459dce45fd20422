"""The Flask test app (tests/flask/apps.py) for gunicorn and ``flask run``, its settings from the environment.

- ``extension``: ``wsgisession.flask.Session(app)``
- ``middleware``: ``app.wsgi_app = SessionMiddleware(app.wsgi_app, ...)``

Lint findings are errors in the worker (except two that lint cannot know are fine, below),
so they show as failed requests and tracebacks in the server's log.
"""

from __future__ import annotations

import warnings

from werkzeug.middleware.lint import HTTPWarning, WSGIWarning

from examples.settings import example_settings
from tests.flask.apps import create_app

warnings.simplefilter("error", WSGIWarning)
warnings.simplefilter("error", HTTPWarning)
warnings.filterwarnings("ignore", "Content-Length and the number of bytes", WSGIWarning)
# gunicorn sets wsgi.input_terminated, so Flask reads a form to the end: safe there, unknown to lint.
warnings.filterwarnings("ignore", "WSGI does not guarantee an EOF marker", WSGIWarning)

extension = create_app(example_settings(), "extension")
middleware = create_app(example_settings(), "middleware")
