"""What a save writes: pure functions over a session's data and what was loaded.

Values are compared serialized, key by key, so a save writes only what changed, and a
list or dict changed in place (``session["cart"].append(x)``) is caught without
``session.modified = True``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import SessionDataError

# Values of these types cannot change in place, so a read of one never needs re-checking.
_IMMUTABLE = (str, int, float, bool, type(None))

Dumps = Callable[[Any], str]

#: The keys a save deletes when it deletes none.
NO_KEYS: frozenset[str] = frozenset()


def serialize(dumps: Dumps, key: str, value: Any) -> str:
    """``value`` serialized; SessionDataError naming ``key`` if it cannot be, or if no store can
    write the key or the text (a lone surrogate, which ``json.loads`` makes of client JSON)."""
    try:
        text = dumps(value)
    except (TypeError, ValueError) as exc:
        raise SessionDataError(key, str(exc)) from exc
    if not (text.isascii() and key.isascii()):  # O(1) on CPython: next to free on the hot path
        for what, string in (("key", key), ("value", text)):
            char = unencodable(string)
            if char is not None:
                raise SessionDataError(key, f"the {what} holds a lone surrogate (U+{ord(char):04X}), which no store"
                                            " can encode as UTF-8")
    return text


def unencodable(text: str) -> str | None:
    """The first character of ``text`` that UTF-8 cannot encode (a lone surrogate), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return text[exc.start]
    return None


def serialize_all(dumps: Dumps, data: Mapping[str, Any]) -> dict[str, str]:
    """Every value, serialized (for a new session, or a back end that writes it whole)."""
    return {key: serialize(dumps, key, value) for key, value in data.items()}


def mutated(dumps: Dumps, data: Mapping[str, Any], loaded: Mapping[str, str], dirty: set[str]) -> dict[str, str]:
    """Containers that were loaded, not set again, and now serialize differently."""
    changed = {}
    for key, value in data.items():
        if key not in dirty and key in loaded and not isinstance(value, _IMMUTABLE):
            text = serialize(dumps, key, value)
            if text != loaded[key]:
                changed[key] = text
    return changed


def changes(dumps: Dumps, data: Mapping[str, Any], loaded: Mapping[str, str],
            dirty: set[str]) -> tuple[dict[str, str], frozenset[str]]:
    """The values to write (set or changed in place, unchanged ones left out) and the keys deleted."""
    # Every key set again (dirty keys are always in data): none can have changed unseen.
    changed = mutated(dumps, data, loaded, dirty) if len(dirty) < len(data) else {}
    for key in dirty:
        text = serialize(dumps, key, data[key])
        if text != loaded.get(key):
            changed[key] = text
    for key in loaded:
        if key not in data:
            return changed, frozenset(loaded.keys() - data.keys())
    return changed, NO_KEYS


def after_save(loaded: Mapping[str, str], changed: Mapping[str, str], deleted: frozenset[str],
               replaced: bool) -> dict[str, str]:
    """What the store holds for this session once a save of ``changed``/``deleted`` landed."""
    if replaced:
        return dict(changed)
    if not deleted:
        return {**loaded, **changed}
    return {**{key: text for key, text in loaded.items() if key not in deleted}, **changed}
