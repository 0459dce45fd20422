"""Counting what one request did to its store: commands sent, and whether it wrote.

Each engine has its own honest, cheap way to tell (see ``HOW_COUNTED``). Probes run in a
separate, untimed pass after the timed rounds: the Redis reply counter and the audit hook
they install would otherwise cost every timed request something.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from redis.connection import AbstractConnection

from .common import session_cookie

Headers = list[tuple[str, str]]

HOW_COUNTED = {
    "memory": "cmds —: no store outside the process. wrote: an entry of the library's in-process store was "
              "added or replaced (object identity, compared before and after the request).",
    "cookie": "cmds —: no store. wrote: the response set the session cookie (the cookie is the store).",
    "redis": "cmds: Redis `INFO commandstats` delta around the request, server-side, INFO excluded; it includes "
             "commands a Lua script ran, so `7 (2 sent)` means 2 commands from the client (replies redis-py read) "
             "ran 7 on the server. wrote: one of them has the `write` flag (`COMMAND INFO`).",
    "file": "cmds: file-system calls Python's audit hooks report for the store's folder (open, rename/replace, "
            "unlink, mkdir, listdir/scandir, plus every flock/lockf that takes a lock); stat() is not audited and "
            "not counted. wrote: a file in the store's folder was created, replaced, changed or removed (inode, "
            "mtime, size).",
    "sql": "cmds: statements SQLite ran on the library's connection (sqlite3 trace callback, so the BEGIN/COMMIT "
           "the driver issues count too). wrote: `PRAGMA data_version` changed, read from a separate connection.",
    "cached_db": "as for SQL, on the database behind the worker's memory cache: a read served from memory "
                 "runs no statement (a copy is re-read from the database once it is 2 s old).",
}


@dataclass
class Sample:
    """What one request did."""

    #: Commands, statements or file calls; None where there is no store to count.
    commands: int | None
    #: Redis only: commands the client sent (the rest ran inside scripts).
    sent: int | None
    #: Whether it wrote; None where that cannot be told.
    wrote: bool | None
    detail: Counter[str] = field(default_factory=Counter)
    set_cookie: bool = False


Request = Callable[[], Headers]


class Probe:
    """Runs one request and tells what it did; subclasses know one kind of store."""

    def __init__(self, cookie_name: str) -> None:
        self.cookie_name = cookie_name

    def measure(self, request: Request) -> Sample:
        sample, headers = self._measure(request)
        sample.set_cookie = session_cookie(headers, self.cookie_name) is not None
        return sample

    def _measure(self, request: Request) -> tuple[Sample, Headers]:
        return Sample(None, None, None), request()

    def close(self) -> None:
        """Release connections the probe opened."""


class CookieProbe(Probe):
    def _measure(self, request: Request) -> tuple[Sample, Headers]:
        headers = request()
        return Sample(None, None, session_cookie(headers, self.cookie_name) is not None), headers


class MemoryProbe(Probe):
    def __init__(self, cookie_name: str, entries: Callable[[], Mapping[Any, object]]) -> None:
        super().__init__(cookie_name)
        self.entries = entries

    def _measure(self, request: Request) -> tuple[Sample, Headers]:
        before = dict(self.entries())  # holds the old objects, so a new one cannot reuse an id
        headers = request()
        after = self.entries()
        changed = sum(1 for key, value in after.items() if before.get(key) is not value)
        changed += sum(1 for key in before if key not in after)
        return Sample(None, None, changed > 0, Counter({"entries written": changed} if changed else {})), headers


class _ReplyCounter:
    """Counts the replies redis-py reads while armed: one per command a client sent."""

    count = 0
    armed = False
    installed = False

    @classmethod
    def install(cls) -> None:
        if cls.installed:
            return
        original = AbstractConnection.read_response

        def read_response(self: Any, *args: Any, **kwargs: Any) -> Any:
            if cls.armed:
                cls.count += 1
            return original(self, *args, **kwargs)

        AbstractConnection.read_response = read_response  # type: ignore[method-assign]
        cls.installed = True


class RedisProbe(Probe):
    def __init__(self, cookie_name: str, url: str) -> None:
        super().__init__(cookie_name)
        self.client = redis.Redis.from_url(url)
        self._writes: dict[str, bool] = {}
        _ReplyCounter.install()

    def _calls(self) -> dict[str, int]:
        stats: dict[str, Any] = self.client.info("commandstats")
        return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}

    def _is_write(self, command: str) -> bool:
        if command not in self._writes:
            flags: list[str] = []
            if "|" not in command:  # subcommands (client|setinfo, script|load) never write keys
                info = self.client.execute_command("COMMAND", "INFO", command)  # type: ignore[no-untyped-call]
                flags = info.get(command, {}).get("flags", []) if isinstance(info, dict) else []
            self._writes[command] = "write" in flags
        return self._writes[command]

    def _measure(self, request: Request) -> tuple[Sample, Headers]:
        before = self._calls()
        _ReplyCounter.count, _ReplyCounter.armed = 0, True
        try:
            headers = request()
        finally:
            _ReplyCounter.armed = False
        after = self._calls()
        delta = Counter({name: calls - before.get(name, 0) for name, calls in after.items()
                         if name != "info" and calls != before.get(name, 0)})
        wrote = any(self._is_write(name) for name in delta)
        return Sample(sum(delta.values()), _ReplyCounter.count, wrote, delta), headers

    def close(self) -> None:
        self.client.close()


class SqlProbe(Probe):
    def __init__(self, cookie_name: str, database: Path,
                 trace: Callable[[Callable[[str], None]], None] | None) -> None:
        super().__init__(cookie_name)
        self.statements: list[str] = []
        self.traced = trace is not None
        if trace is not None:
            trace(self.statements.append)
        self.connection = sqlite3.connect(database, isolation_level=None)

    def _version(self) -> int:
        return int(self.connection.execute("PRAGMA data_version").fetchone()[0])

    def _measure(self, request: Request) -> tuple[Sample, Headers]:
        before = self._version()
        self.statements.clear()
        headers = request()
        wrote = self._version() != before
        if not self.traced:
            return Sample(None, None, wrote), headers
        detail = Counter(statement.split(None, 1)[0].upper() for statement in self.statements if statement.strip())
        return Sample(len(self.statements), None, wrote, detail), headers

    def close(self) -> None:
        self.connection.close()


#: Audit events that are file-system calls, and the name the details use.
FILE_EVENTS = {
    "open": "open", "os.rename": "rename", "os.remove": "unlink", "os.rmdir": "rmdir", "os.mkdir": "mkdir",
    "os.listdir": "listdir", "os.scandir": "listdir", "os.truncate": "truncate", "os.utime": "utime",
    "os.chmod": "chmod", "fcntl.flock": "flock", "fcntl.lockf": "lockf",
}
_LOCK_EVENTS = ("fcntl.flock", "fcntl.lockf")


class _FileEvents:
    """An audit hook (they cannot be removed: installed for the counting pass only)."""

    counter: Counter[str] | None = None
    root = ""
    installed = False

    @classmethod
    def install(cls) -> None:
        if not cls.installed:
            sys.addaudithook(cls.hook)
            cls.installed = True

    @classmethod
    def hook(cls, event: str, args: tuple[Any, ...]) -> None:
        counter = cls.counter
        if counter is None or event not in FILE_EVENTS:
            return
        if event in _LOCK_EVENTS:
            import fcntl

            if len(args) > 1 and isinstance(args[1], int) and args[1] & fcntl.LOCK_UN:
                return  # an unlock, not a lock taken
        elif not (args and isinstance(args[0], (str, bytes, os.PathLike))
                  and os.fsdecode(args[0]).startswith(cls.root)):
            return
        counter[FILE_EVENTS[event]] += 1

    @classmethod
    @contextmanager
    def counting(cls, root: Path) -> Iterator[Counter[str]]:
        counter: Counter[str] = Counter()
        cls.counter, cls.root = counter, str(root)
        try:
            yield counter
        finally:
            cls.counter = None


class FileProbe(Probe):
    def __init__(self, cookie_name: str, folder: Path, root: Path) -> None:
        """Writes are looked for in ``folder``; file calls are counted for paths under ``root``."""
        super().__init__(cookie_name)
        self.folder, self.root = folder, root
        _FileEvents.install()

    def _snapshot(self) -> dict[str, tuple[int, int, int]]:
        files = {}
        for directory, _, names in os.walk(self.folder):
            for name in names:
                path = os.path.join(directory, name)
                try:
                    stat = os.lstat(path)
                except FileNotFoundError:
                    continue
                files[path] = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        return files

    def _measure(self, request: Request) -> tuple[Sample, Headers]:
        before = self._snapshot()
        with _FileEvents.counting(self.root) as counter:
            headers = request()
        after = self._snapshot()
        changed = sum(1 for path, state in after.items() if before.get(path) != state)
        changed += sum(1 for path in before if path not in after)
        return Sample(sum(counter.values()), None, changed > 0, Counter(counter)), headers
