"""SessionMiddleware: gives a WSGI application Django-style sessions.

Use it around any WSGI application (Flask, Bottle, Falcon, a bare function). Do not
put it around an application that already manages the same session cookie.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.wsgi import ClosingIterator

from ._commit import commit, commit_late
from .engines import build_backend, build_serializer
from .errors import MiddlewareMissingError
from .session import Session, SessionContext
from .settings import Settings

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: Where the session object sits in the WSGI environ.
ENVIRON_KEY = "wsgisession.session"


class SessionMiddleware:
    """Loads the session on first use, saves it when the application starts its response.

    The commit point is the application's call to ``start_response``: the session is
    saved then and ``Set-Cookie``/``Vary`` are added. Changes made while the body is
    iterated are saved when the iterable is closed, for a session the browser already
    holds a cookie for (no new cookie can be sent then). Thread-safe: each request gets
    its own :class:`~wsgisession.session.Session`.

    :raises ConfigurationError: when ``settings`` are invalid (all problems listed).
    """

    def __init__(self, app: WSGIApplication, settings: Mapping[str, Any] | None = None, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self.settings = Settings.from_mapping(settings)
        self.backend = build_backend(self.settings)
        self._context = SessionContext(self.settings, self.backend, build_serializer(self.settings), clock)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        session = Session(self._context, environ.get("HTTP_COOKIE"))
        environ[ENVIRON_KEY] = session
        extra: list[tuple[str, str]] | None = None
        status_code: int | None = None

        def session_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal extra, status_code
            status_code = int(status[:3])
            if extra is None:
                extra = []  # set first: a failing commit is not retried by a second call
                extra = commit(session, status_code)
            return start_response(status, _merge(headers, extra), exc_info)

        try:
            result = self.app(environ, session_start_response)
        except BaseException:
            session._release_lock()
            raise
        if extra is not None and not session.accessed:
            return result  # started without touching the session: nothing more can happen to it
        return ClosingIterator(result, lambda: commit_late(session, status_code))


def _merge(headers: list[tuple[str, str]], extra: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if not extra:
        return headers
    merged = list(headers)
    for name, value in extra:
        if name == "Vary" and _varies_on_cookie(headers):
            continue
        merged.append((name, value))
    return merged


def _varies_on_cookie(headers: list[tuple[str, str]]) -> bool:
    return any(
        name.lower() == "vary" and any(item.strip().lower() in ("cookie", "*") for item in value.split(","))
        for name, value in headers
    )


def get_session(environ: WSGIEnvironment) -> Session:
    """The request's session; MiddlewareMissingError if SessionMiddleware is not installed."""
    try:
        return environ[ENVIRON_KEY]  # type: ignore[no-any-return]
    except KeyError:
        raise MiddlewareMissingError(
            "no session in this WSGI environ: wrap the application in wsgisession.SessionMiddleware"
        ) from None
