"""Engine registry: names to lazy import paths, so importing wsgisession imports no driver."""

from __future__ import annotations

from ._imports import import_path as import_path  # public here too
from ._names import ENGINES as ENGINES  # public here: engine name -> lazy import path
from .backends import SessionBackend
from .backends.server_side import StoreBackend
from .errors import ConfigurationError, SettingProblem
from .serializers import SERIALIZERS, Serializer
from .settings import Settings
from .signing import SessionIdSigner
from .stores.base import Locks, Store


def build_backend(settings: Settings) -> SessionBackend:
    """The back end ``SESSION_ENGINE`` names: a built-in engine, or a dotted path to a
    callable (such as a store class) that takes the Settings and returns a Store."""
    backend = _engine_backend(settings)
    if settings.migrate_from is None:
        return backend
    from .migration import migrating_backend  # only for SESSION_MIGRATE_FROM

    return migrating_backend(backend, settings, build_serializer(settings),
                             build_backend=build_backend, build_serializer=build_serializer)


def _engine_backend(settings: Settings) -> SessionBackend:
    factory = import_path("SESSION_ENGINE", ENGINES.get(settings.engine, settings.engine))
    made = factory(settings)
    if isinstance(made, SessionBackend):
        return made
    if isinstance(made, Store):
        return _store_backend(made, settings)
    received = f"{type(made).__name__} from {settings.engine!r}"
    raise ConfigurationError([SettingProblem(
        "SESSION_ENGINE", "a callable returning a Store (load, save, delete)", received)])


def _store_backend(store: Store, settings: Settings) -> StoreBackend:
    if settings.locking and not isinstance(store, Locks):
        raise ConfigurationError([SettingProblem(
            "SESSION_LOCKING", f"False: the {settings.engine} engine cannot lock sessions", "True")])
    if settings.secret_key is None:  # settings validation refuses this already
        raise ValueError("SECRET_KEY is required")
    signer = SessionIdSigner(settings.secret_key, settings.secret_key_fallbacks)
    return StoreBackend(store, signer, settings.lock_timeout if settings.locking else None)


def build_serializer(settings: Settings) -> Serializer:
    """The serializer ``SESSION_SERIALIZER`` names (a class built without arguments)."""
    if settings.serializer in SERIALIZERS:
        return SERIALIZERS[settings.serializer]()
    serializer = import_path("SESSION_SERIALIZER", settings.serializer)()
    if not (callable(getattr(serializer, "dumps", None)) and callable(getattr(serializer, "loads", None))):
        raise ConfigurationError([SettingProblem(
            "SESSION_SERIALIZER", "a class with dumps(value) -> str and loads(str)", repr(settings.serializer))])
    return serializer  # type: ignore[no-any-return]
