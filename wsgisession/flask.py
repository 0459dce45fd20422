"""Flask extension: ``flask.session`` kept by wsgisession.

Use it instead of wrapping a Flask app by hand::

    from flask import Flask, session
    from wsgisession.flask import Session

    app = Flask(__name__)
    app.config.update(SECRET_KEY="...", SESSION_ENGINE="redis", SESSION_REDIS_URL="redis://127.0.0.1:6379/0")
    Session(app)                # or Session().init_app(app) in an application factory

``Session(app)`` reads the settings from ``app.config`` (see ``wsgisession._flask_config``),
wraps ``app.wsgi_app`` in :class:`~wsgisession.SessionMiddleware` (so ``flask run``,
gunicorn and Flask's test client all go through it) and installs a session interface
whose ``flask.session`` *is* the request's wsgisession session. The middleware keeps its
commit point, cookies, ``Vary``, lazy load and store-failure policy; Flask's
``save_session`` does nothing. Importing :mod:`wsgisession` does not import this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, Request, Response, request
from flask import session as _flask_session
from flask.sessions import SessionInterface, SessionMixin

from . import _commit
from ._flask_config import settings_from_config
from .errors import StoreError
from .middleware import ENVIRON_KEY, SessionMiddleware, failure_response
from .session import Session as BaseSession

if TYPE_CHECKING:
    from datetime import datetime

__all__ = ["FlaskSession", "Session", "WSGISessionInterface", "session", "store_unavailable"]

#: Where init_app keeps the app's middleware: ``app.extensions["wsgisession"].event_counts()``.
EXTENSION_KEY = "wsgisession"


class FlaskSession(BaseSession, SessionMixin):
    """The wsgisession :class:`~wsgisession.Session`, with Flask's ``SessionMixin`` members.

    ``permanent``: False means the cookie ends when the browser closes (``set_expiry(0)``),
    True the configured age (``SESSION_COOKIE_AGE``, from ``PERMANENT_SESSION_LIFETIME``).
    ``new``: the request brought no stored session. ``modified`` and ``accessed`` are the
    session's own flags; values changed in place are saved without setting ``modified``.
    ``clear()`` ends the session as ``flush()`` does (Flask's meaning; Django's keeps the key).
    """

    #: True for a session opened outside the middleware (``session_transaction``): Flask's
    #: ``save_session`` saves it then.
    _detached = False

    @property
    def permanent(self) -> bool:
        """False: the cookie ends with the browser session; True: it lives ``SESSION_COOKIE_AGE``."""
        return not self.get_expire_at_browser_close()

    @permanent.setter
    def permanent(self, value: bool) -> None:
        if bool(value) == self.permanent:
            return  # no save for ``session.permanent = True`` on every request
        if not value:
            self.set_expiry(0)
        elif self._ctx.settings.expire_at_browser_close:
            self.set_expiry(self._ctx.settings.cookie_age)
        else:
            self.set_expiry(None)

    def clear(self) -> None:
        """Flask's ``session.clear()``: the session ends, as with :meth:`flush` (store entry and cookie).

        Flask's cookie sessions and Flask-Session delete the cookie of a cleared session,
        and Flask's tutorial logs in with ``session.clear()`` then new values: here those
        values get a new key (no session fixation).
        """
        self.flush()

    @property
    def new(self) -> bool:  # type: ignore[override]  # a property where SessionMixin has a constant
        """True when the browser brought no stored session (or it was flushed)."""
        self._load()
        return self._key is None or (self._key_is_new and self._retired_key is None)


#: ``flask.session`` itself (the same proxy), typed as :class:`FlaskSession` so that mypy knows
#: ``cycle_key()``, ``flush()``, ``set_expiry()``: ``from wsgisession.flask import session``.
session: FlaskSession = _flask_session  # type: ignore[assignment]


class _FlaskSessionMiddleware(SessionMiddleware):
    session_class = FlaskSession


class WSGISessionInterface(SessionInterface):
    """Hands Flask the session :class:`~wsgisession.SessionMiddleware` opened for the request.

    Saving is the middleware's job (at ``start_response``), so :meth:`save_session`
    only saves a session opened outside it (``FlaskClient.session_transaction``).
    """

    def __init__(self, middleware: SessionMiddleware) -> None:
        self.middleware = middleware

    def open_session(self, app: Flask, request: Request) -> FlaskSession:
        session = request.environ.get(ENVIRON_KEY)
        if isinstance(session, FlaskSession):
            return session
        # Not through the middleware: a test_request_context or session_transaction.
        session = FlaskSession(self.middleware._context, request.environ.get("HTTP_COOKIE"))
        session._detached = True
        request.environ[ENVIRON_KEY] = session
        return session

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, FlaskSession) or not session._detached or not session.accessed:
            return
        for name, value in _commit.commit(session, response.status_code):
            if name == "Vary":
                response.vary.add(value)
            else:
                response.headers.add(name, value)

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        """Whether the session will be saved (the middleware then sends its cookie)."""
        return isinstance(session, FlaskSession) and _commit.wants_to_save(session)

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> datetime | None:
        if not isinstance(session, FlaskSession) or not session.permanent:
            return None
        return session.get_expiry_date()


class Session:
    """The Flask extension: ``Session(app)``, or ``Session()`` then ``init_app(app)`` per app.

    :raises ConfigurationError: when ``app.config`` holds invalid or Flask-Session settings
        (every problem listed, with the wsgisession key to use instead).
    """

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Read the settings from ``app.config``; wrap ``app.wsgi_app``; install the session interface.

        The middleware is then ``app.extensions["wsgisession"]`` (``event_counts()``,
        ``delete_user_sessions()``). A ``StoreError`` raised in a view answers the
        middleware's 503, logged once by wsgisession, without Flask's traceback.
        """
        if EXTENSION_KEY in app.extensions or isinstance(app.wsgi_app, SessionMiddleware):
            raise RuntimeError("wsgisession is already installed on this app: call Session(app) once and do not"
                               " also wrap app.wsgi_app in SessionMiddleware")
        middleware = _FlaskSessionMiddleware(app.wsgi_app, settings_from_config(app.config, app.default_config))
        app.wsgi_app = middleware  # type: ignore[method-assign]
        app.session_interface = WSGISessionInterface(middleware)
        app.register_error_handler(StoreError, store_unavailable)
        app.extensions[EXTENSION_KEY] = middleware


def store_unavailable(error: StoreError) -> Response:
    """Flask error handler for StoreError: the middleware's 503 (500 if misconfigured), without Flask's traceback.

    ``Session(app)`` registers it. With ``app.wsgi_app = SessionMiddleware(...)`` wiring,
    register it yourself: ``app.register_error_handler(StoreError, store_unavailable)``
    (Flask otherwise turns the error into a 500 and logs a traceback per request). The
    failure itself was logged (rate-limited) by wsgisession where it happened.
    """
    current = request.environ.get(ENVIRON_KEY)
    if isinstance(current, BaseSession):  # save nothing, keep the browser's cookie, no second try of the store
        if current._data is None:
            current._start_empty(current._ctx.clock())
        current._degraded = True
    status, headers, body = failure_response(error)
    return Response(body, status, headers)
