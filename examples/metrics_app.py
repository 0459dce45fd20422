"""The counter example with its session metrics exported to Prometheus, and an audit hook.

Needs ``pip install 'wsgi-session[otel]' opentelemetry-sdk opentelemetry-exporter-prometheus``.
Run it from the repository root (the settings come from the variables examples/settings.py
lists)::

    export WSGISESSION_SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
    gunicorn examples.metrics_app:app --workers 1 --threads 4

then use the counter (``/session``, ``/session/reset``) and scrape ``/metrics``::

    curl -s http://127.0.0.1:8000/metrics | grep wsgisession_

Prometheus scrapes one process: each gunicorn worker keeps its own counts, so with several
workers give each its own port (``prometheus_client.start_http_server`` in gunicorn's
``post_fork``) or push OTLP to an OpenTelemetry Collector instead of this reader.
"""

from __future__ import annotations

import logging

from opentelemetry import metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from prometheus_client import make_wsgi_app
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from examples.counter import make_app
from examples.settings import example_settings
from wsgisession.hooks import Hooks, SessionEvent

audit = logging.getLogger("examples.audit")


def log_event(event: SessionEvent) -> None:
    """One line per session event: the opaque id, never the key."""
    audit.info("session %s: %s (user %s)", event.name, event.session_id, event.user_id)


# The meter provider is set before the middleware is built: it picks the global one up then.
metrics.set_meter_provider(MeterProvider(metric_readers=[PrometheusMetricReader()]))

hooks = Hooks()
for name in ("created", "rotated", "logout", "revoked", "expired"):
    hooks.on(name, log_event)

app = DispatcherMiddleware(make_app(example_settings(), hooks=hooks), {"/metrics": make_wsgi_app()})
