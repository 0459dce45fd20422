"""A back end that reports what it does: to the metrics and the application's hooks.

Built by :func:`observe` only when there is something to report to; otherwise the
middleware uses its back end as it is, and a request pays nothing for either feature.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from . import _lifecycle
from .backends import Loaded, Rejected, SessionBackend
from .backends.server_side import StoreBackend
from .errors import StoreError
from .events import Events
from .hooks import EventName, Hooks, SessionEvent
from .metrics import Metrics, configured_provider, measured_store

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider

    from .backends.contract import Pending

_OUTCOMES = {Rejected.MISSING: "missing", Rejected.BAD_SIGNATURE: "bad_signature",
             Rejected.UNDECODABLE: "undecodable"}


def observe(backend: SessionBackend, engine: str, events: Events, hooks: Hooks | None,
            meter_provider: MeterProvider | None) -> SessionBackend:
    """The back end the sessions should use: ``backend`` itself when there are no metrics and no hooks."""
    provider = configured_provider(meter_provider)
    metrics = None if provider is None else Metrics(provider, engine)
    if metrics is None and not hooks:
        return backend
    events.metrics = metrics
    if metrics is not None and isinstance(backend, StoreBackend):
        backend = copy.copy(backend)  # the middleware's own (for checks) keeps the store as it is
        backend.store = measured_store(backend.store, metrics)
    return ObservedBackend(backend, metrics, hooks or None)


class ObservedBackend(SessionBackend):
    """``inner``, counting loads, saves, touches and deletes, and calling the hooks."""

    def __init__(self, inner: SessionBackend, metrics: Metrics | None, hooks: Hooks | None) -> None:
        self.inner = inner
        self.metrics = metrics
        self.hooks = hooks
        self.lifetime = inner.lifetime

    def __getattr__(self, name: str) -> Any:  # what a back end has beyond the interface
        return getattr(self.inner, name)

    def load(self, cookie_value: str, now: float) -> Loaded | Rejected:
        metrics = self.metrics
        try:
            loaded = self.inner.load(cookie_value, now)
        except StoreError:
            if metrics is not None:
                metrics.loads.add(1, metrics.tagged("outcome", "error"))
            raise
        if metrics is not None:
            outcome = _OUTCOMES[loaded] if isinstance(loaded, Rejected) else "loaded"
            metrics.loads.add(1, metrics.tagged("outcome", outcome))
        if loaded is Rejected.MISSING:
            self._gone(cookie_value)
        return loaded

    def save(self, pending: Pending) -> str | None:
        value = self._write(self.inner.save, pending, "saves")
        if value is not None and pending.is_new:
            self._new_key(pending)
        return value

    def touch(self, pending: Pending) -> str | None:
        return self._write(self.inner.touch, pending, "touches")

    def delete(self, key: str) -> None:
        self.inner.delete(key)
        metrics, hooks = self.metrics, self.hooks
        if metrics is not None:
            metrics.deletes.add(1, metrics.engine)
            metrics.ended.add(1, metrics.tagged("reason", "logout"))
        if hooks is not None and hooks.wants("logout"):
            hooks.emit(SessionEvent("logout", _lifecycle.record_id(key)))

    def release(self, key: str, token: str) -> None:
        self.inner.release(key, token)

    def user_sessions(self, user_id: str) -> list[str]:
        return self.inner.user_sessions(user_id)

    def delete_user_sessions(self, user_id: str, except_key: str | None = None) -> int:
        count = self.inner.delete_user_sessions(user_id, except_key)
        if count:
            if self.metrics is not None:
                self.metrics.ended.add(count, self.metrics.tagged("reason", "revoked"))
            if self.hooks is not None and self.hooks.wants("revoked"):
                self.hooks.emit(SessionEvent("revoked", user_id=user_id, count=count))
        return count

    def clear_expired(self, now: float) -> int | None:
        return self.inner.clear_expired(now)

    def _write(self, write: Any, pending: Pending, counter: str) -> str | None:
        metrics = self.metrics
        try:
            value: str | None = write(pending)
        except StoreError:
            if metrics is not None:
                getattr(metrics, counter).add(1, metrics.tagged("outcome", "error"))
            raise
        if metrics is not None:
            getattr(metrics, counter).add(1, metrics.tagged("outcome", "dropped" if value is None else "saved"))
        return value

    def _new_key(self, pending: Pending) -> None:
        """A session saved under a new key: created, or moved there by ``cycle_key``."""
        rotated = pending.retired_key is not None
        if self.metrics is not None and not rotated:
            self.metrics.created.add(1, self.metrics.engine)
        name: EventName = "rotated" if rotated else "created"
        if self.hooks is not None and self.hooks.wants(name):
            previous = None if pending.retired_key is None else _lifecycle.record_id(pending.retired_key)
            self.hooks.emit(SessionEvent(name, _lifecycle.record_id(pending.key), pending.user_id, previous))

    def _gone(self, cookie_value: str) -> None:
        """A cookie we signed named a session the store no longer has (or past its expiry): it expired."""
        inner = self.inner
        if not isinstance(inner, StoreBackend):
            return
        unsigned = inner.signer.unsign(cookie_value)
        if unsigned is None or not _lifecycle.looks_like_key(unsigned[0]):
            return
        if self.metrics is not None:
            self.metrics.ended.add(1, self.metrics.tagged("reason", "expired"))
        if self.hooks is not None and self.hooks.wants("expired"):
            self.hooks.emit(SessionEvent("expired", _lifecycle.record_id(unsigned[0])))
