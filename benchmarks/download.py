"""Download speed of a file served through ``wsgi.file_wrapper``: bare app against SessionMiddleware.

    python -m benchmarks.download                    # 50 MB, 15 rounds, gunicorn sync + gthread, waitress, uWSGI
    python -m benchmarks.download --size-mb 20 --rounds 3 --servers gunicorn-sync

Each server (1 worker; uWSGI's binary is the one ``pip install uwsgi`` puts beside this
Python) serves ``benchmarks.download_app`` on a free loopback port: the bare app and the one
whose page reads the session, side by side. Rounds alternate the two; each download is read
to the end over one fresh connection. The table gives the median MB/s of each and their
ratio: 1.00 means the middleware kept the server's own file path (sendfile on gunicorn and
uWSGI, waitress's file buffer).
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .machine import Busy, header
from .report import table

SERVERS = {
    "gunicorn-sync": ["-m", "gunicorn", "--workers", "1", "--worker-class", "sync"],
    "gunicorn-gthread": ["-m", "gunicorn", "--workers", "1", "--worker-class", "gthread", "--threads", "2"],
    "waitress": ["-m", "waitress", "--threads", "2"],
    "uwsgi": ["--processes", "1", "--disable-logging", "--die-on-term"],
}
#: name -> (factory, for gunicorn and waitress; attribute, for uWSGI)
APPS = {"bare": ("benchmarks.download_app:bare", "benchmarks.download_app:bare_app"),
        "SessionMiddleware": ("benchmarks.download_app:with_session", "benchmarks.download_app:session_app")}
REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(server: str, name: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    factory, attribute = APPS[name]
    if server == "waitress":
        command = [sys.executable, *SERVERS[server], "--listen", f"127.0.0.1:{port}", "--call", factory]
    elif server == "uwsgi":  # pip install uwsgi (builds from source): the binary beside this Python
        command = [str(Path(sys.executable).with_name("uwsgi")), *SERVERS[server], "--http-socket",
                   f"127.0.0.1:{port}", "--module", attribute, "--pythonpath", str(REPO_ROOT),
                   "--virtualenv", sys.prefix]
    else:
        command = [sys.executable, *SERVERS[server], "--bind", f"127.0.0.1:{port}", f"{factory}()"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            download(port)
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{server} serving {name} did not answer on port {port}")


def download(port: int) -> tuple[int, float]:
    """Bytes read and seconds taken for one whole download over a fresh connection."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        size = 0
        while chunk := response.read(1 << 20):
            size += len(chunk)
    finally:
        connection.close()
    return size, time.perf_counter() - started


def measure(server: str, rounds: int, env: dict[str, str], expected: int) -> dict[str, float]:
    ports = {name: free_port() for name in APPS}
    processes = [start(server, name, ports[name], env) for name in APPS]
    speeds: dict[str, list[float]] = {name: [] for name in APPS}
    try:
        for _ in range(rounds):
            for name in APPS:
                size, seconds = download(ports[name])
                if size != expected:
                    raise SystemExit(f"{server}/{name}: got {size} bytes, not {expected}")
                speeds[name].append(size / seconds / 1e6)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
    return {name: statistics.median(values) for name, values in speeds.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--servers", default=",".join(SERVERS))
    args = parser.parse_args(argv)
    busy = Busy()
    rows = []
    with tempfile.TemporaryDirectory(prefix="wsgisession-bench-") as folder:
        path = Path(folder) / "download.bin"
        path.write_bytes(os.urandom(args.size_mb * 1_000_000))
        env = {**os.environ, "WSGISESSION_BENCH_FILE": str(path),
               "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(REPO_ROOT)]))}
        for server in args.servers.split(","):
            speeds = measure(server, args.rounds, env, path.stat().st_size)
            bare, wrapped = speeds["bare"], speeds["SessionMiddleware"]
            rows.append([server, f"{bare:.0f}", f"{wrapped:.0f}", f"{wrapped / bare:.2f}"])
    print(header("benchmarks.download", sys.argv[1:] if argv is None else argv))
    print(f"\n{args.size_mb} MB file, 4 KB blocks, median of {args.rounds} downloads each; {busy.summary()}\n")
    print(table(["server", "bare MB/s", "SessionMiddleware MB/s", "ratio"], rows))


if __name__ == "__main__":
    main()
