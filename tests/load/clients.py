"""The clients of the load and fault tests: one thread and one cookie jar per user.

Each :class:`Client` calls ``/hit`` of :mod:`tests.load.load_app` again and again, one request
after another (a user clicking), and checks every answer: its own owner mark, and a count one
above the previous one. After the load, ``/peek`` must read a count equal to its successful
requests. :class:`Load` runs many clients at once; :class:`LoadResult` sums them up.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import requests

#: Seconds a client waits for one answer.
REQUEST_TIMEOUT = 30.0
#: The status recorded for a request that got no HTTP answer (refused, reset, timed out).
NO_ANSWER = -1


class Sample(NamedTuple):
    """One request: when it was sent (``time.monotonic()``), how long it took (s), its status."""

    sent: float
    latency: float
    status: int


@dataclass
class Client:
    """One user: a cookie jar, its requests in order, and what the server told it."""

    ident: int
    url: str
    http: requests.Session = field(default_factory=requests.Session)
    samples: list[Sample] = field(default_factory=list)
    #: Answers of 200 so far: the count the session must hold.
    successes: int = 0
    #: The count of the last successful answer.
    last_count: int = 0
    #: (previous count, count received) for each answer that was not the previous plus one.
    bad_steps: list[tuple[int, Any]] = field(default_factory=list)
    #: Answers that carried another client's owner mark.
    foreign: int = 0
    #: What ``/peek`` read after the load: (owner, count), or None if it could not read.
    final: tuple[Any, Any] | None = None
    #: The first 5xx answer: (status, headers, body).
    first_5xx: tuple[int, dict[str, str], str] | None = None
    #: Requests that got no answer, by exception: "ReadTimeout", "ConnectionError: ...".
    no_answer: Counter[str] = field(default_factory=Counter)

    def run(self, go: threading.Event, done: threading.Event) -> None:
        if go.wait(timeout=60):
            while not done.is_set():
                self.hit()

    def hit(self) -> None:
        sent = time.monotonic()
        try:
            response = self.http.get(f"{self.url}/hit", params={"client": self.ident}, timeout=REQUEST_TIMEOUT)
        except requests.RequestException as exc:
            self.samples.append(Sample(sent, time.monotonic() - sent, NO_ANSWER))
            self.no_answer[f"{type(exc).__name__}: {str(exc)[-80:]}"] += 1
            return
        self.samples.append(Sample(sent, time.monotonic() - sent, response.status_code))
        if response.status_code == 200:
            self.successes += 1
            self._check(response.json())
        elif response.status_code >= 500 and self.first_5xx is None:
            self.first_5xx = (response.status_code, dict(response.headers), response.text)

    def _check(self, body: dict[str, Any]) -> None:
        if body.get("owner") != str(self.ident):
            self.foreign += 1
        count = body.get("count")
        if count != self.last_count + 1:
            self.bad_steps.append((self.last_count, count))
        self.last_count = count if isinstance(count, int) else self.last_count

    def peek(self, patience: float = 10.0) -> None:
        """Read the stored session once the load is over (retrying for up to ``patience`` s)."""
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            try:
                response = self.http.get(f"{self.url}/peek", timeout=REQUEST_TIMEOUT)
            except requests.RequestException:
                response = None
            if response is not None and response.status_code == 200:
                body = response.json()
                self.final = (body.get("owner"), body.get("count"))
                return
            time.sleep(0.2)

    @property
    def lost(self) -> int:
        """Successful increments the store does not hold."""
        return max(0, self.successes - self._final_count())

    @property
    def extra(self) -> int:
        """Increments the store holds that this client was not told succeeded."""
        return max(0, self._final_count() - self.successes)

    def _final_count(self) -> int:
        if self.final is None or not isinstance(self.final[1], int):
            return 0
        return self.final[1]

    def final_is_foreign(self) -> bool:
        return self.final is not None and self.successes > 0 and self.final[0] != str(self.ident)


@dataclass
class LoadResult:
    """What a load of many clients did, and what went wrong."""

    engine: str
    workers: str
    clients: list[Client]
    seconds: float
    #: Lines of the server's log that tell of errors (filled in by :func:`run_row`).
    log_errors: list[str] = field(default_factory=list)

    @property
    def samples(self) -> list[Sample]:
        return [sample for client in self.clients for sample in client.samples]

    @property
    def statuses(self) -> Counter[int]:
        return Counter(sample.status for sample in self.samples)

    @property
    def requests(self) -> int:
        return len(self.samples)

    @property
    def lost(self) -> int:
        return sum(client.lost for client in self.clients)

    @property
    def extra(self) -> int:
        return sum(client.extra for client in self.clients)

    @property
    def foreign(self) -> int:
        return sum(client.foreign + client.final_is_foreign() for client in self.clients)

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    @property
    def other_failures(self) -> int:
        """Answers that were neither 200 nor 5xx, and requests with no answer."""
        return sum(count for status, count in self.statuses.items() if status != 200 and status < 500)

    def latency_ms(self, quantile: float) -> float:
        latencies = sorted(sample.latency for sample in self.samples)
        if not latencies:
            return 0.0
        return 1000 * latencies[min(len(latencies) - 1, int(quantile * len(latencies)))]

    def consistency_problems(self) -> list[str]:
        """Every client whose session does not hold exactly its own successful increments."""
        problems = []
        for client in self.clients:
            if client.final is None:
                problems.append(f"client {client.ident}: /peek never answered 200 after the load")
            elif client.lost or client.extra or client.foreign or client.final_is_foreign() or client.bad_steps:
                problems.append(f"client {client.ident}: {client.successes} successes, stored {client.final},"
                                f" {client.foreign} foreign answers, steps (previous, received)"
                                f" {client.bad_steps[:5]}")
        return problems

    def problems(self) -> list[str]:
        """Consistency problems, then any answer that was not a 200."""
        failures = {status: count for status, count in self.statuses.items() if status != 200}
        if not failures:
            return self.consistency_problems()
        no_answer = sum((client.no_answer for client in self.clients), Counter[str]())
        return [*self.consistency_problems(), f"answers other than 200 (-1: none): {failures}",
                *(f"  no answer x{count}: {what}" for what, count in no_answer.most_common(5)),
                *(f"  server log: {line}" for line in self.log_errors[:10])]


TABLE_HEADER = ("| engine | workers | clients | requests | req/s | p50 ms | p99 ms | lost | extra | foreign"
                " | 5xx | other errors |\n|---|---|---|---|---|---|---|---|---|---|---|---|")


def table_row(result: LoadResult) -> str:
    cells = [result.engine, result.workers, len(result.clients), result.requests,
             f"{result.requests / result.seconds:.0f}", f"{result.latency_ms(0.50):.1f}",
             f"{result.latency_ms(0.99):.1f}", result.lost, result.extra, result.foreign, result.server_errors,
             result.other_failures]
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


class Load:
    """``clients`` threads calling ``/hit`` from :meth:`start` until :meth:`finish`."""

    def __init__(self, url: str, clients: int, engine: str = "", workers: str = "") -> None:
        self.clients = [Client(ident, url) for ident in range(clients)]
        self.engine, self.workers = engine, workers
        self._go, self._done = threading.Event(), threading.Event()
        self._threads = [threading.Thread(target=client.run, args=(self._go, self._done), daemon=True)
                         for client in self.clients]
        self._started = 0.0

    def start(self) -> Load:
        """Start every client at once (threads started under load wait seconds for the GIL)."""
        for thread in self._threads:
            thread.start()
        self._started = time.monotonic()
        self._go.set()
        return self

    def finish(self) -> LoadResult:
        """Stop the clients (each finishes its request in flight), read every session, close the jars."""
        self._done.set()
        deadline = time.monotonic() + REQUEST_TIMEOUT + 5
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        seconds = time.monotonic() - self._started
        if any(thread.is_alive() for thread in self._threads):
            raise RuntimeError("a client thread did not finish its last request in time")
        for client in self.clients:
            client.peek()
            client.http.close()
        return LoadResult(self.engine, self.workers, self.clients, seconds)

    def wait_until(self, condition: Callable[[Client], bool], timeout: float, what: str) -> float:
        """Wait until every client meets ``condition``; the seconds it took. RuntimeError after ``timeout``."""
        started = time.monotonic()
        while not all(condition(client) for client in self.clients):
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"not every client {what} within {timeout:g} s")
            time.sleep(0.05)
        return time.monotonic() - started


def drive(url: str, clients: int, seconds: float, engine: str = "", workers: str = "") -> LoadResult:
    """Run ``clients`` clients against ``url`` for ``seconds``, then check every session."""
    load = Load(url, clients, engine, workers).start()
    time.sleep(seconds)
    return load.finish()
