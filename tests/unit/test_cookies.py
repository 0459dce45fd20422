"""The cookie fast paths give exactly what werkzeug gives, on generated headers and settings."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.sansio.http import parse_cookie

from wsgisession.cookies import _dump, read_session_cookie, set_cookie_header
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
