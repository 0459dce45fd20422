"""SessionMiddleware: gives a WSGI application Django-style sessions.

Use it around any WSGI application (Flask, Bottle, Falcon, a bare function). Do not
put it around an application that already manages the same session cookie.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ._commit import commit, commit_late
from ._context import SessionContext
from ._deployment import SECURE_ON_HTTP, OnceWarning, ProcessCheck
from ._headers import add_session_headers
from ._observed import observe
from .checks import CheckResult, check_backend
from .engines import build_backend, build_serializer
from .errors import MiddlewareMissingError, StoreError, StoreMisconfigured
from .events import EventCounts, Events
from .hooks import Hooks
from .session import Session
from .settings import Settings

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from opentelemetry.metrics import MeterProvider

#: Where the session object sits in the WSGI environ.
ENVIRON_KEY = "wsgisession.session"

_UNAVAILABLE = b"Service Unavailable: the session store cannot be reached. Please try again shortly.\n"
_MISCONFIGURED = b"Internal Server Error: the session store is misconfigured (see the server's log).\n"


class SessionMiddleware:
    """Loads the session on first use, saves it when the application starts its response.

    The commit point is the application's call to ``start_response``: the session is
    saved then and ``Set-Cookie``/``Vary``/``Cache-Control`` are added. Changes made
    while the body is iterated are saved when the iterable is closed, for a session the
    browser already holds a cookie for (no new cookie can be sent then); the server's own
    ``wsgi.file_wrapper`` object is saved for at once and handed back as it is, so the server
    keeps its sendfile path. A store failure before the response started answers 503
    (``SESSION_STORE_FAILURE = "raise"``), or 500 for a :class:`~.errors.StoreMisconfigured`
    (a wrong password, no such table), which will not pass by itself. :meth:`check` connects
    and verifies the configuration.
    Thread-safe: each request gets its own :class:`~wsgisession.session.Session`.

    ``hooks`` (:class:`~.hooks.Hooks`): the application's functions called when a session is created,
    rotated, logged out, revoked or found expired. ``meter_provider``: where the OpenTelemetry
    metrics go (default: the global one, if an SDK configured it; see ``wsgisession.metrics``).

    :raises ConfigurationError: when ``settings`` are invalid (all problems listed).
    """

    #: The class of each request's session (the Flask extension uses a subclass).
    session_class: type[Session] = Session

    def __init__(self, app: WSGIApplication, settings: Mapping[str, Any] | None = None, *,
                 clock: Callable[[], float] = time.time, hooks: Hooks | None = None,
                 meter_provider: MeterProvider | None = None) -> None:
        self.app = app
        self.settings = Settings.from_mapping(settings)
        self.backend = build_backend(self.settings)
        self.events = Events()
        self._save_every_request = self.settings.save_every_request
        # With metrics or hooks: a back end that reports to them (docs/metrics.md); else self.backend itself.
        observed = observe(self.backend, self.settings.engine, self.events, hooks, meter_provider)
        self._context = SessionContext(self.settings, observed, build_serializer(self.settings), clock,
                                       self.events)
        #: SESSION_COOKIE_SECURE = "auto": the context for plain HTTP and the one for HTTPS.
        self._scheme_contexts = _scheme_contexts(self._context) if self.settings.cookie_secure == "auto" else None
        self._secure_on_http = OnceWarning(SECURE_ON_HTTP) if self.settings.cookie_secure is True else None
        self._process_check = ProcessCheck(self.settings)
        #: What some settings need to look at per request (None, the common case: nothing).
        self._per_request: Callable[[WSGIEnvironment], SessionContext] | None = None
        if self._scheme_contexts is not None or self._process_check.pending:
            self._per_request = self._context_for

    def _context_for(self, environ: WSGIEnvironment) -> SessionContext:
        """The context of this request: SESSION_COOKIE_SECURE = "auto", and the first request's process check."""
        if self._process_check.pending:
            self._process_check.check(environ)
            if self._scheme_contexts is None:
                self._per_request = None
        if self._scheme_contexts is None:
            return self._context
        return self._scheme_contexts[environ.get("wsgi.url_scheme") == "https"]

    def user_sessions(self, user_id: str | int) -> list[str]:
        """Opaque ids of the user's live sessions (see ``Session.set_user``).

        Raises UnsupportedOperation where the engine keeps no per-user index.
        """
        return self.backend.user_sessions(str(user_id))

    def delete_user_sessions(self, user_id: str | int, except_key: str | None = None) -> int:
        """End every session of the user but the one whose key is ``except_key``; return how many.

        For "log out everywhere" from outside a request (an admin tool, a password reset).
        """
        return self._context.backend.delete_user_sessions(str(user_id), except_key)

    def check(self) -> list[CheckResult]:
        """Connect to the store and verify what the settings need; one :class:`~.checks.CheckResult` per check.

        For a start-up or health check (``wsgisession check`` runs the same checks): the
        credentials, the table and its columns, write permission, the server's version.
        Never raises for a store failure: a failed result names the setting and the fix.
        """
        return [CheckResult("settings", True, "valid"), *check_backend(self.backend)]

    def event_counts(self) -> EventCounts:
        """How many bad signatures, undecodable sessions and store failures were seen so far."""
        return self.events.counts()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        session = self.session_class(self._context if self._per_request is None else self._per_request(environ),
                                     environ.get("HTTP_COOKIE"))
        environ[ENVIRON_KEY] = session
        extra: list[tuple[str, str]] | None = None
        status_line: str | None = None
        sent: list[tuple[str, str]] | None = None  # the headers the server got
        early = False  # the app touched the session before starting its response

        def session_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal extra, status_line, sent, early
            if extra is None:
                extra = []  # set first: a failing commit is not retried by a second call
                early = session.accessed
                if session.accessed or self._save_every_request:
                    extra = commit(session, int(status[:3]))
                    if self._secure_on_http is not None and self._secure_on_http.pending:
                        _check_scheme(self._secure_on_http, environ, extra)
            sent = add_session_headers(headers, extra) if extra else headers
            write = start_response(status, sent, exc_info)
            status_line = status
            return write

        try:
            result = self.app(environ, session_start_response)
        except StoreError as exc:
            session._release_lock()
            if status_line is not None:  # the server has the headers already: too late for a 503
                raise
            return _failed(start_response, exc)
        except BaseException:
            session._release_lock()
            raise
        if status_line is not None and type(result) is list:  # no application code runs after this
            if session.accessed and not early:  # first used after start_response: save now, as for a file
                commit_late(session, int(status_line[:3]), late_access=True, headers=sent)
            return result

        def finish() -> None:
            if session.accessed:  # else the app never used it: nothing changed, no lock held
                status = None if status_line is None else int(status_line[:3])
                commit_late(session, status, late_access=not early and sent is not None, headers=sent)

        if status_line is not None and _is_server_file(result, environ):
            return _finished_file(result, finish)
        return _ClosingBody(result, finish)


