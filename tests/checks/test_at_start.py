"""Mistakes refused when the middleware is built, with no I/O but a look at the file system."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.conftest import SECRET
from wsgisession import ConfigurationError, SessionMiddleware


def build(settings: dict[str, object]) -> SessionMiddleware:
    return SessionMiddleware(lambda environ, start_response: [], {"SECRET_KEY": SECRET, **settings})


def test_a_missing_memcached_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in sys.modules if name.split(".")[0] == "pymemcache"] + ["pymemcache"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed
    monkeypatch.delitem(sys.modules, "wsgisession.stores.memcached", raising=False)
    with pytest.raises(ConfigurationError) as caught:
        build({"SESSION_ENGINE": "cache", "SESSION_CACHE_URL": "memcached://127.0.0.1:11211"})
    assert "SESSION_CACHE_URL" in str(caught.value)
    assert "pip install 'wsgi-session[memcached]'" in str(caught.value)


def test_a_sqlite_file_under_a_regular_file_is_refused(tmp_path: Path) -> None:
    # Root writes anywhere mode bits allow none: a path through a file fails for every user (ENOTDIR).
    (tmp_path / "not-a-folder").write_text("")
    with pytest.raises(ConfigurationError, match=r"SESSION_DB_URL.*not-a-folder does not exist") as caught:
        build({"SESSION_DB_URL": f"sqlite:///{tmp_path / 'not-a-folder' / 'sessions.sqlite3'}"})
    assert "absolute path" in str(caught.value)


def test_a_sqlite_file_in_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"SESSION_DB_URL.*missing does not exist"):
        build({"SESSION_DB_URL": f"sqlite:///{tmp_path / 'missing' / 'sessions.sqlite3'}"})
    assert list(tmp_path.iterdir()) == []


def test_the_relative_default_under_a_service_manager_is_refused(tmp_path: Path) -> None:
    """A service manager starts the app in / as an unprivileged user: the default SQLite file cannot be made there.

    A forked child really becomes the user nobody (uid 65534), so the kernel, not the mode
    bits root ignores, says no. (It forks rather than runs a new Python: the interpreter
    may live where nobody cannot read.)
    """
    if os.geteuid() != 0:
        pytest.fail("this test switches to the user nobody: run it as root", pytrace=False)
    build({"SESSION_DB_URL": f"sqlite:///{tmp_path / 'warm.sqlite3'}"})  # every module imported before the switch
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        message = "built without error"
        try:
            os.setgid(65534)
            os.setuid(65534)
            os.chdir("/")
            build({})
        except ConfigurationError as exc:
            message = str(exc)
        finally:
            os.write(writer, message.encode())
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        message = pipe.read()
    os.waitpid(child, 0)
    assert "SESSION_DB_URL" in message
    assert "sqlite:///wsgisession.sqlite3" in message
    assert "relative to the working directory /" in message
    assert "uid 65534" in message
    assert not os.path.exists("/wsgisession.sqlite3")
