"""What both ways of ``wsgisession migrate`` share: a run's counts, its progress callback, the stores' back ends.

A module of its own so that :mod:`.records` need not import :mod:`.ahead`, which calls it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..backends import SessionBackend
from ..backends.server_side import StoreBackend
from ..engines import build_backend
from ..errors import ConfigurationError, SettingProblem
from ..settings import Settings

Progress = Callable[["Moved"], object]


@dataclass
class Moved:
    """What a run did so far."""

    #: Sessions written to the new store (and deleted from the old one).
    moved: int = 0
    #: Sessions that had expired: deleted, not copied.
    expired: int = 0
    #: Sessions that are not authentic or cannot be read: left where they are, for a look.
    refused: int = 0


def server_side(settings: Settings, option: str) -> StoreBackend:
    """The store back end ``settings`` name; ConfigurationError for one that keeps sessions in cookies."""
    backend: SessionBackend = build_backend(settings)
    if not isinstance(backend, StoreBackend):
        raise ConfigurationError([SettingProblem(
            "SESSION_ENGINE", f"a server-side engine for `wsgisession migrate {option}` (signed cookies live in"
            " browsers: they are moved at each request)", repr(settings.engine))])
    return backend