def _finished_file(result: Iterable[bytes], finish: Callable[[], None]) -> Iterable[bytes]:
    """Run ``finish`` now and give the server its own file object back, so it keeps sendfile.

    A file runs no application code while it is sent: nothing can change the session later.
    """
    try:
        finish()
    except BaseException:
        close = getattr(result, "close", None)
        if close is not None:
            close()
        raise
    return result


#: A plain file: uWSGI's ``wsgi.file_wrapper`` returns the file it is given, and sends that object by sendfile.
_RAW_FILES = (io.BufferedReader, io.FileIO)


def _is_server_file(result: Iterable[bytes], environ: WSGIEnvironment) -> bool:
    """True if ``result`` is what the server's ``wsgi.file_wrapper`` made (a class on most servers), or a file."""
    if type(result) in _RAW_FILES:
        return True
    wrapper = environ.get("wsgi.file_wrapper")
    return isinstance(wrapper, type) and type(result) is wrapper


class _ClosingBody:
    """The application's response, with ``on_close`` run after the application's own close().

    Iterating hands the server the application's iterator itself, so the body costs
    nothing per chunk (unlike a proxy such as werkzeug's ClosingIterator).
    """

    __slots__ = ("_iterable", "_on_close")

    def __init__(self, iterable: Iterable[bytes], on_close: Callable[[], None]) -> None:
        self._iterable = iterable
        self._on_close = on_close

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._iterable)

    def close(self) -> None:
        try:
            close = getattr(self._iterable, "close", None)
            if close is not None:
                close()
        finally:
            self._on_close()


def failure_response(error: StoreError) -> tuple[str, list[tuple[str, str]], bytes]:
    """Status, headers and body for a store failure: 503 with ``Retry-After`` for an outage,
    500 for a :class:`~.errors.StoreMisconfigured`, which no retry mends."""
    misconfigured = isinstance(error, StoreMisconfigured)
    body = _MISCONFIGURED if misconfigured else _UNAVAILABLE
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))),
               ("Cache-Control", "no-store")]
    if misconfigured:
        return "500 Internal Server Error", headers, body
    return "503 Service Unavailable", [*headers, ("Retry-After", "5")], body


def _failed(start_response: StartResponse, error: StoreError) -> list[bytes]:
    status, headers, body = failure_response(error)
    start_response(status, headers)
    return [body]


def _scheme_contexts(context: SessionContext) -> tuple[SessionContext, SessionContext]:
    """(plain HTTP, HTTPS) copies of ``context`` whose settings say whether the cookie is Secure."""
    return (replace(context, settings=replace(context.settings, cookie_secure=False)),
            replace(context, settings=replace(context.settings, cookie_secure=True)))


def _check_scheme(warning: OnceWarning, environ: WSGIEnvironment, headers: list[tuple[str, str]]) -> None:
    """Warn (once) when a Secure cookie goes out on a plain-HTTP request."""
    if environ.get("wsgi.url_scheme") != "https" and any(name == "Set-Cookie" for name, _ in headers):
        warning.emit()


def get_session(environ: WSGIEnvironment) -> Session:
    """The request's session; MiddlewareMissingError if SessionMiddleware is not installed."""
    try:
        return environ[ENVIRON_KEY]  # type: ignore[no-any-return]
    except KeyError:
        raise MiddlewareMissingError(
            "no session in this WSGI environ: wrap the application in wsgisession.SessionMiddleware"
            " (with Flask: use wsgisession.flask.Session(app), or app.wsgi_app = SessionMiddleware(app.wsgi_app, ...))"
        ) from None
