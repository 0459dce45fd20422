"""Any session data, on every engine: exact round trips, or a clear error and nothing written (SPEC 5).

The app stores the values the test hands it through the WSGI environ (the objects
themselves, not text) and answers with ``repr`` of what it reads. Values are shown through
:func:`canonical`: it names every type (a tuple must come back a tuple, 1 must not come
back True) and puts sets in a fixed order, since a set's order depends on how it was built.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from datetime import timedelta, timezone
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from webtest import TestResponse

from tests.property.support import Client, per_engine
from wsgisession import CookieTooLargeError, SessionDataError, get_session
from wsgisession.cookies import BROWSER_COOKIE_LIMIT
from wsgisession.session import Session

pytestmark = pytest.mark.filterwarnings("error::werkzeug.middleware.lint.WSGIWarning")

#: Where the test hands the app its values: environ keys with a dot, as PEP 3333 wants for extensions.
VALUES, THEN = "test.session_values", "test.then"


def canonical(value: Any) -> Any:
    """``value`` as nested tuples naming every type, sets sorted: equal iff same types and values."""
    kind = type(value).__name__
    if isinstance(value, dict):
        return (kind, [(key, canonical(item)) for key, item in value.items()])
    if isinstance(value, (list, tuple)):
        return (kind, [canonical(item) for item in value])
    if isinstance(value, (set, frozenset)):
        return (kind, sorted(repr(canonical(item)) for item in value))
    return (kind, repr(value))


def shown(values: dict[str, Any]) -> str:
    """What the app answers for a session holding ``values``.

    The session's own keys are sorted: engines that keep a session as a hash (Redis) do not
    keep their order, and nothing promises it. Dicts inside a value keep theirs, exactly.
    """
    return repr([(key, canonical(values[key])) for key in sorted(values)])


def assert_same_text(shown_text: str, expected: str) -> None:
    """Equal texts; the first difference only (pytest's diff of two 300 KB texts takes minutes)."""
    if shown_text != expected:
        at = next((i for i, (a, b) in enumerate(zip(shown_text, expected, strict=False)) if a != b),
                  min(len(shown_text), len(expected)))
        pytest.fail(f"read back {shown_text[max(0, at - 80):at + 80]!r}\n"
                    f"expected  {expected[max(0, at - 80):at + 80]!r} (at character {at})", pytrace=False)


def data_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """``/store`` adds ``environ[VALUES]`` to the session, then runs ``environ[THEN]`` on it if given;
    every path answers ``repr`` of what the session holds."""
    session = get_session(environ)
    if environ["PATH_INFO"] == "/store":
        session.update(environ[VALUES])
        if THEN in environ:
            environ[THEN](session)
    try:
        body = shown(dict(session)).encode("utf-8")
    except RecursionError:  # a value that contains itself, about to be refused
        body = b"not shown"
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


class DataClient(Client):
    """A client of :func:`data_app` on one engine."""

    def __init__(self, engine_settings: dict[str, Any]) -> None:
        super().__init__(data_app, engine_settings)
        self.signed = engine_settings["SESSION_ENGINE"] == "signed_cookies"

    def store(self, values: dict[str, Any], cookie: str | None = None,
              then: Callable[[Session], None] | None = None) -> TestResponse:
        environ: dict[str, Any] = {VALUES: values}
        if then is not None:
            environ[THEN] = then
        return self.get("/store", None if cookie is None else f"sessionid={cookie}", **environ)

    def read(self, cookie: str) -> TestResponse:
        return self.get("/read", f"sessionid={cookie}")

    def assert_round_trip(self, values: dict[str, Any]) -> None:
        """Store ``values`` in a new session, read them back in a second request: the same, exactly."""
        response = self.store(values)
        assert_same_text(response.text, shown(values))
        cookie = self.session_cookie(response)
        assert cookie, "a session with data was not saved"
        response = self.read(cookie)
        assert_same_text(response.text, shown(values))
        assert self.session_cookie(response) is None, "reading an unchanged session must write nothing"


@pytest.fixture
def client(engine_settings: dict[str, Any]) -> DataClient:
    return DataClient(engine_settings)


# --- strategies ------------------------------------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=30)
#: The serializer's reserved keys: a dict of the application's that uses one must be escaped.
TAGS = [" t", " s", " fs", " b", " u", " dec", " dt", " d", " tm", " di"]
KEYS = st.sampled_from(TAGS) | TEXT
#: Fixed UTC offsets, to the second (old local mean times had seconds): what a datetime's zone
#: becomes. Not to the microsecond: CPython 3.11's fromisoformat reads "+00:00:00.000001" as UTC.
ZONES = st.none() | st.integers(-86_399, 86_399).map(lambda seconds: timezone(timedelta(seconds=seconds)))
INTS = st.integers(-(2**63), 2**63)
#: ``fold`` is left out: it only picks one of two wall times in a named zone, and named zones are not
#: kept (they become fixed offsets), so it is not written; equality ignores it too.
HASHABLE_LEAVES = st.one_of(
    st.none(), st.booleans(), INTS, st.floats(allow_nan=False, allow_infinity=False), TEXT,
    st.datetimes(timezones=ZONES).map(lambda moment: moment.replace(fold=0)), st.dates(),
    st.times(timezones=ZONES).map(lambda moment: moment.replace(fold=0)), st.decimals(allow_nan=False),
    st.uuids(), st.binary(max_size=40),
)
HASHABLES = st.recursive(HASHABLE_LEAVES, lambda inner: st.lists(inner, max_size=3).map(tuple)
                         | st.frozensets(inner, max_size=3), max_leaves=6)
LEAVES = st.one_of(HASHABLE_LEAVES, st.decimals(), st.sets(HASHABLES, max_size=4), st.frozensets(HASHABLES, max_size=4))
VALUES_ANY = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.lists(inner, max_size=4).map(tuple)
    | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)
