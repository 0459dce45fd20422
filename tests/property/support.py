"""What the property tests share: example budgets, a cookie-jar-free client, the file-tree snapshot.

Every property test runs once per engine configuration (``engine_settings``) and builds
its middleware once per engine; hypothesis then runs its examples against that one
middleware, so stores and earlier sessions persist from one example to the next.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from webtest import TestApp, TestResponse
from werkzeug.middleware.lint import LintMiddleware

from wsgisession import SessionMiddleware
from wsgisession.backends import Loaded

#: Examples per engine: the whole folder, on every engine, runs in about a minute on two cores.
EXAMPLES = 60

#: The engine fixtures are function-scoped on purpose: one middleware serves every example.
_HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
           HealthCheck.filter_too_much]


def per_engine(max_examples: int = EXAMPLES) -> settings:
    """Hypothesis settings for a test run once per engine: a modest budget, no deadline (servers vary)."""
    return settings(max_examples=max_examples, deadline=None, suppress_health_check=_HEALTH)


class Client:
    """A WebTest client of ``app`` behind the middleware, both checked by werkzeug's LintMiddleware.

    Every request carries exactly the Cookie header the test gives (or none): the cookie
    jar is emptied first, so nothing from an earlier response leaks into a hostile request.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], engine_settings: dict[str, Any]) -> None:
        self.middleware = SessionMiddleware(LintMiddleware(app), engine_settings)
        self.app = TestApp(LintMiddleware(self.middleware))

    def get(self, path: str, cookie: str | None = None, **environ: Any) -> TestResponse:
        """GET ``path`` with ``cookie`` as the whole Cookie header; ``environ`` adds WSGI environ keys."""
        self.app.reset()
        if cookie is not None:
            environ["HTTP_COOKIE"] = cookie
        return self.app.get(path, extra_environ=environ)

    def session_cookie(self, response: TestResponse) -> str | None:
        """The session cookie value ``response`` set (None if it set none; "" if it deleted it)."""
        for header in response.headers.getall("Set-Cookie"):
            name, _, rest = header.partition("=")
            if name == "sessionid":
                return rest.partition(";")[0]
        return None

    def key_inside(self, cookie_value: str) -> str:
        """The session key a cookie value carries, read through the engine's own back end."""
        loaded = self.middleware.backend.load(cookie_value, time.time())
        assert isinstance(loaded, Loaded), f"the middleware's own cookie does not load: {loaded}"
        return loaded.key


def tree_outside(root: Path, folder: str | None) -> dict[str, tuple[int, int]]:
    """Everything under ``root`` outside the file engine's ``folder``: path -> (size, mtime).

    Empty for the other engines (they keep nothing in the file engine's sense; SQLite's
    file sits in ``root`` and changes on every write).
    """
    if folder is None:
        return {}
    inside = Path(folder).resolve()
    tree = {}
    for path in root.rglob("*"):
        resolved = path.resolve()
        if resolved != inside and inside not in resolved.parents:
            stat = path.lstat()
            tree[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return tree
