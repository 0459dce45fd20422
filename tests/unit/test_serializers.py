"""The tagged JSON serializer: exact round trips of the tagged types, strict refusals."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections import OrderedDict
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wsgisession.serializers import JSONSerializer

serializer = JSONSerializer()

#: One value of every tagged type.
TAGGED_VALUES: dict[str, Any] = {
    "datetime_naive": datetime(2024, 2, 29, 23, 59, 58, 123456),
    "datetime_utc": datetime(2024, 2, 29, 23, 59, 58, 1, tzinfo=UTC),
    "datetime_offset": datetime(1999, 12, 31, 12, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    "date": date(1970, 1, 1),
    "time": time(13, 14, 15, 16),
    "time_aware": time(1, 2, tzinfo=timezone(timedelta(hours=2))),
    "decimal": Decimal("12.3400"),
    "decimal_big": Decimal("-1E+1000"),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "bytes": b"\x00\xff binary \x80",
    "bytes_empty": b"",
    "set": {1, "two", 3.5, None, (4, 5)},
    "set_empty": set(),
    "frozenset": frozenset({"a", frozenset({"b"})}),
    "tuple": (1, "a", None, [2, 3]),
    "tuple_empty": (),
}


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same type all the way down (a tuple stays a tuple)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[key], b[key]) for key in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (set, frozenset)):
        return {(type(x), x) for x in a} == {(type(x), x) for x in b}
    if isinstance(a, Decimal):
        return a.as_tuple() == b.as_tuple()  # 1.10 stays 1.10, not 1.1
    if isinstance(a, (datetime, time)) and a.tzinfo is not None:
        return a == b and a.utcoffset() == b.utcoffset()
    return bool(a == b)


def round_trip(value: Any) -> Any:
    return serializer.loads(serializer.dumps(value))


@pytest.mark.parametrize("name", TAGGED_VALUES)
def test_every_tagged_type_round_trips_exactly(name: str) -> None:
    value = TAGGED_VALUES[name]
    assert same(round_trip(value), value)


@pytest.mark.parametrize("name", TAGGED_VALUES)
def test_tagged_types_round_trip_nested_in_containers(name: str) -> None:
    value = TAGGED_VALUES[name]
    nested: Any = {"list": [value, [value]], "dict": {"inner": {"deeper": value}}, "tuple": (value, (value,))}
    with contextlib.suppress(TypeError):  # a value that is not hashable cannot be in a set
        nested.update(set={value}, frozenset=frozenset({value}))
    assert same(round_trip(nested), nested)


def test_all_tagged_types_in_one_value() -> None:
    assert same(round_trip(TAGGED_VALUES), TAGGED_VALUES)


def test_a_zone_becomes_its_fixed_offset_at_the_same_instant() -> None:
    paris = datetime(2024, 7, 1, 12, tzinfo=ZoneInfo("Europe/Paris"))
    back = round_trip(paris)
    assert back == paris and back.utcoffset() == timedelta(hours=2)


def test_plain_json_is_unchanged_and_compact() -> None:
    value = {"a": [1, 2.5, "é", None, True], "b": {"c": "d"}}
    assert serializer.dumps(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert serializer.dumps("text") == '"text"' and serializer.dumps(12) == "12"


@pytest.mark.parametrize("looks_like_a_tag", [
    {" t": [1, 2]}, {" dt": "2020-01-01T00:00:00"}, {" di": ["x", 1]}, {" b": "not base64!"}, {" s": [[1]]},
    {" t": {" t": [1]}},
])
def test_a_users_dict_that_looks_like_a_tag_round_trips(looks_like_a_tag: dict[str, Any]) -> None:
    assert same(round_trip(looks_like_a_tag), looks_like_a_tag)
    assert same(round_trip([looks_like_a_tag, (looks_like_a_tag,)]), [looks_like_a_tag, (looks_like_a_tag,)])


def test_dicts_of_more_keys_with_tag_names_are_plain_dicts() -> None:
    value = {" t": [1], " u": "x"}
    assert same(round_trip(value), value)


@pytest.mark.parametrize("value", [{1: "a"}, {"ok": {(1, 2): "b"}}, [{None: 1}], {True: 1}, {1.5: 2}])
def test_non_string_keys_are_refused(value: Any) -> None:
    with pytest.raises(TypeError, match="keys must be strings"):
        serializer.dumps(value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), [float("-inf")], {"x": (float("nan"),)}])
def test_nan_and_infinities_are_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        serializer.dumps(value)


@pytest.mark.parametrize("value", [object(), bytearray(b"x"), timedelta(1), [1, {"a": complex(1, 2)}], {"s": {1j}}])
def test_other_types_are_refused_naming_the_type(value: Any) -> None:
    with pytest.raises(TypeError, match=r"values of type \w+ cannot be stored"):
        serializer.dumps(value)


def test_a_value_containing_itself_is_a_value_error() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        serializer.dumps(loop)


def test_subclasses_serialize_as_their_base() -> None:
    assert round_trip(OrderedDict(a=1)) == {"a": 1}
    assert same(round_trip(datetime(2020, 1, 1)), datetime(2020, 1, 1))


def test_sets_give_the_same_text_whatever_their_order() -> None:
    assert serializer.dumps({"b", "a", "c"}) == serializer.dumps({"c", "b", "a"}) == '{" s":["a","b","c"]}'


@pytest.mark.parametrize("text", [
    "", "{", "nope", "[1,]", "NaN", "[-Infinity]",
    '{" t":1}', '{" s":"ab"}', '{" s":[[1]]}', '{" fs":[{"a":1}]}', '{" b":"***"}', '{" b":1}',
    '{" u":"not-a-uuid"}', '{" u":12}', '{" dec":"twelve"}', '{" dec":1.5}', '{" dt":"yesterday"}',
    '{" d":"2020-13-01"}', '{" tm":"25:00"}', '{" di":[1,2]}', '{" di":["a"]}', '{" di":"a"}',
    "[" * 100_000 + "]" * 100_000,
])
def test_malformed_text_and_tags_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        serializer.loads(text)


# --- properties --------------------------------------------------------------------

_offsets = st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23)).map(
    lambda delta: timezone(timedelta(minutes=delta // timedelta(minutes=1))))
_hashable_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
    | st.binary() | st.uuids() | st.dates() | st.times(timezones=st.none() | _offsets)
    | st.datetimes(timezones=st.none() | _offsets)
    | st.decimals(allow_nan=False, allow_infinity=False)
)
_hashables = st.recursive(_hashable_scalars, lambda inner: st.tuples(inner, inner) | st.frozensets(inner, max_size=3),
                          max_leaves=6)
_values = st.recursive(
    _hashables,
    lambda inner: (st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4)
                   | st.lists(inner, max_size=3).map(tuple) | st.sets(_hashables, max_size=3)
                   | st.dictionaries(st.sampled_from([" t", " s", " di", " b", " x"]), inner, min_size=1, max_size=1)),
    max_leaves=20,
)


@given(_values)
def test_loads_inverts_dumps_type_exactly(value: Any) -> None:
    assert same(round_trip(value), value)


_keys_unlike_tags = st.text().filter(lambda key: not key.startswith(" "))


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(), lambda inner: st.lists(inner) | st.dictionaries(_keys_unlike_tags, inner),
                    max_leaves=20))
def test_plain_json_values_are_written_as_json_writes_them(value: Any) -> None:
    assert serializer.dumps(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)
