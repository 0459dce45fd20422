"""Pyramid: ``request.session`` backed by wsgisession, with Pyramid's flash messages and CSRF tokens.

Wire it in the application's ``main``::

    def main(global_config, **settings):
        with Configurator(settings=settings) as config:
            config.include("wsgisession.pyramid")   # reads wsgisession.* settings, sets the session factory
            config.add_route(...)
            config.scan()
        return wsgisession.pyramid.make_wsgi_app(config)   # config.make_wsgi_app() inside SessionMiddleware

Or keep the wiring by hand: ``config.set_session_factory(wsgisession.pyramid.session_factory)`` and
wrap ``config.make_wsgi_app()`` in :class:`~wsgisession.SessionMiddleware` yourself.

Reserved session keys (Pyramid's own names, so ``SessionCSRFStoragePolicy`` finds the same token):
``_f_<queue>`` holds each flash queue (``_f_`` the default one), ``_csrft_`` the CSRF token.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

try:
    from pyramid.interfaces import ISession
    from zope.interface import classImplements
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("wsgisession.pyramid needs Pyramid: pip install 'wsgi-session[pyramid]'") from exc

from ._pyramid_settings import from_pyramid_settings
from .errors import ConfigurationError, SettingProblem
from .middleware import SessionMiddleware, get_session
from .settings import Settings

if TYPE_CHECKING:
    from .session import Session

#: Where :func:`includeme` keeps the settings dict for :func:`make_wsgi_app` (``config.registry[...]``).
REGISTRY_KEY = "wsgisession.settings"
#: The session key of a flash queue is this prefix plus the queue's name.
FLASH_PREFIX = "_f_"
#: The session key of the CSRF token.
CSRF_KEY = "_csrft_"

# Pyramid ships no type hints: its objects are typed Any here.
Configurator = Any
Request = Any


class PyramidSession(MutableMapping[str, Any]):
    """Pyramid's ``ISession`` over the request's :class:`wsgisession.Session`.

    The dict API reads and writes the wsgisession session itself; the middleware saves it when the
    response starts, and saves nothing on a 5xx answer or an exception. Django's extras
    (``set_expiry``, ``set_user``, ...) are on :attr:`wsgisession`.
    """

    __slots__ = ("_session",)

    def __init__(self, session: Session) -> None:
        self._session = session

    @property
    def wsgisession(self) -> Session:
        """The wsgisession Session underneath (``set_expiry``, ``set_user``, ``session_key``, ...)."""
        return self._session

    # --- ISession attributes -------------------------------------------------------------

    @property
    def created(self) -> float:
        """When the session began, in seconds since the epoch (kept by ``cycle_key``, reset by ``invalidate``)."""
        return self._session.created_at

    @property
    def new(self) -> bool:
        """True while the session has no key: the browser brought no valid one, or it was invalidated."""
        return self._session.session_key is None

    def invalidate(self) -> None:
        """Log out: the data goes from the store now, the cookie from the browser with this response.

        Values set afterwards start a new session under a new key.
        """
        self._session.flush()

    def changed(self) -> None:
        """Mark the session changed, so it is saved (a value changed in place is also caught without it)."""
        self._session.modified = True

    def cycle_key(self) -> None:
        """Keep the data under a new key and delete the old one: call it at login (session fixation)."""
        self._session.cycle_key()

    # --- flash messages --------------------------------------------------------------------

    def flash(self, msg: Any, queue: str = "", allow_duplicate: bool = True) -> None:
        """Add ``msg`` (JSON-serializable) at the end of ``queue``; with ``allow_duplicate=False`` only once."""
        messages = self.peek_flash(queue)
        if allow_duplicate or msg not in messages:
            messages.append(msg)
            self._session[FLASH_PREFIX + queue] = messages

    def pop_flash(self, queue: str = "") -> list[Any]:
        """The messages of ``queue``, which is then emptied."""
        messages = self._session.pop(FLASH_PREFIX + queue, [])
        return list(messages) if isinstance(messages, list) else []

    def peek_flash(self, queue: str = "") -> list[Any]:
        """The messages of ``queue`` (a copy), left in place."""
        messages = self._session.get(FLASH_PREFIX + queue)
        return list(messages) if isinstance(messages, list) else []

    # --- CSRF tokens (Pyramid's default LegacySessionCSRFStoragePolicy calls these) ---------

    def new_csrf_token(self) -> str:
        """A new random token (256 bits, URL-safe), kept in the session and returned."""
        token = secrets.token_urlsafe(32)
        self._session[CSRF_KEY] = token
        return token

    def get_csrf_token(self) -> str:
        """The session's token, made by :meth:`new_csrf_token` on first use."""
        token = self._session.get(CSRF_KEY)
        return token if isinstance(token, str) and token else self.new_csrf_token()

    # --- the dict API ----------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self._session[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._session[key] = value

    def __delitem__(self, key: str) -> None:
        del self._session[key]

    def __contains__(self, key: object) -> bool:
        return key in self._session

    def __iter__(self) -> Iterator[str]:
        return iter(self._session)

    def __len__(self) -> int:
        return len(self._session)

    def __repr__(self) -> str:
        return f"<PyramidSession over {self._session!r}>"

    def get(self, key: str, default: Any = None) -> Any:
        return self._session.get(key, default)

    _MISSING: Any = object()

    def pop(self, key: str, default: Any = _MISSING) -> Any:
        if default is self._MISSING:
            return self._session.pop(key)
        return self._session.pop(key, default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        return self._session.setdefault(key, default)

    def clear(self) -> None:
        """Remove every value; the key stays (:meth:`invalidate` logs out)."""
        self._session.clear()


classImplements(PyramidSession, ISession)


def session_factory(request: Request) -> PyramidSession:
    """Pyramid's session factory: ``request.session`` over the session SessionMiddleware gave the request.

    :raises MiddlewareMissingError: when the application is not inside SessionMiddleware.
    """
    return PyramidSession(get_session(request.environ))


def includeme(config: Configurator) -> None:
    """``config.include("wsgisession.pyramid")``: check the ``wsgisession.*`` settings, set the session factory.

    :raises ConfigurationError: at once, for settings the middleware would refuse.
    """
    settings = from_pyramid_settings(config.get_settings() or {})
    Settings.from_mapping(settings)
    config.registry[REGISTRY_KEY] = settings
    config.set_session_factory(session_factory)


def make_wsgi_app(config: Configurator) -> SessionMiddleware:
    """``config.make_wsgi_app()`` inside SessionMiddleware, with the settings :func:`includeme` read.

    :raises ConfigurationError: when ``config.include("wsgisession.pyramid")`` was not called.
    """
    settings = config.registry.get(REGISTRY_KEY)
    if settings is None:
        raise ConfigurationError([SettingProblem(
            "wsgisession.pyramid", 'config.include("wsgisession.pyramid") before make_wsgi_app', "no include")])
    return SessionMiddleware(config.make_wsgi_app(), settings)
