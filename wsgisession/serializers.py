"""How session values become strings and back.

Each session value is serialized on its own, so a store can save only the keys a
request changed. JSON is the default, extended with tags for the Python types a
session commonly holds; pickle is not offered.
"""

from __future__ import annotations

import base64
import json
import json.encoder
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID


class Serializer(Protocol):
    """Turns one session value into a string and back."""

    def dumps(self, value: Any) -> str:
        """Serialize ``value``; raise ``TypeError`` or ``ValueError`` if it cannot be."""
        ...

    def loads(self, text: str) -> Any:
        """Deserialize ``text``; raise ``ValueError`` if it is not valid."""
        ...


# --- encoding ----------------------------------------------------------------------

#: Types JSON holds as they are; containers of only these take the fast path.
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _make_encode() -> Callable[[Any], str]:
    """Compact JSON, NaN refused, non-ASCII kept: the C encoder built once, not per call."""
    public = json.JSONEncoder(separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    make: Any = getattr(json.encoder, "c_make_encoder", None)
    try:
        # The call JSONEncoder.iterencode makes for every value. No circular-reference
        # markers: the input is either flat or a fresh tree built by _tag.
        iterencode = make(None, public.default, json.encoder.encode_basestring, None, ":", ",", False, False, False)
    except TypeError:  # no C accelerator (PyPy), or its signature changed: the public API, a little slower
        return public.encode
    return lambda value: "".join(iterencode(value, 0))


_encode = _make_encode()
_encode_str = json.encoder.encode_basestring


def _tag(value: Any) -> Any:
    """``value`` as plain JSON data, with tagged objects for the types JSON lacks."""
    if type(value) in _PLAIN:
        return value
    tagger = _TAGGERS.get(type(value)) or _subclass_tagger(value)
    return tagger(value)


def _tag_dict(value: dict[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            # json.dumps would turn 1 into "1" and the value would come back different.
            raise TypeError(f"session dict keys must be strings, not {type(key).__name__}")
        out[key] = _tag(item)
    if len(out) == 1 and next(iter(out)) in _UNTAGGERS:
        [(key, item)] = out.items()
        return {_ESCAPE: [key, item]}  # an application's dict that looks like a tag
    return out


def _tag_list(value: Any) -> list[Any]:
    return [_tag(item) for item in value]


def _tag_set(tag: str) -> Callable[[Any], dict[str, Any]]:
    # Sorted, so that the same set always gives the same text: the session compares
    # texts to find values changed in place, and set order differs between processes.
    return lambda value: {tag: sorted(_tag_list(value), key=_encode)}


def _subclass_tagger(value: Any) -> Callable[[Any], Any]:
    for kind, tagger in _SUBCLASS_TAGGERS:
        if isinstance(value, kind):
            return tagger
    raise TypeError(f"values of type {type(value).__qualname__} cannot be stored in the session: use JSON types"
                    " (str, int, float, bool, None, list, dict) or datetime, date, time, Decimal, UUID,"
                    " bytes, set, frozenset, tuple")


def _same(value: Any) -> Any:
    return value


_ESCAPE = " di"

#: Exact type -> function returning JSON data. Each tag is an object of one reserved key.
_TAGGERS: dict[type, Callable[[Any], Any]] = {
    dict: _tag_dict,
    list: _tag_list,
    tuple: lambda value: {" t": _tag_list(value)},
    set: _tag_set(" s"),
    frozenset: _tag_set(" fs"),
    bytes: lambda value: {" b": base64.b64encode(value).decode("ascii")},
    UUID: lambda value: {" u": str(value)},
    Decimal: lambda value: {" dec": str(value)},
    datetime: lambda value: {" dt": value.isoformat()},
    date: lambda value: {" d": value.isoformat()},
    time: lambda value: {" tm": value.isoformat()},
}

#: Subclasses (an IntEnum, an OrderedDict, a namedtuple): checked in order, datetime before date.
_SUBCLASS_TAGGERS: list[tuple[type | tuple[type, ...], Callable[[Any], Any]]] = [
    ((str, int, float), _same),
    *((kind, tagger) for kind, tagger in _TAGGERS.items() if kind is not date),
    (date, _TAGGERS[date]),
]


# --- decoding ----------------------------------------------------------------------


def _untag_escape(payload: list[Any]) -> dict[str, Any]:
    key, value = payload
    if not isinstance(key, str):
        raise TypeError("escaped key is not a string")
    return {key: value}


#: Tag -> (the JSON type of its payload, the function rebuilding the value). Nothing
#: here imports, evaluates or unpickles what the data names.
_UNTAGGERS: dict[str, tuple[type, Callable[[Any], Any]]] = {
    " t": (list, tuple),
    " s": (list, set),
    " fs": (list, frozenset),
    " b": (str, lambda text: base64.b64decode(text, validate=True)),
    " u": (str, UUID),
    " dec": (str, Decimal),
    " dt": (str, datetime.fromisoformat),
    " d": (str, date.fromisoformat),
    " tm": (str, time.fromisoformat),
    _ESCAPE: (list, _untag_escape),
}


def _object_hook(obj: dict[str, Any]) -> Any:
    """Called by the decoder for every JSON object, innermost first."""
    if len(obj) != 1:
        return obj
    [(tag, payload)] = obj.items()
    entry = _UNTAGGERS.get(tag)
    if entry is None:
        return obj
    payload_type, rebuild = entry
    if not isinstance(payload, payload_type):
        raise ValueError(f"malformed session data: tag {tag!r} holds a {type(payload).__name__}")
    try:
        return rebuild(payload)
    except (ValueError, TypeError, ArithmeticError) as exc:  # Decimal raises InvalidOperation
        raise ValueError(f"malformed session data: tag {tag!r}: {exc}") from exc


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")  # refused on writing, so refused on reading


_decoder = json.JSONDecoder(object_hook=_object_hook, parse_constant=_refuse_constant)
_scan: Any = _decoder.scan_once  # type: ignore[attr-defined]  # set by JSONDecoder.__init__


class JSONSerializer:
    """Compact JSON with tagged types; NaN and infinities are refused (other JSON readers reject them).

    Besides JSON's own types it round-trips datetime (naive or aware; a zone becomes its
    fixed UTC offset), date, time, Decimal, UUID, bytes, set, frozenset and tuple, each
    as a JSON object of one reserved key (``{" t": [1, 2]}``); a dict of the application's
    that looks like one is escaped. Dict keys must be strings. Thread-safe.
    """

    def dumps(self, value: Any) -> str:
        """Serialize ``value``; ``TypeError`` naming the type for what JSON cannot hold,
        ``ValueError`` for NaN, infinities and values that contain themselves."""
        kind = type(value)
        if kind is str:
            return _encode_str(value)
        if kind is int:
            return int.__repr__(value)  # what the JSON encoder writes for an int
        if kind in _PLAIN or (kind is list and _PLAIN.issuperset(map(type, value))) or (
                kind is dict and _is_flat_dict(value)):
            return _encode(value)  # nothing to tag: plain JSON
        try:
            return _encode(_tag(value))
        except RecursionError:
            raise ValueError("the value contains itself or is nested too deeply") from None

    def loads(self, text: str) -> Any:
        """Deserialize ``text``; ``ValueError`` if it is not valid JSON or holds a malformed tag."""
        try:
            # The decoder's scanner reads a value that fills ``text`` (what dumps writes) in one
            # C call; anything else (whitespace around it, errors) takes the decoder's whole
            # path, which gives the same value or the same error.
            try:
                value, end = _scan(text, 0)
                if end == len(text):
                    return value
            except (StopIteration, ValueError, TypeError):
                pass
            return _decoder.decode(text)
        except RecursionError:
            raise ValueError("session data is nested too deeply") from None


def _is_flat_dict(value: dict[Any, Any]) -> bool:
    """String keys, plain values, and not a single reserved key (that must be escaped)."""
    return (_PLAIN.issuperset(map(type, value.values())) and _STRINGS.issuperset(map(type, value))
            and (len(value) != 1 or next(iter(value)) not in _UNTAGGERS))


_STRINGS = frozenset({str})

#: Serializers selectable by name in ``SESSION_SERIALIZER``.
SERIALIZERS: dict[str, type[Serializer]] = {"json": JSONSerializer}
