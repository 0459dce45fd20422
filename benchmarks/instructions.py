"""Instructions per request of each session system, counted by valgrind: a measure the machine's noise cannot move.

    python -m benchmarks.instructions                            # memory and signed cookies, read and write
    python -m benchmarks.instructions --engines memory --scenarios untouched,read,write,new
    python -m benchmarks.instructions --systems wsgisession --forget-cookies   # every cookie new to the worker

Times on a shared VM drift by up to 2x within minutes; the number of instructions a request
executes does not (``valgrind --tool=callgrind`` counts them, the same for the same code and
input whatever else the machine does). Each cell runs in its own process under callgrind
twice, with ``--requests`` and three times as many requests of the same kind as in
``benchmarks.micro`` (same systems, app, cookie and loop), after a warm-up; the difference
divided by the extra requests is the cost of one request, start-up and warm-up cancelled out.
The table shows that minus the same framework without sessions, as ``benchmarks.micro`` does.

Instructions are not time: cache misses, branch mispredictions and the speed of each
instruction count too, and valgrind's CPU lacks some extensions (SHA-NI), so hashing counts
more instructions under it than it runs natively. Use this table to see a change's effect on
the work done, and ``benchmarks.micro`` for the time. In-process engines only: a store
behind a socket spends its time waiting, which instructions do not show. Needs valgrind
(``apt-get install -y valgrind``); about 10 minutes for the default cells on 2 cores.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .common import SCENARIOS, Env
from .harness import Requester, environ_template
from .machine import header
from .systems import all_systems

ENGINES = ("memory", "cookie")
ENGINE_LABELS = {"memory": "memory / local cache", "cookie": "signed cookies"}
WARM_UP = 200
_COLLECTED = re.compile(r"Collected : ([\d,]+)")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated, of memory,cookie")
    parser.add_argument("--systems", default="wsgisession,beaker,django",
                        help="comma-separated, of wsgisession,beaker,flask,django")
    parser.add_argument("--scenarios", default="read,write", help="comma-separated, of " + ",".join(SCENARIOS))
    parser.add_argument("--requests", type=int, default=200, help="requests in the shorter of the two runs")
    parser.add_argument("--forget-cookies", action="store_true",
                        help="clear wsgisession's memo of verified cookies before each request, as for a cookie"
                             " never seen before (a signed-cookie session after each save)")
    parser.add_argument("--run-cell", nargs=4, metavar=("SYSTEM", "ENGINE", "SCENARIO", "N"),
                        help=argparse.SUPPRESS)  # the child process: run one cell's requests
    return parser.parse_args(argv)


def run_cell(system_name: str, engine: str, scenario: str, requests: int, forget_cookies: bool = False) -> None:
    """Run ``requests`` requests of one cell after a warm-up (``engine`` "baseline": no sessions)."""
    system = next(system for system in all_systems() if system.name == system_name)
    with tempfile.TemporaryDirectory(prefix="wsgisession-bench-") as tmp:
        env = Env.from_environ(Path(tmp))
        if engine == "baseline":
            cookie = None if scenario == "new" else "sessionid=" + "k" * 43
            requester = Requester(system.baseline(env), environ_template(scenario, cookie), None)
        else:
            from .micro import first_visit  # imported here: the parent never builds a system

            built = system.build(engine, env)
            if built.prepare is not None:
                built.prepare()
            value = first_visit(system, engine, built)
            cookie = None if scenario == "new" else f"{system.cookie_name}={value}"
            app = _forgetting(built.app) if forget_cookies and system_name == "wsgisession" else built.app
            requester = Requester(app, environ_template(scenario, cookie), system.cookie_name, built.forget)
        requester.loop(WARM_UP)
        gc.collect()
        gc.freeze()
        gc.disable()  # as in benchmarks.micro's timed loops
        requester.loop(requests)


def _forgetting(middleware: Any) -> Any:
    """``middleware`` with its back end's memo of verified cookies cleared before each request."""
    backend = middleware.backend
    memo = getattr(backend, "_identify", None) or backend._memo  # StoreBackend, SignedCookieBackend

    def app(environ: Any, start_response: Any) -> Any:
        memo.cache_clear()
        return middleware(environ, start_response)

    return app


def count(system: str, engine: str, scenario: str, requests: int, forget_cookies: bool = False) -> int:
    """Instructions the whole process executed for ``requests`` requests of the cell."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-m",
               "benchmarks.instructions", "--run-cell", system, engine, scenario, str(requests),
               *(["--forget-cookies"] if forget_cookies else [])]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"},
                          check=False)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{system} {engine} {scenario}: valgrind failed:\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_request(system: str, engine: str, scenario: str, requests: int, forget_cookies: bool = False) -> float:
    more, fewer = (count(system, engine, scenario, n, forget_cookies) for n in (3 * requests, requests))
    return (more - fewer) / (2 * requests)


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(raw)
    if args.run_cell:
        system, engine, scenario, requests = args.run_cell
        run_cell(system, engine, scenario, int(requests), args.forget_cookies)
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install -y valgrind)", file=sys.stderr)
        return 2
    systems = [system for system in all_systems() if system.name in args.systems.split(",")]
    engines = [engine for engine in ENGINES if engine in args.engines.split(",")]
    scenarios = [scenario for scenario in SCENARIOS if scenario in args.scenarios.split(",")]
    frameworks = {system.framework: system.name for system in reversed(systems)}  # one system per framework
    jobs = [(name, "baseline", scenario) for name in frameworks.values() for scenario in scenarios]
    jobs += [(system.name, engine, scenario) for system in systems for engine in engines for scenario in scenarios]
    print(f"{len(jobs)} cells under callgrind", file=sys.stderr, flush=True)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counts = pool.map(lambda job: per_request(*job, args.requests, args.forget_cookies), jobs)
        counted = dict(zip(jobs, counts, strict=True))
    print(header("benchmarks.instructions", raw))
    print()
    print("Instructions per request over the same framework without sessions (callgrind).")
    print()
    print("| engine | scenario | " + " | ".join(system.label for system in systems) + " | wsgisession / best peer |")
    print("|---|---|" + "---|" * (len(systems) + 1))
    for engine in engines:
        for scenario in scenarios:
            overheads = {system.name: counted[(system.name, engine, scenario)]
                         - counted[(frameworks[system.framework], "baseline", scenario)] for system in systems}
            peers = [value for name, value in overheads.items() if name != "wsgisession"]
            ratio = (f"{overheads['wsgisession'] / min(peers):.2f}"
                     if "wsgisession" in overheads and peers and min(peers) > 0 else "")
            cells = " | ".join(f"{overheads[system.name] / 1000:,.1f}k" for system in systems)
            print(f"| {ENGINE_LABELS[engine]} | {scenario} | {cells} | {ratio} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
