"""Importing what a setting names by dotted path, with a ConfigurationError naming the setting if it cannot be."""

from __future__ import annotations

import importlib
from typing import Any

from .errors import ConfigurationError, SettingProblem


def import_path(setting: str, path: str) -> Any:
    """Import ``"pkg.module:attr.attr"`` or ``"pkg.module.attr"``; ConfigurationError naming ``setting``."""
    module_name, _, attrs = path.partition(":") if ":" in path else path.rpartition(".")
    try:
        target: Any = importlib.import_module(module_name)
        for attr in attrs.split("."):
            target = getattr(target, attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError([SettingProblem(setting, "an importable dotted path", f"{path!r} ({exc})")]) from exc
    return target
