"""The suite's app in Pyramid, with wsgisession.pyramid (see the package docstring for its routes)."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.response import FileResponse, Response

import wsgisession.pyramid
from tests.frameworks.apps.common import payload_path, stream, wrap

Request = Any


def state(request: Request) -> dict[str, Any]:
    return dict(request.session)


def login(request: Request) -> Response:
    request.session.cycle_key()
    request.session["user"] = request.POST["username"]
    return Response("logged in")


def count(request: Request) -> Response:
    request.session["count"] = request.session.get("count", 0) + 1
    return Response(str(request.session["count"]))


def streamed(request: Request) -> Response:
    request.session["stream"] = "started"
    return Response(app_iter=stream(request.session), content_type="application/octet-stream")


def streamed_late(request: Request) -> Response:
    return Response(app_iter=stream(request.session, "late"), content_type="application/octet-stream")


def file(request: Request) -> Response:
    request.session["files"] = request.session.get("files", 0) + 1
    return FileResponse(payload_path(), request=request, content_type="application/octet-stream")


def boom(request: Request) -> Response:
    request.session["boom"] = True
    raise RuntimeError("the view failed")


def logout(request: Request) -> Response:
    request.session.invalidate()
    return Response("logged out")


def make_app() -> Any:
    with Configurator(settings={"wsgisession.secret_key": "unused: the suite wraps the app itself"}) as config:
        config.set_session_factory(wsgisession.pyramid.session_factory)
        for name, view, method, renderer in [("state", state, ("GET", "HEAD"), "json"),
                                             ("login", login, "POST", None), ("count", count, "GET", None),
                                             ("stream", streamed, "GET", None),
                                             ("stream-late", streamed_late, "GET", None), ("file", file, "GET", None),
                                             ("boom", boom, "GET", None), ("logout", logout, "POST", None)]:
            config.add_route(name, f"/{name}")
            config.add_view(view, route_name=name, request_method=method, renderer=renderer)
        return config.make_wsgi_app()


app = wrap(make_app())
