"""Metrics through the OpenTelemetry API, when it is installed and a meter provider is configured.

``pip install 'wsgi-session[otel]'`` and configure a meter provider (an SDK ``MeterProvider``
with an exporter) before building the middleware, or pass one as
``SessionMiddleware(..., meter_provider=provider)``. Without either, nothing is measured and
nothing is added to a request. The instruments (every one has an ``engine`` attribute, the
``SESSION_ENGINE`` in use):

=====================================  =========  ==========================================
``wsgisession.session.loads``          counter    ``outcome``: loaded, missing, bad_signature,
                                                  undecodable, error
``wsgisession.session.saves``          counter    ``outcome``: saved, dropped, error
``wsgisession.session.touches``        counter    ``outcome``: saved, dropped, error
``wsgisession.session.deletes``        counter
``wsgisession.sessions.created``       counter
``wsgisession.sessions.ended``         counter    ``reason``: logout, revoked, expired
``wsgisession.store.duration``         histogram  seconds; ``operation``: load, save, touch,
                                                  delete, retire, acquire, release, ...
``wsgisession.store.failures``         counter    ``operation``, ``kind`` (the error's class)
``wsgisession.lock.wait``              histogram  seconds; ``outcome``: acquired, timed_out,
                                                  failed
``wsgisession.security.bad_signatures`` counter
``wsgisession.session.undecodable``    counter
=====================================  =========  ==========================================
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .errors import LockTimeoutError
from .stores.base import Store

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider

#: The instrumentation scope's name.
SCOPE = "wsgisession"

#: Store operations timed by :func:`measured_store`.
OPERATIONS = ("load", "save", "delete", "touch", "retire", "acquire", "release", "user_sessions",
              "delete_user_sessions", "clear_expired")


def configured_provider(provider: MeterProvider | None) -> MeterProvider | None:
    """``provider``, or the global one if an SDK configured it; None when there is nothing to export to."""
    if provider is not None:
        return provider
    try:
        from opentelemetry import metrics
    except ImportError:
        return None
    found = metrics.get_meter_provider()
    # The API's own providers (the proxy before one is set, and the no-op) record nothing.
    if type(found).__name__ in ("_ProxyMeterProvider", "NoOpMeterProvider"):
        return None
    return found


class Metrics:
    """The instruments of one middleware, all tagged with its engine."""

    def __init__(self, provider: MeterProvider, engine: str) -> None:
        from ._version import __version__

        meter = provider.get_meter(SCOPE, __version__)
        self.engine = {"engine": engine}
        self.loads = meter.create_counter("wsgisession.session.loads", "{load}", "Sessions loaded, by outcome")
        self.saves = meter.create_counter("wsgisession.session.saves", "{save}", "Sessions saved, by outcome")
        self.touches = meter.create_counter("wsgisession.session.touches", "{touch}",
                                            "Expiries renewed without a change, by outcome")
        self.deletes = meter.create_counter("wsgisession.session.deletes", "{delete}", "Sessions deleted (flush)")
        self.created = meter.create_counter("wsgisession.sessions.created", "{session}", "New sessions saved")
        self.ended = meter.create_counter("wsgisession.sessions.ended", "{session}", "Sessions ended, by reason")
        self.store_duration = meter.create_histogram("wsgisession.store.duration", "s",
                                                     "Duration of store operations")
        self.store_failures = meter.create_counter("wsgisession.store.failures", "{failure}",
                                                   "Store operations that raised, by operation and kind")
        self.lock_wait = meter.create_histogram("wsgisession.lock.wait", "s", "Time spent acquiring a session lock")
        self.bad_signatures = meter.create_counter("wsgisession.security.bad_signatures", "{cookie}",
                                                   "Cookies refused for a bad signature")
        self.undecodable = meter.create_counter("wsgisession.session.undecodable", "{session}",
                                                "Authentic sessions whose data could not be decoded")
        self._attributes: dict[tuple[str, str], dict[str, str]] = {}

    def tagged(self, name: str, value: str) -> dict[str, str]:
        """The attributes ``{engine, name: value}``, built once per pair."""
        attributes = self._attributes.get((name, value))
        if attributes is None:
            attributes = self._attributes[(name, value)] = {**self.engine, name: value}
        return attributes


def measured_store(store: Store, metrics: Metrics) -> Store:
    """``store``, with each of its operations timed and its failures counted.

    The wrapper has exactly the operations ``store`` has, so the back end's checks of what a
    store can do (``isinstance(store, Touches)``, ...) answer as for ``store`` itself.
    """
    namespace: dict[str, Any] = {"__slots__": ()}
    for operation in OPERATIONS:
        if callable(getattr(store, operation, None)):
            namespace[operation] = _timed(operation, metrics)
    if hasattr(store, "expires_by_itself"):
        namespace["expires_by_itself"] = store.expires_by_itself
    cls = type(f"Measured{type(store).__name__}", (_MeasuredStore,), namespace)
    return cls(store)  # type: ignore[no-any-return]


class _MeasuredStore:
    __slots__ = ("inner",)

    def __init__(self, inner: Store) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:  # anything not measured: the store's own
        return getattr(self.inner, name)


def _timed(operation: str, metrics: Metrics) -> Any:
    attributes = metrics.tagged("operation", operation)
    record, failures = metrics.store_duration.record, metrics.store_failures
    lock_wait = metrics.lock_wait if operation == "acquire" else None

    def timed(self: _MeasuredStore, *args: Any) -> Any:
        started = time.perf_counter()
        outcome = "acquired"
        try:
            return getattr(self.inner, operation)(*args)
        except Exception as exc:
            failures.add(1, {**attributes, "kind": type(exc).__name__})
            outcome = "timed_out" if isinstance(exc, LockTimeoutError) else "failed"
            raise
        finally:
            elapsed = time.perf_counter() - started
            record(elapsed, attributes)
            if lock_wait is not None:
                lock_wait.record(elapsed, metrics.tagged("outcome", outcome))

    timed.__name__ = operation
    return timed
