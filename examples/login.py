"""Register, log in and log out: the tutorial's login example as a plain WSGI app.

Run it from the repository root, with a key (or ``WSGISESSION_DEMO=1`` for a throwaway one)::

    export WSGISESSION_SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
    gunicorn examples.login:app

and open http://127.0.0.1:8000/. Sessions go where ``examples/settings.py`` says (a
SQLite file in the working directory by default); users go to the SQLite file
``WSGISESSION_USERS_DB`` names (``examples-users.sqlite3`` in the working directory).

Pages: ``/`` greets the logged-in user and links every other page; ``/register`` and ``/login`` show their form
(GET) and handle it (POST); ``/logout`` (POST, or GET as in the tutorial) ends the
session. Forms carry an anti-forgery token kept in the session, which is also why a
visitor has a session before logging in, and why login must give it a new key.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from typing import TYPE_CHECKING, Any

from markupsafe import Markup
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from examples.settings import example_settings
from wsgisession import Session, SessionMiddleware, get_session

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

DEFAULT_USERS_DB = "examples-users.sqlite3"


class Users:
    """Usernames and password hashes in a SQLite file; one connection per call."""

    def __init__(self, path: str) -> None:
        self.path = path

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=10)) as db, db:  # commits, or rolls back on error
            db.execute("CREATE TABLE IF NOT EXISTS users (username TEXT PRIMARY KEY, password_hash TEXT NOT NULL)")
            yield db

    def add(self, username: str, password: str) -> bool:
        """Create a user; False if the name is taken. Only a salted hash of the password is kept."""
        try:
            with self._connect() as db:
                db.execute("INSERT INTO users VALUES (?, ?)", (username, generate_password_hash(password)))
        except sqlite3.IntegrityError:
            return False
        return True

    def check(self, username: str, password: str) -> bool:
        """True if ``username`` exists and ``password`` is theirs."""
        with self._connect() as db:
            row = db.execute("SELECT password_hash FROM users WHERE username = ?", (username,)).fetchone()
        return row is not None and check_password_hash(row[0], password)


# --- pages ------------------------------------------------------------------------------

def page(title: str, body: Markup, status: int = 200) -> Response:
    """An HTML page; ``Markup.format`` escapes every value it is given."""
    html = Markup('<!doctype html><html><head><meta charset="utf-8"><title>{0}</title></head>'
                  "<body><h1>{0}</h1>{1}</body></html>").format(title, body)
    return Response(html, status=status, mimetype="text/html")


def form_page(title: str, session: Session, error: str = "", status: int = 200) -> Response:
    """The register or login form (they differ only by title), with an anti-forgery token."""
    body = Markup(
        '<p class="error">{error}</p><form method="post">'
        '<input type="hidden" name="csrf_token" value="{token}">'
        '<p><label>Username <input name="username" required></label></p>'
        '<p><label>Password <input name="password" type="password" required></label></p>'
        '<p><button>{title}</button></p></form><p><a href="/">Home</a></p>'
    ).format(error=error, token=csrf_token(session), title=title)
    return page(title, body, status)


def csrf_token(session: Session) -> str:
    """The session's anti-forgery token, made on first use."""
    if "csrf_token" not in session:
        session["csrf_token"] = secrets.token_urlsafe(32)
    return str(session["csrf_token"])


def csrf_ok(request: Request, session: Session) -> bool:
    """True if the posted form carries this session's token."""
    expected = session.get("csrf_token")
    sent = request.form.get("csrf_token", "")
    return expected is not None and secrets.compare_digest(expected.encode(), sent.encode())


# --- views ------------------------------------------------------------------------------

View = Callable[[Request, Session, Users], Response]


def index(request: Request, session: Session, users: Users) -> Response:
    """Greet the logged-in user, or offer to log in."""
    username = session.get("username")
    if username is None:
        return page("Home", Markup('<p><a href="/login">Log in</a> or <a href="/register">register</a>.</p>'))
    return page("Home", Markup('<p>Hello, {}</p><form method="post" action="/logout"><button>Log out</button>'
                               "</form>").format(username))


def register_form(request: Request, session: Session, users: Users) -> Response:
    return form_page("Register", session)


def register(request: Request, session: Session, users: Users) -> Response:
    """Create the user, then send them to the login form."""
    username, password = request.form.get("username", "").strip(), request.form.get("password", "")
    if not csrf_ok(request, session):
        return form_page("Register", session, "The form expired: please try again.", 400)
    if not username or not password:
        return form_page("Register", session, "Choose a username and a password.", 400)
    if not users.add(username, password):
        return form_page("Register", session, "That username is taken.", 400)
    return redirect("/login", 303)


def login_form(request: Request, session: Session, users: Users) -> Response:
    return form_page("Log in", session)


def login(request: Request, session: Session, users: Users) -> Response:
    """Check the password, then remember the user in the session."""
    username, password = request.form.get("username", "").strip(), request.form.get("password", "")
    if not csrf_ok(request, session):
        return form_page("Log in", session, "The form expired: please try again.", 400)
    if not users.check(username, password):
        return form_page("Log in", session, "Wrong username or password.", 400)
    session.cycle_key()  # a key someone planted before login must not become a logged-in key
    session["username"] = username
    return redirect("/", 303)


def logout(request: Request, session: Session, users: Users) -> Response:
    """Delete the session from the store and its cookie from the browser."""
    session.flush()
    return redirect("/", 303)


ROUTES: dict[str, dict[str, View]] = {
    "/": {"GET": index},
    "/register": {"GET": register_form, "POST": register},
    "/login": {"GET": login_form, "POST": login},
    "/logout": {"GET": logout, "POST": logout},
}


def dispatch(request: Request, users: Users) -> Response:
    """Find the view for the path and method; 404 or 405 otherwise."""
    views = ROUTES.get(request.path)
    if views is None:
        raise NotFound()
    view = views.get("GET" if request.method == "HEAD" else request.method)
    if view is None:
        raise MethodNotAllowed(valid_methods=[*views, "HEAD"] if "GET" in views else list(views))
    return view(request, get_session(request.environ), users)


def make_app(settings: Mapping[str, Any], users_db: str | None = None) -> WSGIApplication:
    """The login app inside SessionMiddleware; users in ``users_db`` (default: $WSGISESSION_USERS_DB)."""
    users = Users(users_db or os.environ.get("WSGISESSION_USERS_DB", DEFAULT_USERS_DB))

    @Request.application  # an HTTPException raised inside becomes the response
    def login_app(request: Request) -> Response:
        return dispatch(request, users)

    return SessionMiddleware(login_app, settings)


app = make_app(example_settings())
