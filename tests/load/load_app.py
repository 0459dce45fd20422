"""The app the load and fault tests drive; its settings come as JSON in WSGISESSION_TEST_SETTINGS.

It is the counter of ``examples/counter.py`` (``/session``) with an owner mark, so that a
response can tell a foreign session (another client's data) from a lost or doubled update:

- ``/hit?client=ID``: ``session["owner"]`` is set to ID if the session has none, then
  ``session["count"]`` goes up by one; answers ``{"owner": ..., "count": ...}``
- ``/peek``: the same answer, changing nothing (a read only)
- any other path: 404 without touching the session (what the start-up probe gets)
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from wsgisession import SessionMiddleware, get_session

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


def _load_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    if path not in ("/hit", "/peek"):
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "0")])
        return [b""]
    session = get_session(environ)
    if path == "/hit":
        client = dict(parse_qsl(environ.get("QUERY_STRING", ""))).get("client", "")
        session.setdefault("owner", client)
        session["count"] = session.get("count", 0) + 1
    body = json.dumps({"owner": session.get("owner"), "count": session.get("count", 0)}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


app = SessionMiddleware(_load_app, json.loads(os.environ.get("WSGISESSION_TEST_SETTINGS", "{}")))
