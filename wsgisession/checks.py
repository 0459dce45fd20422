"""Checking a configuration against the real store: ``wsgisession check`` and :meth:`SessionMiddleware.check`.

Building the middleware checks what needs no I/O (settings, drivers, paths); a store that
implements :class:`Checks` connects here and verifies what the settings need (credentials,
the table and its columns, write permission, server version). Each check is one
:class:`CheckResult`; a failed one names the setting to change and how.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from .errors import ConfigurationError, StoreError, StoreMisconfigured


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check."""

    #: What was checked, in a word or two ("database", "table", "write").
    name: str
    ok: bool
    #: What was found; for a failure, also the setting to change and the fix.
    message: str
    #: The setting a failure is about.
    setting: str | None = None

    def line(self) -> str:
        """``ok    table: …`` or ``FAIL  table: …``, as the command prints it."""
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name}: {self.message}"


@runtime_checkable
class Checks(Protocol):
    """A store that can verify, against its server, that it is configured right (optional capability)."""

    def check(self) -> list[CheckResult]:
        """Connect and verify; one result per check. Never raises for a store failure: it is a failed result."""
        ...


def passed(name: str, message: str) -> CheckResult:
    """A check that passed."""
    return CheckResult(name, True, message)


def failed(name: str, problem: str, setting: str, fix: str) -> CheckResult:
    """A check that failed: ``problem``, then the setting to change and the fix."""
    return CheckResult(name, False, f"{problem}; fix {setting}: {fix}", setting)


def from_error(name: str, error: StoreError, setting: str, server: str) -> CheckResult:
    """A failed check for a store failure: a misconfiguration names its own setting and fix; an outage, the server."""
    if isinstance(error, StoreMisconfigured):
        return failed(name, f"{error.problem} at {error.server} ({error.detail})", error.setting, error.fix)
    return failed(name, f"cannot reach {server} ({error})", setting,
                  "start the server, or correct its host and port, and check that this machine may connect to it")


def check_store(store: object) -> list[CheckResult]:
    """The store's own checks, or one result saying it has none."""
    if isinstance(store, Checks):
        return store.check()
    return [passed("store", f"{type(store).__name__} has no checks of its own; the settings are valid")]


def check_settings(settings: Mapping[str, Any] | None) -> list[CheckResult]:
    """Build the middleware's back end from ``settings`` and run its checks; settings errors are failed results."""
    from .engines import build_backend
    from .settings import Settings

    try:
        backend = build_backend(Settings.from_mapping(settings))
    except ConfigurationError as exc:
        return [CheckResult("settings", False, str(problem), problem.key) for problem in exc.problems]
    except StoreError as exc:  # a Cluster client reads its slot map when built
        return [from_error("settings", exc, "SESSION_REDIS_URL", "the Redis Cluster")]
    return [passed("settings", "valid"), *check_backend(backend)]


def check_backend(backend: object) -> list[CheckResult]:
    """The checks of a back end's store; a back end without a store (signed cookies) needs none."""
    store = getattr(backend, "store", None)
    if store is None:
        return [passed("store", f"{type(backend).__name__} keeps sessions in the cookie: no server to check")]
    return check_store(store)


def verdict(results: list[CheckResult]) -> str:
    """The last line of a report: how many checks failed, or that all passed."""
    failures = sum(not result.ok for result in results)
    if failures:
        return f"FAILED: {failures} of {len(results)} checks failed"
    return f"OK: {len(results)} checks passed"
