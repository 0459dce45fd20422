"""One adapter per session system: each wires the shared app logic into its framework.

An adapter is a :class:`System`. The harness asks it for its framework's bare app
(the baseline its overhead is measured against) and for one app per engine.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from importlib.metadata import version
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

    from ..common import Built, Env


class System(ABC):
    """A session library (and the framework it lives in)."""

    #: Name on the command line and in the table.
    name: str
    #: The framework without sessions that this system's overhead is measured against.
    framework: str
    #: Distribution names whose versions the header line reports.
    distributions: tuple[str, ...]
    #: The session cookie's name.
    cookie_name: str

    def versions(self) -> str:
        return ", ".join(f"{dist} {version(dist)}" for dist in self.distributions)

    #: The name in tables.
    label: str

    @abstractmethod
    def baseline(self, env: Env) -> WSGIApplication:
        """The same app and framework with no session layer."""

    @abstractmethod
    def build(self, engine: str, env: Env) -> Built:
        """The app with sessions kept by ``engine``; raise Unavailable when it cannot run here."""

    def close(self) -> None:
        """Release what the built apps hold (connections, keys outside the run's prefix)."""
        return None


def all_systems() -> list[System]:
    """Every adapter, in table order (imported here so that ``--systems`` can pick before importing)."""
    from .beaker import BeakerSystem
    from .django import DjangoSystem
    from .flask import FlaskSystem
    from .wsgisession import WsgisessionSystem

    return [WsgisessionSystem(), BeakerSystem(), FlaskSystem(), DjangoSystem()]
