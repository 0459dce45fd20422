"""Pyramid with wsgisession: ``request.session``, flash messages and CSRF-checked forms.

Run it from the repository root, with a key (or ``WSGISESSION_DEMO=1`` for a throwaway one)::

    export WSGISESSION_SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
    gunicorn examples.pyramid_app:app

and open http://127.0.0.1:8000/. Sessions go where ``examples/settings.py`` says (a SQLite
file in the working directory by default). In a project of your own, ``main`` is the
PasteDeploy entry point and the settings come from its ``.ini`` file as ``wsgisession.*``
keys (``wsgisession.secret_key = ...``, ``wsgisession.engine = redis``, ...).

Pages: ``/`` shows the count, your name and the flash messages, and links every other page;
``/count`` adds one to the count; ``/name`` asks for your name (GET) and keeps it (POST) under a
new session key, as a login would; ``/forget`` (POST) invalidates the session. Every POST is
checked against the session's CSRF token (``config.set_default_csrf_options(require_csrf=True)``).
"""

from __future__ import annotations

import sys
from typing import Any

from markupsafe import Markup
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config

import wsgisession.pyramid
from examples.settings import example_settings
from wsgisession import SessionMiddleware

Request = Any

#: Every page, for the home page's links.
ROUTES = ("/", "/count", "/name", "/forget")


def page(title: str, body: Markup) -> Response:
    """An HTML page; ``Markup.format`` escapes every value it is given."""
    html = Markup('<!doctype html><html><head><meta charset="utf-8"><title>{0}</title></head>'
                  "<body><h1>{0}</h1>{1}</body></html>").format(title, body)
    return Response(html)


@view_config(route_name="home", request_method="GET")
def home(request: Request) -> Response:
    session = request.session
    messages = Markup("").join(Markup("<li>{}</li>").format(message) for message in session.pop_flash())
    return page("Pyramid and wsgisession", Markup(
        '<ul class="flash">{messages}</ul><p>Hello, {name}. Count: {count}.</p><ul>'
        '<li><a href="/count">/count</a>: add one to the count</li>'
        '<li><a href="/name">/name</a>: tell us your name</li></ul>'
        '<form method="post" action="/forget"><input type="hidden" name="csrf_token" value="{token}">'
        "<button>Forget me</button></form>"
    ).format(messages=messages, name=session.get("name", "stranger"), count=session.get("count", 0),
             token=session.get_csrf_token()))


@view_config(route_name="count", request_method="GET")
def count(request: Request) -> HTTPSeeOther:
    request.session["count"] = request.session.get("count", 0) + 1
    request.session.flash(f"Counted to {request.session['count']}.")
    return HTTPSeeOther("/")


@view_config(route_name="name", request_method="GET")
def name_form(request: Request) -> Response:
    return page("Your name", Markup(
        '<form method="post"><input type="hidden" name="csrf_token" value="{}">'
        '<p><label>Name <input name="name" required></label></p><p><button>Save</button></p></form>'
        '<p><a href="/">Home</a></p>').format(request.session.get_csrf_token()))


@view_config(route_name="name", request_method="POST")  # the CSRF check ran before this view
def name(request: Request) -> HTTPSeeOther:
    request.session.cycle_key()  # a change of who this is: a new key, as at login
    request.session["name"] = request.POST.get("name", "").strip() or "stranger"
    request.session.flash("Saved your name.")
    return HTTPSeeOther("/")


@view_config(route_name="forget", request_method="POST")
def forget(request: Request) -> HTTPSeeOther:
    request.session.invalidate()  # the store entry now, the cookie with this response
    return HTTPSeeOther("/")


def main(global_config: dict[str, Any], **settings: Any) -> SessionMiddleware:
    """The PasteDeploy entry point: the Pyramid app inside SessionMiddleware."""
    with Configurator(settings=settings) as config:
        config.include("wsgisession.pyramid")
        config.set_default_csrf_options(require_csrf=True)
        for route in ROUTES:
            config.add_route(route.strip("/") or "home", route)
        config.scan(sys.modules[__name__])  # this module, while it is still being imported
    return wsgisession.pyramid.make_wsgi_app(config)


app = main({}, **example_settings())
