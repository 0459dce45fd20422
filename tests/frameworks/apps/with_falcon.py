"""The suite's app in Falcon (WSGI), see the package docstring for its routes."""

from __future__ import annotations

import falcon

from tests.frameworks.apps.common import payload_path, stream, wrap
from wsgisession import get_session


class State:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = dict(get_session(req.env))

    on_head = on_get  # Falcon sends the headers only


class Login:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        session = get_session(req.env)
        session.cycle_key()
        session["user"] = req.get_media()["username"]
        resp.text = "logged in"


class Count:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        session = get_session(req.env)
        session["count"] = session.get("count", 0) + 1
        resp.text = str(session["count"])


class Stream:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        session = get_session(req.env)
        session["stream"] = "started"
        resp.content_type = "application/octet-stream"
        resp.stream = stream(session)


class StreamLate:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = "application/octet-stream"
        resp.stream = stream(get_session(req.env), "late")


class File:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        session = get_session(req.env)
        session["files"] = session.get("files", 0) + 1
        resp.content_type = "application/octet-stream"
        resp.stream = open(payload_path(), "rb")  # noqa: SIM115  # Falcon hands it to wsgi.file_wrapper


class Boom:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        get_session(req.env)["boom"] = True
        raise RuntimeError("the responder failed")


class Logout:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        get_session(req.env).flush()
        resp.text = "logged out"


falcon_app = falcon.App()
for path, resource in [("/state", State()), ("/login", Login()), ("/count", Count()), ("/stream", Stream()),
                       ("/stream-late", StreamLate()),
                       ("/file", File()), ("/boom", Boom()), ("/logout", Logout())]:
    falcon_app.add_route(path, resource)

app = wrap(falcon_app)
