"""The application after the switch: the same URLs as the Django project, on wsgisession.

Its settings dict is the JSON in ``MIGRATION_TEST_SETTINGS`` (``SESSION_MIGRATE_FROM`` among them).
Serve ``application`` with gunicorn.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from wsgisession import SessionMiddleware, get_session


def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    session = get_session(environ)
    if environ["PATH_INFO"] == "/logout":
        session.flush()
    body = json.dumps({"user": session.get("user"), "cart": session.get("cart")}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


application = SessionMiddleware(app, json.loads(os.environ["MIGRATION_TEST_SETTINGS"]))