SESSIONS = st.dictionaries(KEYS, VALUES_ANY, min_size=1, max_size=5)


@st.composite
def deeply_nested(draw: st.DrawFn, depth: int = 50) -> Any:
    """A leaf inside ``depth`` containers: lists, tuples, dicts of one key (tag-like keys included)."""
    value = draw(LEAVES)
    for kind in draw(st.lists(st.sampled_from(["list", "tuple", "dict"]), min_size=depth, max_size=depth)):
        value = {draw(KEYS): value} if kind == "dict" else [value] if kind == "list" else (value,)
    return value


def _huge_text(seed: int, incompressible: bool) -> str:
    """100,000 characters: random ones from the whole BMP but surrogates, or a short run repeated."""
    rng = random.Random(seed)
    if incompressible:
        return "".join(chr(rng.choice((rng.randrange(0x20, 0xD800), rng.randrange(0xE000, 0x10000))))
                       for _ in range(100_000))
    return ("".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(1, 20))) * 100_000)[:100_000]


# --- round trips -----------------------------------------------------------------------


def round_trip_or_too_large(client: DataClient, values: dict[str, Any]) -> None:
    """A round trip; for ``signed_cookies``, CookieTooLargeError instead when the cookie would not fit."""
    if not client.signed:
        client.assert_round_trip(values)
        return
    try:
        client.assert_round_trip(values)
    except CookieTooLargeError as exc:
        assert exc.size > BROWSER_COOKIE_LIMIT
        event("signed cookie too large")


@per_engine()
@given(values=SESSIONS)
def test_any_session_data_round_trips_exactly(client: DataClient, values: dict[str, Any]) -> None:
    round_trip_or_too_large(client, values)


@per_engine()
@given(values=st.dictionaries(TEXT | st.text(st.characters(blacklist_categories=["Cs"]), min_size=100, max_size=300),
                              INTS | TEXT, min_size=1, max_size=20))
def test_any_unicode_session_key_round_trips(client: DataClient, values: dict[str, Any]) -> None:
    round_trip_or_too_large(client, values)


@per_engine(max_examples=20)
@given(value=deeply_nested())
def test_data_nested_fifty_deep_round_trips(client: DataClient, value: Any) -> None:
    round_trip_or_too_large(client, {"deep": value})


@per_engine(max_examples=5)
@given(seed=st.integers(0, 2**32), incompressible=st.booleans())
def test_huge_strings_round_trip_or_are_too_large_for_a_cookie(client: DataClient, seed: int,
                                                               incompressible: bool) -> None:
    values = {"huge": _huge_text(seed, incompressible), "small": 1}
    if client.signed and incompressible:
        with pytest.raises(CookieTooLargeError, match=r"over the (browser )?limit") as info:  # the cookie, or its data
            client.store(values)
        assert info.value.size > BROWSER_COOKIE_LIMIT
    else:
        round_trip_or_too_large(client, values)


# --- values that cannot be serialized ---------------------------------------------------


def _contains_itself() -> list[Any]:
    loop: list[Any] = [1]
    loop.append(loop)
    return loop


def _nested_too_deep() -> list[Any]:
    value: list[Any] = []
    for _ in range(10_000):
        value = [value]
    return value


#: Makers of values no engine can store, each with the word its error names.
UNSERIALIZABLE: dict[str, Callable[[], Any]] = {
    "object": object,
    "nan": lambda: float("nan"),
    "inf": lambda: float("inf"),
    "-inf": lambda: -float("inf"),
    "int keys": lambda: {1: "one"},
    "nested int keys": lambda: {"ok": [{"deeper": {2: "two"}}]},
    "bool keys": lambda: {True: 1},
    "tuple keys": lambda: {(1, 2): 3},
    "nan inside": lambda: {"a": [1.5, float("nan")]},
    "object in a set": lambda: {object()},
    "complex": lambda: 1j,
    "bytearray": lambda: bytearray(b"x"),
    "function": lambda: len,
    "class": lambda: int,
    "range": lambda: range(3),
    "contains itself": _contains_itself,
    "nested too deep": _nested_too_deep,
}
#: The session every refused change is tried on.
GOOD = {"keep": "original", "list": [1, 2], "n": 7}


@pytest.fixture
def stored(client: DataClient) -> str:
    """A session holding GOOD: its cookie."""
    cookie = client.session_cookie(client.store(GOOD))
    assert cookie
    return cookie


@per_engine()
@given(bad=st.sampled_from(sorted(UNSERIALIZABLE)), how=st.sampled_from(["new key", "replace", "in place"]),
       with_good_change=st.booleans(), key=TEXT)
def test_a_value_that_cannot_be_serialized_is_a_clear_error_and_nothing_is_written(
        client: DataClient, stored: str, bad: str, how: str, with_good_change: bool, key: str) -> None:
    value = UNSERIALIZABLE[bad]()
    values: dict[str, Any] = {"keep": "changed"} if with_good_change else {}
    then: Callable[[Session], None] | None = None
    if how == "in place":  # changed inside a loaded list, never set: found by comparing serialized values
        key, then = "list", lambda session: session["list"].append(value)
    else:
        key = "n" if how == "replace" else "new " + key
        values[key] = value
    with pytest.raises(SessionDataError) as info:
        client.store(values, stored, then)
    assert info.value.key == key and repr(key) in str(info.value)
    assert_same_text(client.read(stored).text, shown(GOOD))  # the refused save changed nothing
    with pytest.raises(SessionDataError):
        client.store({key: UNSERIALIZABLE[bad]()})  # a new session: refused too, nothing to read back
