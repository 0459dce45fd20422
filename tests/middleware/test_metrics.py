"""OpenTelemetry metrics, read back with the SDK's in-memory reader, through the middleware on real stores."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from webtest import TestApp

from tests.conftest import SECRET
from tests.middleware.apps import behaviour_app
from tests.private_redis import PrivateRedis
from wsgisession import SessionMiddleware

#: Server-side engines on real servers and files, and the signed cookies, which have no store.
MEASURED = ["db", "redis", "file", "cached_db", "signed_cookies"]

Points = dict[tuple[str, frozenset[tuple[str, Any]]], float]


@pytest.fixture
def reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


def points(reader: InMemoryMetricReader) -> Points:
    """name and attributes -> a counter's sum, or a histogram's count of observations."""
    found: Points = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    value = point.count if isinstance(point, HistogramDataPoint) else point.value
                    found[(metric.name, frozenset(point.attributes.items()))] = value
    return found


def value(found: Points, name: str, **attributes: str) -> float:
    return found.get((name, frozenset(attributes.items())), 0)


def client_for(settings: dict[str, Any], reader: InMemoryMetricReader) -> TestApp:
    provider = MeterProvider(metric_readers=[reader])
    return TestApp(SessionMiddleware(behaviour_app, settings, meter_provider=provider))


@pytest.mark.parametrize("engine_id", MEASURED)
def test_a_session_lifecycle_is_counted(engine_id: str, engine_settings: dict[str, Any],
                                        reader: InMemoryMetricReader) -> None:
    client = client_for(engine_settings, reader)
    engine = engine_settings["SESSION_ENGINE"]
    client.get("/set?a=1")  # created
    client.get("/inc")  # loaded and saved
    stale_cookie = client.cookies["sessionid"]
    client.get("/flush")  # logout
    found = points(reader)
    assert value(found, "wsgisession.sessions.created", engine=engine) == 1
    assert value(found, "wsgisession.session.saves", engine=engine, outcome="saved") == 2
    assert value(found, "wsgisession.session.loads", engine=engine, outcome="loaded") == 2
    assert value(found, "wsgisession.session.deletes", engine=engine) == 1
    assert value(found, "wsgisession.sessions.ended", engine=engine, reason="logout") == 1
    # No key, cookie, user or data in an attribute: only these few, low-cardinality ones.
    assert {name for _, attributes in found for name, _ in attributes} <= {"engine", "outcome", "operation", "reason"}
    if engine != "signed_cookies":  # a store: each operation timed
        assert value(found, "wsgisession.store.duration", engine=engine, operation="save") == 2
        assert value(found, "wsgisession.store.duration", engine=engine, operation="delete") == 1
        client.set_cookie("sessionid", stale_cookie)
        client.get("/get")  # the logged-out session's cookie comes back: it is gone
        found = points(reader)
        assert value(found, "wsgisession.session.loads", engine=engine, outcome="missing") == 1
        assert value(found, "wsgisession.sessions.ended", engine=engine, reason="expired") == 1


@pytest.mark.parametrize("engine_id", ["db", "redis"])
def test_touches_rotations_and_revocations(engine_id: str, engine_settings: dict[str, Any],
                                           reader: InMemoryMetricReader) -> None:
    clock = [time.time()]
    provider = MeterProvider(metric_readers=[reader])
    middleware = SessionMiddleware(behaviour_app, {**engine_settings, "SESSION_TOUCH_INTERVAL": 60},
                                   clock=lambda: clock[0], meter_provider=provider)
    laptop, phone = TestApp(middleware), TestApp(middleware)
    laptop.get("/login?user=ada")
    phone.get("/login?user=ada")
    clock[0] += 3600
    laptop.get("/get")  # unchanged, due for renewal: a touch
    laptop.get("/cycle")  # a new key: not a new session
    laptop.get("/logout-elsewhere")
    found = points(reader)
    engine = engine_settings["SESSION_ENGINE"]
    assert value(found, "wsgisession.session.touches", engine=engine, outcome="saved") == 1
    assert value(found, "wsgisession.sessions.created", engine=engine) == 2
    assert value(found, "wsgisession.sessions.ended", engine=engine, reason="revoked") == 1
    assert phone.get("/get").json == {}


def test_bad_signatures_are_counted(engine_settings_factory: Any, reader: InMemoryMetricReader) -> None:
    client = client_for(engine_settings_factory("redis"), reader)
    client.set_cookie("sessionid", "forged.value")
    client.get("/get")
    found = points(reader)
    assert value(found, "wsgisession.security.bad_signatures", engine="redis") == 1
    assert value(found, "wsgisession.session.loads", engine="redis", outcome="bad_signature") == 1


def test_store_failures_are_counted_by_operation_and_kind(private_redis: PrivateRedis,
                                                          reader: InMemoryMetricReader) -> None:
    client = client_for({"SECRET_KEY": SECRET, "SESSION_ENGINE": "redis", "SESSION_REDIS_URL": private_redis.url},
                        reader)
    client.get("/inc")
    private_redis.stop()
    client.get("/inc", status=503)
    private_redis.start()
    found = points(reader)
    assert value(found, "wsgisession.store.failures", engine="redis", operation="load", kind="StoreError") == 1
    assert value(found, "wsgisession.session.loads", engine="redis", outcome="error") == 1


def test_lock_waits_are_timed(engine_settings_factory: Any, reader: InMemoryMetricReader) -> None:
    client = client_for({**engine_settings_factory("redis"), "SESSION_LOCKING": True}, reader)
    client.get("/inc")
    client.get("/inc")  # the second request locks the stored session
    assert value(points(reader), "wsgisession.lock.wait", engine="redis", outcome="acquired") == 1


def test_the_checks_see_the_store_itself(engine_settings_factory: Any, reader: InMemoryMetricReader) -> None:
    client = client_for(engine_settings_factory("db"), reader)
    client.get("/inc")  # creates the table
    assert [result.ok for result in client.app.check()] == [True] * 4


def test_without_a_meter_provider_the_sessions_use_the_back_end_itself(
        engine_settings_factory: Any) -> None:
    middleware = SessionMiddleware(behaviour_app, engine_settings_factory("redis"))
    assert middleware._context.backend is middleware.backend  # nothing between a request and its store
    TestApp(middleware).get("/inc")


def test_wsgisession_needs_no_opentelemetry() -> None:
    settings = {"SECRET_KEY": SECRET, "SESSION_ENGINE": "signed_cookies"}
    code = ("import sys; sys.modules['opentelemetry'] = None\n"  # an import of it raises ImportError
            "from wsgisession import SessionMiddleware\n"
            f"m = SessionMiddleware(lambda e, s: [], {settings!r})\n"
            "assert m._context.backend is m.backend\n")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture(autouse=True)
def _no_global_provider() -> Iterator[None]:
    """The tests pass their own provider: the global one stays the API's proxy."""
    from opentelemetry import metrics

    assert type(metrics.get_meter_provider()).__name__ == "_ProxyMeterProvider"
    yield
