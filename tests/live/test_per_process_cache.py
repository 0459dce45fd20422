"""A per-process ``memory://`` cache under a real gunicorn with 3 workers: the server's log says so."""

from __future__ import annotations

import requests

from tests.live.conftest import StartServer


def test_memory_cache_under_several_gunicorn_workers_is_warned_in_the_log(start_server: StartServer) -> None:
    """gunicorn sets wsgi.multiprocess with --workers 3: each worker warns once, at its first request."""
    server = start_server("examples.counter:app", "cache")
    with requests.Session() as browser:
        for _ in range(12):
            browser.get(server.url, timeout=5).raise_for_status()
    log = (server.workdir / "gunicorn.log").read_text()
    warnings = log.count("keeps sessions inside each worker process")
    assert 1 <= warnings <= len(server.worker_pids()), log
    assert "logged out whenever another worker answers" in log
