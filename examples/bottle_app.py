"""Bottle with wsgisession: a counter, a name kept in the session, and a CSRF-checked form.

Run it from the repository root, with a key (or ``WSGISESSION_DEMO=1`` for a throwaway one)::

    export WSGISESSION_SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
    gunicorn examples.bottle_app:app

and open http://127.0.0.1:8000/. Sessions go where ``examples/settings.py`` says (a SQLite
file in the working directory by default).

Pages: ``/`` shows the count and your name and links every other page; ``/count`` adds one to
the count and answers JSON; ``/name`` asks for your name (GET) and keeps it (POST) under a new
session key, as a login would; ``/forget`` (POST) deletes the session. The forms carry an
anti-forgery token kept in the session.
"""

from __future__ import annotations

import secrets
from typing import Any

import bottle

from examples.settings import example_settings
from wsgisession import Session, SessionMiddleware, get_session

#: Every page, for the home page's links.
ROUTES = ("/", "/count", "/name", "/forget")

# SimpleTemplate escapes {{...}} values.
HOME = """<!doctype html><html><head><meta charset="utf-8"><title>Bottle and wsgisession</title></head><body>
<h1>Bottle and wsgisession</h1><p>Hello, {{name}}. Count: {{count}}.</p><ul>
<li><a href="/count">/count</a>: add one to the count (JSON)</li>
<li><a href="/name">/name</a>: tell us your name</li></ul>
<form method="post" action="/forget"><input type="hidden" name="csrf_token" value="{{token}}">
<button>Forget me</button></form></body></html>"""
NAME_FORM = """<!doctype html><html><head><meta charset="utf-8"><title>Your name</title></head><body>
<h1>Your name</h1><p class="error">{{error}}</p><form method="post">
<input type="hidden" name="csrf_token" value="{{token}}">
<p><label>Name <input name="name" required></label></p><p><button>Save</button></p></form>
<p><a href="/">Home</a></p></body></html>"""

app_routes = bottle.Bottle()


def session() -> Session:
    """This request's session (SessionMiddleware put it in the WSGI environ)."""
    return get_session(bottle.request.environ)


def csrf_token() -> str:
    """The session's anti-forgery token, made on first use."""
    if "csrf_token" not in session():
        session()["csrf_token"] = secrets.token_urlsafe(32)
    return str(session()["csrf_token"])


def csrf_ok() -> bool:
    """True if the posted form carries this session's token."""
    expected, sent = session().get("csrf_token"), bottle.request.forms.get("csrf_token", "")
    return expected is not None and secrets.compare_digest(expected.encode(), sent.encode())


@app_routes.get("/")
def home() -> str:
    return bottle.template(HOME, name=session().get("name", "stranger"), count=session().get("count", 0),
                           token=csrf_token())


@app_routes.get("/count")
def count() -> dict[str, Any]:
    session()["count"] = session().get("count", 0) + 1
    return {"count": session()["count"]}  # Bottle answers a dict as JSON


@app_routes.get("/name")
def name_form() -> str:
    return bottle.template(NAME_FORM, error="", token=csrf_token())


@app_routes.post("/name")
def name() -> str | None:
    if not csrf_ok():
        bottle.response.status = 400
        return bottle.template(NAME_FORM, error="The form expired: please try again.", token=csrf_token())
    session().cycle_key()  # a change of who this is: a new key, as at login
    session()["name"] = bottle.request.forms.getunicode("name", "").strip() or "stranger"
    bottle.redirect("/", 303)  # raises: Bottle answers 303 with the session saved
    return None


@app_routes.post("/forget")
def forget() -> None:
    if not csrf_ok():
        bottle.abort(400, "The form expired: please try again.")
    session().flush()  # the store entry now, the cookie with this response
    bottle.redirect("/", 303)


def make_app(settings: dict[str, Any]) -> SessionMiddleware:
    """The Bottle app inside SessionMiddleware."""
    return SessionMiddleware(app_routes, settings)


app = make_app(example_settings())
