"""Cost per request of each session system, side by side, in one process run.

    python -m benchmarks.micro                      # the full run (about 3 minutes on 2 cores)
    python -m benchmarks.micro --quick              # a short run (about 20 s), same table
    python -m benchmarks.micro --engines redis,sql --systems wsgisession,django

Each system (wsgisession, Beaker, Flask-Session, Django) runs the same app logic
(:func:`benchmarks.common.touch`) on every engine, called as a WSGI callable with a copied
environ. Each cell is the median of several timed loops, run interleaved with every other
cell in a new random order each round; its overhead is measured against the same
framework without sessions. A second, untimed pass counts what each request did to its
store. Redis: ``WSGISESSION_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``); every
key the run creates is deleted at the end, nothing is flushed.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import redis

from . import report
from .common import ENGINES, SCENARIOS, Built, Env, Unavailable, require_cookie
from .harness import Cell, Requester, calibrate, environ_template, fetch, run_rounds
from .machine import Busy, header
from .probes import CookieProbe, FileProbe, MemoryProbe, Probe, RedisProbe, Sample, SqlProbe
from .systems import System, all_systems

#: (rounds, seconds per timed loop, requests counted per cell) of a full and a quick run.
FULL = (9, 0.2, 9)
QUICK = (3, 0.03, 5)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.micro", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer and shorter loops (a smoke run)")
    parser.add_argument("--engines", default=",".join(ENGINES), help=f"comma-separated, of {','.join(ENGINES)}")
    parser.add_argument("--systems", default="wsgisession,beaker,flask,django",
                        help="comma-separated, of wsgisession,beaker,flask,django")
    parser.add_argument("--rounds", type=int, help="timed loops per cell (default 9, quick 3)")
    parser.add_argument("--loop-seconds", type=float, help="length of one timed loop (default 0.2, quick 0.03)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the interleaving order")
    args = parser.parse_args(argv)
    rounds, loop_seconds, counted = QUICK if args.quick else FULL
    args.rounds = args.rounds or rounds
    args.loop_seconds = args.loop_seconds or loop_seconds
    args.counted = counted
    args.engines = _choices(parser, "--engines", args.engines, ENGINES)
    args.systems = _choices(parser, "--systems", args.systems, ("wsgisession", "beaker", "flask", "django"))
    return args


def _choices(parser: argparse.ArgumentParser, option: str, value: str, allowed: Sequence[str]) -> list[str]:
    chosen = [item.strip() for item in value.split(",") if item.strip()]
    unknown = sorted(set(chosen) - set(allowed))
    if unknown or not chosen:
        parser.error(f"{option}: {', '.join(unknown) or 'nothing chosen'}; expected some of {', '.join(allowed)}")
    return [item for item in allowed if item in chosen]


def baseline_cells(systems: list[System], env: Env) -> list[Cell]:
    """One cell per framework and scenario: the same app with no session layer."""
    cells, seen = [], set()
    cookie = "sessionid=" + "k" * 43  # the shape of a session cookie; nothing reads it
    for system in systems:
        if system.framework in seen:
            continue
        seen.add(system.framework)
        app = system.baseline(env)
        for scenario in SCENARIOS:
            requester = Requester(app, environ_template(scenario, None if scenario == "new" else cookie), None)
            cells.append(Cell(system.framework, "baseline", scenario, requester.loop, requester=requester))
    return cells


def system_cells(system: System, engine: str, env: Env) -> list[Cell]:
    """The cells of ``system`` on ``engine``: a fixed session made by a first visit, then each scenario."""
    built = system.build(engine, env)
    if built.prepare is not None:
        built.prepare()
    value = first_visit(system, engine, built)
    cells = []
    for scenario in SCENARIOS:
        cookie = None if scenario == "new" else f"{system.cookie_name}={value}"
        requester = Requester(built.app, environ_template(scenario, cookie), system.cookie_name, built.forget)
        cells.append(Cell(system.name, engine, scenario, requester.loop, _preparing(built, requester), built=built,
                          requester=requester))
    return cells


def _preparing(built: Built, requester: Requester) -> Callable[[], None]:
    """What runs before each timed loop: the system's process-wide settings, then a refresh."""

    def prepare() -> None:
        if built.prepare is not None:
            built.prepare()
        requester.refresh()

    return prepare


def first_visit(system: System, engine: str, built: Built) -> str:
    """Make the fixed session (count = 1), check the app logic on it, return its cookie value."""
    status, headers, body = fetch(built.app, environ_template("new", None))
    _expect(system, engine, "new", status, body, b"1")
    value = require_cookie(headers, system.cookie_name)
    if built.forget is not None:
        built.forget(value)
    if engine == "cookie":  # a signed cookie is only updated by the responses the client keeps
        return value
    cookie = f"{system.cookie_name}={value}"
    for scenario, expected in (("write", b"2"), ("read", b"2"), ("write", b"3"), ("read", b"3")):
        status, _, body = fetch(built.app, environ_template(scenario, cookie))
        _expect(system, engine, scenario, status, body, expected)
    return value


