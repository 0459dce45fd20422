"""The suite's app in Django, as a plain WSGI app (see the package docstring for its routes).

A project configured in code, without ``django.contrib.sessions`` (nor auth, nor any middleware):
``get_wsgi_application()`` wrapped in SessionMiddleware, the views reading
``get_session(request.environ)``. This module is its own ``ROOT_URLCONF``. With ``DEBUG = False``
Django answers an exception with its own 500, as Bottle and Falcon do.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["127.0.0.1", "localhost", "[::1]"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[],
        MIDDLEWARE=[],
        SECRET_KEY="unused: wsgisession signs its own cookie",
        USE_TZ=True,
    )

from django.core.wsgi import get_wsgi_application
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.http import require_GET, require_POST, require_safe

from tests.frameworks.apps.common import payload_path, stream, wrap
from wsgisession import Session, get_session


def session_of(request: HttpRequest) -> Session:
    return get_session(request.environ)  # type: ignore[attr-defined]  # WSGIRequest's environ: the WSGI environ


@require_safe  # GET and HEAD
def state(request: HttpRequest) -> HttpResponse:
    response = JsonResponse(dict(session_of(request)))
    if request.method == "HEAD":
        # Django leaves dropping the body to the server, which waitress 3.0 and uWSGI do not do (and without a
        # Content-Length waitress sends an empty chunked body): the GET's length, no body (RFC 9110, 9.3.2)
        response["Content-Length"] = str(len(response.content))
        response.content = b""
    return response


@require_POST
def login(request: HttpRequest) -> HttpResponse:
    session_of(request).cycle_key()
    session_of(request)["user"] = request.POST["username"]
    return HttpResponse("logged in", content_type="text/plain")


@require_GET
def count(request: HttpRequest) -> HttpResponse:
    session = session_of(request)
    session["count"] = session.get("count", 0) + 1
    return HttpResponse(str(session["count"]), content_type="text/plain")


@require_GET
def streamed(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    session_of(request)["stream"] = "started"
    return StreamingHttpResponse(stream(session_of(request)), content_type="application/octet-stream")


@require_GET
def streamed_late(request: HttpRequest) -> StreamingHttpResponse:
    return StreamingHttpResponse(stream(session_of(request), "late"), content_type="application/octet-stream")


@require_GET
def file(request: HttpRequest) -> FileResponse:
    session = session_of(request)
    session["files"] = session.get("files", 0) + 1
    # Django hands the open file to wsgi.file_wrapper (WSGIHandler), as the other apps do
    return FileResponse(open(payload_path(), "rb"), content_type="application/octet-stream")


@require_GET
def boom(request: HttpRequest) -> HttpResponse:
    session_of(request)["boom"] = True
    raise RuntimeError("the view failed")


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    session_of(request).flush()
    return HttpResponse("logged out", content_type="text/plain")


urlpatterns: list[Any] = [
    path("state", state), path("login", login), path("count", count), path("stream", streamed),
    path("stream-late", streamed_late), path("file", file), path("boom", boom), path("logout", logout),
]

django_app = get_wsgi_application()
app = wrap(django_app)
