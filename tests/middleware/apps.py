"""A small WSGI app that does to its session whatever the URL says, for the behaviour tests."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from wsgisession import get_session
from wsgisession.session import Session

_REASONS = {"200": "OK", "500": "Internal Server Error", "503": "Service Unavailable"}


def _act(session: Session, path: str, query: dict[str, str]) -> Any:
    if path == "/set":
        for key, value in query.items():
            session[key] = value
    elif path == "/inc":
        session["count"] = session.get("count", 0) + 1
    elif path == "/del":
        del session[query["k"]]
    elif path == "/append":
        session.setdefault("list", [])
        session["list"].append(query["v"])
    elif path == "/clear":
        session.clear()
    elif path == "/flush":
        session.flush()
    elif path == "/cycle":
        session.cycle_key()
    elif path == "/expiry":
        session.set_expiry(int(query["seconds"]))
    elif path == "/deadline":
        session.set_expiry(timedelta(seconds=int(query["seconds"])))
    elif path == "/login":
        session.cycle_key()
        session.set_user(query["user"])
    elif path == "/logout-elsewhere":
        return session.delete_user_sessions()
    elif path == "/key":
        return session.session_key
    elif path == "/untouched":
        return None
    elif path == "/unserializable":
        session["bad"] = object()
        return sorted(session)
    return dict(session)


class _Body:
    """A response iterable that records whether the server closed it (PEP 3333)."""

    closed: ClassVar[list[bool]] = []

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._chunks)

    def close(self) -> None:
        _Body.closed.append(True)


def behaviour_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """``/<action>?...``; ``status=`` picks the status; ``/stream`` writes while the body is sent.

    ``/stream-first`` starts its response, then first uses the session while the body is sent
    (as Flask, Bottle, Falcon and Pyramid do with a streamed body).
    """
    session = get_session(environ)
    query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
    status = query.pop("status", "200")
    if environ["PATH_INFO"] == "/stream":
        return _stream(session, start_response, status)
    if environ["PATH_INFO"] == "/stream-first":
        return _stream_first(session, start_response, status, query.get("vary"))
    result = _act(session, environ["PATH_INFO"], query)
    body = json.dumps(result).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    if "vary" in query:
        headers.append(("Vary", query["vary"]))
    start_response(f"{status} {_REASONS.get(status, 'Status')}", headers)
    return _Body([body])


def _stream(session: Session, start_response: Any, status: str) -> Iterator[bytes]:
    start_response(f"{status} {_REASONS[status]}", [("Content-Type", "text/plain")])
    yield b"first chunk\n"
    session["streamed"] = True
    yield b"second chunk\n"


class _Streamed:
    """A body that is neither a list nor a generator: runs ``action`` when the server iterates it."""

    def __init__(self, action: Any) -> None:
        self._action = action

    def __iter__(self) -> Iterator[bytes]:
        yield b"first chunk\n"
        self._action()
        yield b"second chunk\n"


def _stream_first(session: Session, start_response: Any, status: str, vary: str | None) -> Iterable[bytes]:
    headers = [("Content-Type", "text/plain"), *([("Vary", vary)] if vary else [])]
    start_response(f"{status} {_REASONS[status]}", headers)

    def write() -> None:
        session["streamed"] = True

    return _Streamed(write)
