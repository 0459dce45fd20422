"""Count visits, in a plain cookie and in the session: the tutorial's add-one example.

Run it from the repository root, with a key (or ``WSGISESSION_DEMO=1`` for a throwaway one)::

    export WSGISESSION_SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
    gunicorn examples.counter:app

then call it a few times, keeping the cookies::

    curl -c jar -b jar http://127.0.0.1:8000/session

``/`` is an HTML page with the two counts and a link to each endpoint; it changes nothing.
Every other endpoint answers JSON:

- ``/cookie``: ``{"res": n}``. The count lives in the cookie ``res``: the browser
  holds the value and can change it (never keep anything that matters there).
- ``/session``: ``{"count": n}``. The count lives in the session store; the browser
  holds only the session key.
- ``/session/reset``: ``{"count": 0}``. Flushes the session (store entry and cookie).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from markupsafe import Markup
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Request, Response

from examples.settings import example_settings
from wsgisession import SessionMiddleware, get_session

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


def index(request: Request) -> Response:
    """The two counts as they stand, and a link to each route; reads the session, saves nothing."""
    html = Markup('<!doctype html><html><head><meta charset="utf-8"><title>Counter</title></head><body>'
                  "<h1>Counter</h1><p>cookie: {} &middot; session: {}</p><ul>"
                  '<li><a href="/cookie">/cookie</a>: add one to the count in a plain cookie</li>'
                  '<li><a href="/session">/session</a>: add one to the count in the session</li>'
                  '<li><a href="/session/reset">/session/reset</a>: forget the session</li>'
                  "</ul></body></html>").format(request.cookies.get("res", "0"),
                                                 get_session(request.environ).get("count", 0))
    return Response(html, mimetype="text/html")


def json_response(data: dict[str, Any]) -> Response:
    return Response(json.dumps(data), mimetype="application/json")


def cookie_counter(request: Request) -> Response:
    """Add one to the count in the plain cookie ``res``, as the tutorial does."""
    try:
        count = int(request.cookies.get("res", "0")) + 1
    except ValueError:  # the browser sent something else: the cookie is its to change
        count = 1
    response = json_response({"res": count})
    response.set_cookie("res", str(count), max_age=timedelta(days=14), samesite="Lax")
    return response


def session_counter(request: Request) -> Response:
    """Add one to ``session["count"]``."""
    session = get_session(request.environ)
    session["count"] = session.get("count", 0) + 1
    return json_response({"count": session["count"]})


def session_reset(request: Request) -> Response:
    """Forget the session: the store entry and the browser's cookie."""
    get_session(request.environ).flush()
    return json_response({"count": 0})


ROUTES: dict[str, Callable[[Request], Response]] = {
    "/": index,
    "/cookie": cookie_counter,
    "/session": session_counter,
    "/session/reset": session_reset,
}


def make_app(settings: Mapping[str, Any], **options: Any) -> WSGIApplication:
    """The counter app inside SessionMiddleware (``options``: its keyword arguments, e.g. ``hooks``)."""

    @Request.application  # an HTTPException raised inside becomes the response
    def counter_app(request: Request) -> Response:
        view = ROUTES.get(request.path)
        if view is None:
            raise NotFound()
        return view(request)

    return SessionMiddleware(counter_app, settings, **options)


app = make_app(example_settings())
