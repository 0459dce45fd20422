"""The suite's app as a bare WSGI function (see the package docstring for its routes)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from tests.frameworks.apps.common import BLOCK_SIZE, payload_path, stream, wrap
from wsgisession import get_session

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


def answer(start_response: StartResponse, body: bytes, content_type: str = "text/plain") -> list[bytes]:
    start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def form(environ: WSGIEnvironment) -> dict[str, list[str]]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return parse_qs(environ["wsgi.input"].read(length).decode())


def bare_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    session = get_session(environ)
    route = (environ["REQUEST_METHOD"], environ["PATH_INFO"])
    if route in (("GET", "/state"), ("HEAD", "/state")):
        body = answer(start_response, json.dumps(dict(session)).encode(), "application/json")
        return [] if route[0] == "HEAD" else body
    if route == ("POST", "/login"):
        session.cycle_key()
        session["user"] = form(environ)["username"][0]
        return answer(start_response, b"logged in")
    if route == ("GET", "/count"):
        session["count"] = session.get("count", 0) + 1
        return answer(start_response, str(session["count"]).encode())
    if route == ("GET", "/stream"):
        session["stream"] = "started"
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return stream(session)
    if route == ("GET", "/stream-late"):
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return stream(session, "late")
    if route == ("GET", "/file"):
        session["files"] = session.get("files", 0) + 1
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        file: Any = open(payload_path(), "rb")  # noqa: SIM115  # the server closes it through the wrapper
        return environ["wsgi.file_wrapper"](file, BLOCK_SIZE)  # type: ignore[no-any-return]
    if route == ("GET", "/boom"):
        session["boom"] = True
        raise RuntimeError("the app failed")
    if route == ("POST", "/logout"):
        session.flush()
        return answer(start_response, b"logged out")
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"not found"]


app = wrap(bare_app)
