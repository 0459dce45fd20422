"""How session values become strings and back.

Each session value is serialized on its own, so a store can save only the keys a
request changed. JSON is the default; pickle is not offered.
"""

from __future__ import annotations

import json
from typing import Any, Protocol


class Serializer(Protocol):
    """Turns one session value into a string and back."""

    def dumps(self, value: Any) -> str:
        """Serialize ``value``; raise ``TypeError`` or ``ValueError`` if it cannot be."""
        ...

    def loads(self, text: str) -> Any:
        """Deserialize ``text``; raise ``ValueError`` if it is not valid."""
        ...


class JSONSerializer:
    """Compact JSON; NaN and infinities are refused, since other JSON readers reject them."""

    def __init__(self) -> None:
        self._encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=False, ensure_ascii=False)
        self._decoder = json.JSONDecoder()

    def dumps(self, value: Any) -> str:
        return self._encoder.encode(value)

    def loads(self, text: str) -> Any:
        return self._decoder.decode(text)


#: Serializers selectable by name in ``SESSION_SERIALIZER``.
SERIALIZERS: dict[str, type[Serializer]] = {"json": JSONSerializer}
