"""Warnings about how the app is served: checked once, at start-up or on the first request, never per request."""

from __future__ import annotations

import contextlib
import importlib
import logging
import sys
import threading
from collections.abc import Mapping
from typing import Any

from .settings import Settings

logger = logging.getLogger("wsgisession")

PER_PROCESS_CACHE = ('SESSION_ENGINE "cache" with SESSION_CACHE_URL "memory://" keeps sessions inside each worker'
                     " process: with {workers}, a user is logged out whenever another worker answers; use a"
                     " redis:// or memcached:// cache, or another engine")
SECURE_ON_HTTP = ("a Secure session cookie was sent on a plain-HTTP request: browsers drop it, so no session"
                  ' survives; serve over HTTPS, set SESSION_COOKIE_SECURE = "auto", or behind a proxy wrap the app'
                  " in werkzeug's ProxyFix so that wsgi.url_scheme says https")


def keeps_sessions_per_process(settings: Settings) -> bool:
    """True for the ``cache`` engine on ``memory://``, which several worker processes do not share."""
    return settings.engine == "cache" and settings.cache_url.lower().startswith("memory://")


def worker_processes() -> int | None:
    """The number of worker processes the server runs, where it says (uWSGI and gunicorn), else None."""
    uwsgi: Any = None
    with contextlib.suppress(ImportError):
        uwsgi = importlib.import_module("uwsgi")  # only importable inside uWSGI
    if isinstance(getattr(uwsgi, "numproc", None), int):
        return int(uwsgi.numproc)
    return _gunicorn_workers()


def _gunicorn_workers() -> int | None:
    """gunicorn's ``--workers``: from the ``cfg`` of the worker (or, with ``--preload``, the arbiter) loading the app.

    gunicorn keeps no global that says it; the object that imports the app is on the
    call stack, so the stack is walked, once, at start-up.
    """
    if "gunicorn" not in sys.modules:
        return None
    frame = sys._getframe(1)
    while frame is not None:
        owner = frame.f_locals.get("self")
        workers = getattr(getattr(owner, "cfg", None), "workers", None)
        if type(owner).__module__.startswith("gunicorn.") and isinstance(workers, int):
            return workers
        frame = frame.f_back  # type: ignore[assignment]  # None at the bottom of the stack
    return None


class OnceWarning:
    """A warning logged at most once per middleware; thread-safe."""

    def __init__(self, message: str) -> None:
        self._message = message
        self._lock = threading.Lock()
        self.pending = True

    def emit(self, **details: Any) -> None:
        with self._lock:
            if not self.pending:
                return
            self.pending = False
        logger.warning(self._message.format(**details))


class ProcessCheck:
    """Warns once (per worker process) when a per-process ``memory://`` cache serves several of them.

    At start-up where the server tells the worker count (uWSGI, gunicorn); else on the
    first request whose ``wsgi.multiprocess`` is true (servers set it when they run
    several processes).
    """

    def __init__(self, settings: Settings) -> None:
        self._warning = OnceWarning(PER_PROCESS_CACHE)
        self.pending = keeps_sessions_per_process(settings)
        if self.pending:
            workers = worker_processes()
            if workers is not None:
                self.pending = False
                if workers > 1:
                    self._warning.emit(workers=f"{workers} workers")

    def check(self, environ: Mapping[str, Any]) -> None:
        """Look at the first request's ``wsgi.multiprocess`` (call only while :attr:`pending`)."""
        self.pending = False
        if environ.get("wsgi.multiprocess"):
            self._warning.emit(workers="several worker processes (wsgi.multiprocess)")
