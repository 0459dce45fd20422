"""What a middleware shares with its sessions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .backends.contract import SessionBackend
from .events import Events
from .serializers import Serializer
from .settings import Settings


@dataclass(frozen=True)
class SessionContext:
    """What every session of one middleware shares: built once, read-only."""

    settings: Settings
    backend: SessionBackend
    serializer: Serializer
    clock: Callable[[], float]
    events: Events