def _expect(system: System, engine: str, scenario: str, status: str, body: bytes, expected: bytes) -> None:
    if not status.startswith("200") or body != expected:
        raise RuntimeError(f"{system.name} on {engine}: /{scenario} answered {status} {body!r}, expected {expected!r}")


def floor_cells(env: Env) -> list[Cell]:
    """Raw redis-py round trips: one GET, and a GET then a SET, of a session-sized value."""
    client = redis.Redis.from_url(env.redis_url)
    key, value = f"{env.redis_prefix}:floor", b"x" * 100
    client.set(key, value)

    def get(n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            client.get(key)
        return time.perf_counter() - started

    def get_set(n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            client.get(key)
            client.set(key, value)
        return time.perf_counter() - started

    return [Cell("redis-py", "floor", "GET", get), Cell("redis-py", "floor", "GET+SET", get_set)]


def probe_for(cell: Cell, system: System, env: Env) -> Probe:
    built = cell.built
    if built is None:
        raise ValueError(f"{cell.system} is a baseline: there is no store to probe")
    if cell.engine == "redis":
        return RedisProbe(system.cookie_name, env.redis_url)
    if cell.engine in ("sql", "cached_db") and built.database is not None:
        return SqlProbe(system.cookie_name, built.database, built.trace_sql)
    if cell.engine == "file" and built.folder is not None:
        return FileProbe(system.cookie_name, built.folder, env.tmp)
    if cell.engine == "memory" and built.memory_entries is not None:
        return MemoryProbe(system.cookie_name, built.memory_entries)
    if cell.engine == "cookie":
        return CookieProbe(system.cookie_name)
    return Probe(system.cookie_name)


def count(cells: list[Cell], systems: dict[str, System], env: Env, per_cell: int) -> dict[tuple[str, str, str],
                                                                                          list[Sample]]:
    """The untimed pass: ``per_cell`` requests of every system cell, each one probed."""
    samples: dict[tuple[str, str, str], list[Sample]] = {}
    probes: dict[tuple[str, str], Probe] = {}
    for cell in cells:
        if cell.built is None or cell.requester is None:
            continue
        probe = probes.get((cell.system, cell.engine))
        if probe is None:
            probe = probes[(cell.system, cell.engine)] = probe_for(cell, systems[cell.system], env)
        if cell.prepare is not None:
            cell.prepare()
        cell.requester.one()  # a warm request after the probe is set up (a traced connection opens)
        samples[(cell.system, cell.engine, cell.scenario)] = [
            probe.measure(cell.requester.one) for _ in range(per_cell)]
    for probe in probes.values():
        probe.close()
    return samples


def cleanup(systems: list[System], env: Env, redis_used: bool) -> None:
    """Close what the systems hold and delete every Redis key of this run."""
    for system in systems:
        try:
            system.close()
        except Exception as exc:  # one system's failing cleanup must not skip the others'
            print(f"cleanup of {system.name} failed: {exc!r}", file=sys.stderr)
    if not redis_used:
        return
    client = redis.Redis.from_url(env.redis_url)
    keys = list(client.scan_iter(match=f"{env.redis_prefix}*", count=1000))
    for first in range(0, len(keys), 500):
        client.unlink(*keys[first:first + 500])
    client.close()


def check_redis(url: str) -> None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        raise SystemExit(f"Redis at {url} cannot be reached ({exc}); start it (or set WSGISESSION_TEST_REDIS_URL), "
                         "or leave the redis engine out with --engines") from exc


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args: argparse.Namespace, env: Env, systems: list[System]) -> str:
    cells = baseline_cells(systems, env)
    unavailable: dict[tuple[str, str], str] = {}
    for system in systems:
        for engine in args.engines:
            try:
                cells += system_cells(system, engine, env)
            except Unavailable as exc:
                unavailable[(system.name, engine)] = str(exc)
    if "redis" in args.engines:
        cells += floor_cells(env)
    # Every system is built: leave what exists now out of all later collections, so the
    # collection before each timed loop only looks at what the loops allocated.
    gc.freeze()
    progress(f"{len(cells)} cells; calibrating")
    for cell in cells:
        calibrate(cell, args.loop_seconds)
    run_rounds(cells, args.rounds, args.seed, progress)
    progress("counting store commands")
    samples = count(cells, {system.name: system for system in systems}, env, args.counted)
    notes = sorted({cell.built.note for cell in cells if cell.built is not None and cell.built.note})
    return report.render(report.Results(systems, args.engines, cells, samples, unavailable, notes))


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(raw)
    busy = Busy()
    systems = [system for system in all_systems() if system.name in args.systems]
    with tempfile.TemporaryDirectory(prefix="wsgisession-bench-") as tmp:
        env = Env.from_environ(Path(tmp))
        redis_used = "redis" in args.engines
        if redis_used:
            check_redis(env.redis_url)
        try:
            table = run(args, env, systems)
        finally:
            cleanup(systems, env, redis_used)
    print(header("benchmarks.micro", raw, busy.summary()))
    print()
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
