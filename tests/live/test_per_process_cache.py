"""A per-process ``memory://`` cache under a real gunicorn with 3 workers: the server's log says so at start."""

from __future__ import annotations

import requests

from tests.live.conftest import StartServer


def test_memory_cache_under_several_gunicorn_workers_is_warned_in_the_log(start_server: StartServer) -> None:
    """gunicorn runs 3 workers: each warns once, as it loads the app, with the count gunicorn was given."""
    server = start_server("examples.counter:app", "cache")
    with requests.Session() as browser:
        for _ in range(12):
            browser.get(server.url, timeout=5).raise_for_status()
    log = (server.workdir / "gunicorn.log").read_text()
    assert 1 <= log.count("keeps sessions inside each worker process") <= 3, log
    assert "with 3 workers, a user is logged out whenever another worker answers" in log, log
    assert "wsgi.multiprocess" not in log  # told at start-up, not left to the first request
