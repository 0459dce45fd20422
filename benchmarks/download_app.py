"""The app ``benchmarks.download`` serves: one file through ``wsgi.file_wrapper``, 4 KB blocks.

``bare()`` is the app alone; ``with_session()`` reads the session first (in SessionMiddleware,
``cache`` engine, ``memory://``). The file is ``$WSGISESSION_BENCH_FILE``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from wsgisession import SessionMiddleware, get_session

#: Django's FileResponse block size.
BLOCK_SIZE = 4096


def _download(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    if "wsgisession.session" in environ:
        get_session(environ).get("count")  # the page read the session
    path = os.environ["WSGISESSION_BENCH_FILE"]
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(os.path.getsize(path)))])
    return environ["wsgi.file_wrapper"](open(path, "rb"), BLOCK_SIZE)  # type: ignore[no-any-return]


def bare() -> Any:
    return _download


def with_session() -> SessionMiddleware:
    return SessionMiddleware(_download, {"SECRET_KEY": "bench-download-secret-key-0123456789",
                                         "SESSION_ENGINE": "cache", "SESSION_CACHE_URL": "memory://"})


#: For uWSGI, which takes an attribute, not a call: ``--module benchmarks.download_app:session_app``.
bare_app = bare()
session_app = with_session()
