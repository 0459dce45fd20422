"""A WSGI app for the race tests; its settings come as JSON in WSGISESSION_TEST_SETTINGS.

- ``/set?k=NAME``: sets ``session[NAME] = True`` (each request its own key)
- ``/inc``: reads ``count``, waits a moment so that requests overlap, writes ``count + 1``
- ``/slow-set?k=NAME&loaded=PATH&go=PATH``: loads the session, creates the file ``loaded``,
  waits until the file ``go`` exists (at most 20 s), then sets ``NAME``
- ``/flush``: logs out
- ``/get``: the whole session as JSON
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from wsgisession import SessionMiddleware, get_session


def _race_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    session = get_session(environ)
    query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
    path = environ["PATH_INFO"]
    if path == "/set":
        session[query["k"]] = True
    elif path == "/inc":
        count = session.get("count", 0)
        time.sleep(0.005)
        session["count"] = count + 1
    elif path == "/slow-set":
        session.get("anything")
        Path(query["loaded"]).touch()
        go, deadline = Path(query["go"]), time.monotonic() + 20
        while not go.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        session[query["k"]] = True
    elif path == "/flush":
        session.flush()
    body = json.dumps(dict(session)).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


app = SessionMiddleware(_race_app, json.loads(os.environ.get("WSGISESSION_TEST_SETTINGS", "{}")))
