"""The app ``benchmarks.load`` serves under gunicorn: ``gunicorn benchmarks.load_app:app``.

The system and engine come from environment variables set by ``benchmarks.load``:
``BENCH_SYSTEM`` (``bare`` or a system name), ``BENCH_ENGINE``, ``BENCH_TMP``,
``BENCH_REDIS_URL``, ``BENCH_RUN_ID`` and ``BENCH_SECRET``. Each worker builds its own
app at import, as a real deployment does; the routes are those of the micro benchmark
(``/new`` sets ``count`` to 1, ``/write`` adds one, ``/read`` answers it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .common import Env, wsgi_app
from .systems import all_systems

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


def from_environ() -> WSGIApplication:
    name = os.environ.get("BENCH_SYSTEM", "bare")
    if name == "bare":
        return wsgi_app()
    env = Env(Path(os.environ["BENCH_TMP"]), os.environ["BENCH_REDIS_URL"], os.environ["BENCH_RUN_ID"],
              os.environ["BENCH_SECRET"])
    system = next(system for system in all_systems() if system.name == name)
    built = system.build(os.environ["BENCH_ENGINE"], env)
    if built.prepare is not None:
        built.prepare()  # process-wide settings: one engine per worker here
    return built.app


app = from_environ()
