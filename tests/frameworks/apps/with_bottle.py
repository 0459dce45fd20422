"""The suite's app in Bottle (see the package docstring for its routes)."""

from __future__ import annotations

import os
from typing import Any

import bottle

from tests.frameworks.apps.common import payload_path, stream, wrap
from wsgisession import Session, get_session

bottle_app = bottle.Bottle()


def session() -> Session:
    return get_session(bottle.request.environ)


@bottle_app.get("/state")  # Bottle answers HEAD with the GET route, without the body
def state() -> dict[str, Any]:
    return dict(session())


@bottle_app.post("/login")
def login() -> str:
    session().cycle_key()
    session()["user"] = bottle.request.forms.username
    return "logged in"


@bottle_app.get("/count")
def count() -> str:
    session()["count"] = session().get("count", 0) + 1
    return str(session()["count"])


@bottle_app.get("/stream")
def streamed() -> Any:
    session()["stream"] = "started"
    bottle.response.content_type = "application/octet-stream"
    return stream(session())


@bottle_app.get("/stream-late")
def streamed_late() -> Any:
    bottle.response.content_type = "application/octet-stream"
    return stream(session(), "late")


@bottle_app.get("/file")
def file() -> Any:
    session()["files"] = session().get("files", 0) + 1
    folder, name = os.path.split(payload_path())
    # etag=False: Bottle 0.13's own ETag is unquoted, which HTTP forbids (RFC 9110, 8.8.3) and Lint reports.
    return bottle.static_file(name, root=folder, mimetype="application/octet-stream", etag=False)


@bottle_app.get("/boom")
def boom() -> str:
    session()["boom"] = True
    raise RuntimeError("the route failed")


@bottle_app.post("/logout")
def logout() -> str:
    session().flush()
    return "logged out"


app = wrap(bottle_app)
