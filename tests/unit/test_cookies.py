"""The cookie fast paths give exactly what werkzeug gives, on generated headers and settings."""

from __future__ import annotations

import pytest
import werkzeug.sansio.http
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.sansio.http import parse_cookie

from wsgisession.cookies import MAX_SESSION_COOKIES, _dump, read_session_cookie, read_session_cookies, set_cookie_header
from wsgisession.settings import Settings

NAMES = st.sampled_from(["sessionid", "sid", "__Host-s", "theme", "csrftoken", "sessionid2", "xsessionid"])
PLAIN_VALUES = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters='";\\,'),
                       max_size=60)
PAIRS = st.lists(st.tuples(NAMES, PLAIN_VALUES, st.sampled_from(["=", " = ", "="]),
                           st.sampled_from(["; ", ";", ";  "])), max_size=6)


@settings(max_examples=400)
@given(PAIRS, NAMES)
def test_plain_headers_parse_as_werkzeug_parses_them(pairs: list[tuple[str, str, str, str]], name: str) -> None:
    header = "".join(f"{key}{equals}{value}{separator}" for key, value, equals, separator in pairs).rstrip("; ")
    assert read_session_cookie(header, name) == parse_cookie(header).get(name)
    assert read_session_cookies(header, name) == werkzeug_reads(header, name)


def werkzeug_reads(header: str, name: str) -> tuple[str, ...]:
    """The first values of ``name`` werkzeug reads, after the lenient UTF-8 decoding cookies.py applies."""
    if not header.isascii():
        header = header.encode("latin-1", "replace").decode("utf-8", "replace")
    return tuple(parse_cookie(header).getlist(name)[:MAX_SESSION_COOKIES])


#: Pieces of headers: everything werkzeug's cookie pattern treats specially, and some text.
FRAGMENTS = st.one_of(
    st.sampled_from(["sessionid", "sessionid=", "sessionid=v", "sid=", "=", ";", "; ", '"', '\\', '\\"', "\\\n",
                     " ", "\t", "  \t ", "\n", "\r", ",", "$", "\x00", "\\073", "é", "\xc3\xa9", "\u20ac"]),
    st.text(st.sampled_from('ab0=;" \t\\'), max_size=6),
)


@settings(max_examples=2000)
@given(st.lists(FRAGMENTS, max_size=30).map("".join))
def test_any_header_parses_as_werkzeug_parses_it(header: str) -> None:
    """Quotes, escapes, blanks, newlines, bytes that are not UTF-8: the same values in the same order."""
    values = werkzeug_reads(header, "sessionid")
    assert read_session_cookies(header, "sessionid") == values
    assert read_session_cookie(header, "sessionid") == (values[0] if values else None)


def hostile(size: int) -> list[str]:
    """Headers on which werkzeug's pattern backtracks quadratically: blanks between ``=`` and junk."""
    return ["sessionid=" + " " * size + 'x"', "sessionid=" + " \t" * (size // 2) + '"',
            "theme=dark; sessionid=" + " " * size + 'x"; sessionid=second', "sessionid=" + " " * size + '"a b',
            "sessionid=" + " " * size + "a b"]


@pytest.mark.parametrize("header", hostile(64))
def test_hostile_shapes_read_as_werkzeug_reads_them(header: str) -> None:
    assert read_session_cookies(header, "sessionid") == werkzeug_reads(header, "sessionid")


class _Refused:
    def match(self, *args: object) -> None:
        raise AssertionError("werkzeug's backtracking cookie pattern was used")


@pytest.mark.parametrize("header", hostile(64 * 1024))
def test_a_hostile_64_kb_header_is_read_without_the_backtracking_pattern(
        header: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The answer werkzeug gives (see the test above), without the pattern that takes minutes on it."""
    monkeypatch.setattr(werkzeug.sansio.http, "_cookie_re", _Refused())
    expected = ("second",) if header.endswith("second") else ()
    assert read_session_cookies(header, "sessionid") == expected
    assert read_session_cookie(header, "sessionid") == (expected[0] if expected else None)


def test_at_most_a_few_values_are_read() -> None:
    header = "; ".join(f"sessionid=v{number}" for number in range(10)) + '; sessionid="quoted"'
    assert read_session_cookies(header, "sessionid") == tuple(f"v{n}" for n in range(MAX_SESSION_COOKIES))
    assert read_session_cookies(header.replace("v0", "v 0"), "sessionid")[0] == "v1"


COOKIE_SETTINGS = st.builds(
    Settings, secret_key=st.just("x" * 32), cookie_name=st.sampled_from(["sessionid", "__Host-sid", "s"]),
    cookie_domain=st.sampled_from([None, "example.com", ".example.org"]),
    # Paths holding the template's marker texts must stay whole.
    cookie_path=st.sampled_from(["/", "/app", "/a/b", "/987654321/WSGISESSIONVALUE", "/{x}"]),
    cookie_secure=st.booleans(), cookie_httponly=st.booleans(), cookie_partitioned=st.booleans(),
    cookie_samesite=st.sampled_from([None, "Lax", "Strict", "None"]),
)
# Characters werkzeug leaves unquoted, and some it quotes or escapes (space, quote, backslash,
# separators, control and non-ASCII characters): both paths must write what werkzeug writes.
TOKENS = st.text(st.characters(whitelist_categories=[], whitelist_characters="abcXYZ019-_.~!#$%&'()*+/:<=>?@[]^`{|}"
                               + ' "\\;,\t\x7fé€'), max_size=120)


@settings(max_examples=400)
@given(COOKIE_SETTINGS, TOKENS, st.one_of(st.none(), st.integers(0, 10**8)), st.floats(0, 4 * 10**9))
def test_set_cookie_headers_are_what_werkzeug_writes(
        cookie_settings: Settings, value: str, max_age: int | None, now: float) -> None:
    expires = None if max_age is None else now + max_age
    whole_second = None if expires is None else float(int(expires))
    assert set_cookie_header(cookie_settings, value, max_age, expires)[1] == _dump(cookie_settings, value, max_age,
                                                                                   whole_second)


def test_values_werkzeug_would_quote_go_through_werkzeug() -> None:
    cookie_settings = Settings(secret_key="x" * 32)
    assert set_cookie_header(cookie_settings, 'a b"c', None, None)[1].startswith('sessionid="a b\\"c"')
