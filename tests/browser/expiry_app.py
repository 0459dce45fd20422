"""A tiny login app for the browser tests: "Remember me" unticked means ``set_expiry(0)``.

The login example has no "remember me" choice, so the tests run this app to get a
browser-session cookie (no Expires, no Max-Age) next to a normal, persistent one.

- ``GET /``: "Hello, NAME" and how long the session lasts, or the login form;
- ``POST /login``: ``cycle_key()``, remembers the username and, unless "Remember me" is
  ticked, calls ``session.set_expiry(0)``: the session ends when the browser closes.

Settings come from the same environment variables as the examples (``examples/settings.py``).
"""

from __future__ import annotations

from markupsafe import Markup
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from examples.settings import example_settings
from wsgisession import SessionMiddleware, get_session

LOGIN_FORM = Markup(
    '<form method="post" action="/login">'
    '<p><label>Username <input name="username" required></label></p>'
    '<p><label><input type="checkbox" name="remember" value="1"> Remember me</label></p>'
    "<p><button>Log in</button></p></form>"
)


def page(body: Markup) -> Response:
    html = Markup('<!doctype html><html><head><meta charset="utf-8"><title>Expiry</title></head>'
                  "<body><h1>Expiry</h1>{}</body></html>").format(body)
    return Response(html, mimetype="text/html")


@Request.application
def expiry_app(request: Request) -> Response:
    session = get_session(request.environ)
    if request.path == "/" and request.method in ("GET", "HEAD"):
        username = session.get("username")
        if username is None:
            return page(LOGIN_FORM)
        lasts = "until the browser closes" if session.get_expire_at_browser_close() else "two weeks"
        return page(Markup("<p>Hello, {}</p><p>This session lasts {}.</p>").format(username, lasts))
    if request.path == "/login":
        if request.method != "POST":
            raise MethodNotAllowed(valid_methods=["POST"])
        session.cycle_key()
        session["username"] = request.form.get("username", "").strip() or "anonymous"
        if not request.form.get("remember"):
            session.set_expiry(0)  # a browser-session cookie
        return redirect("/", 303)
    raise NotFound()


app = SessionMiddleware(expiry_app, example_settings())
