"""A WSGI app that starts its response before it uses the session, as Flask, Bottle, Falcon and Pyramid do.

Under gunicorn: ``tests.live.stream_app:make_app()``, settings from the WSGISESSION_* variables.

- ``/inc``: ``session["count"] += 1``, answered with a list
- ``/stream-write?v=VALUE``: starts the response, then sets ``session["streamed"] = VALUE``
  while the body is sent (the session is not touched before)
- ``/download?path=PATH``: counts ``session["downloads"]``, starts the response, records
  ``session["last"] = "download"``, and returns ``wsgi.file_wrapper(open(PATH))``
- ``/get``: the whole session as JSON
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl

from examples.settings import example_settings
from wsgisession import SessionMiddleware, get_session
from wsgisession.session import Session

#: Bytes read per block by the file wrapper (Django's FileResponse uses 4 KB blocks too).
BLOCK_SIZE = 4096


class StreamedBody:
    """A response iterable (not a list, not a generator) that writes the session while it is sent."""

    def __init__(self, session: Session, value: str) -> None:
        self._session, self._value = session, value

    def __iter__(self) -> Iterator[bytes]:
        yield b"streaming\n"
        self._session["streamed"] = self._value
        yield b"done\n"


def _app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    session = get_session(environ)
    query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
    path = environ["PATH_INFO"]
    if path == "/stream-write":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Vary", "Cookie")])
        return StreamedBody(session, query["v"])
    if path == "/download":
        session["downloads"] = session.get("downloads", 0) + 1
        size = os.path.getsize(query["path"])
        start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))])
        session["last"] = "download"  # after the commit point: saved before the file is handed over
        return environ["wsgi.file_wrapper"](open(query["path"], "rb"), BLOCK_SIZE)
    if path == "/inc":
        session["count"] = session.get("count", 0) + 1
    body = json.dumps(dict(session)).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def make_app(settings: dict[str, Any] | None = None) -> SessionMiddleware:
    """The app in its middleware; gunicorn: ``tests.live.stream_app:make_app()`` (settings from the environment)."""
    return SessionMiddleware(_app, example_settings() if settings is None else settings)
