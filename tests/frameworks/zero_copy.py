"""What a framework's file response reaches the server as, through SessionMiddleware.

``python -m tests.frameworks.zero_copy <app>`` (``flask-extension``, ``flask-middleware`` or
``django``; one process each, Django's settings being per process) calls the app's ``GET /file``
(tests/frameworks/apps) without LintMiddleware, which would wrap the body, under a server whose
``wsgi.file_wrapper`` is wsgiref's ``FileWrapper`` class, and prints the body's type, the status,
and whether the session was saved. A server sends its own wrapper by sendfile (gunicorn) or its
file buffer (waitress): any other object costs it that path.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any
from wsgiref.util import FileWrapper, setup_testing_defaults

from examples.settings import example_settings
from wsgisession import SessionMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

APPS = ["flask-extension", "flask-middleware", "django"]


def build(name: str) -> WSGIApplication:
    if name.startswith("flask-"):
        from tests.frameworks.apps.with_flask import create_app

        return create_app(name.removeprefix("flask-"), lint=False)
    from tests.frameworks.apps.with_django import django_app

    return SessionMiddleware(django_app, example_settings())


def handed_back(name: str) -> str:
    """``"<body type> <status code> saved|unsaved"`` for ``GET /file``."""
    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    environ.update(PATH_INFO="/file", REQUEST_METHOD="GET")
    environ["wsgi.file_wrapper"] = FileWrapper
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append((status, headers))

    body = build(name)(environ, start_response)
    try:
        status, headers = started[0]
        saved = any(header == "Set-Cookie" for header, _ in headers)
        return f"{type(body).__module__}.{type(body).__qualname__} {status[:3]} {'saved' if saved else 'unsaved'}"
    finally:
        getattr(body, "close", lambda: None)()


if __name__ == "__main__":
    print(handed_back(sys.argv[1]))
