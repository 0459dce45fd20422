"""Django-grade sessions for any WSGI application."""

from ._version import __version__
from .errors import (
    ConfigurationError,
    CookieTooLargeError,
    MiddlewareMissingError,
    SessionDataError,
    SessionTooLargeError,
    StoreError,
    StoreMisconfigured,
    UnsupportedOperation,
    WSGISessionError,
)
from .middleware import SessionMiddleware, get_session
from .session import Session
from .settings import Settings

__all__ = [
    "ConfigurationError",
    "CookieTooLargeError",
    "MiddlewareMissingError",
    "Session",
    "SessionDataError",
    "SessionMiddleware",
    "SessionTooLargeError",
    "Settings",
    "StoreError",
    "StoreMisconfigured",
    "UnsupportedOperation",
    "WSGISessionError",
    "__version__",
    "get_session",
]
