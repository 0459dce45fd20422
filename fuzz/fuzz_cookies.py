"""Coverage-guided fuzzing of the session cookie: parsing, signature checks, and whole requests.

Runs atheris (libFuzzer for Python) on demand; it is not part of the test suite::

    pip install -e '.[fuzz]'
    python fuzz/fuzz_cookies.py -max_total_time=60        # a bounded run: one minute
    mkdir -p test-artifacts/fuzz-corpus                   # keep what it learns between runs:
    python fuzz/fuzz_cookies.py -max_total_time=600 test-artifacts/fuzz-corpus
    python fuzz/fuzz_cookies.py test-artifacts/fuzz/crash-<sha1>   # replay an input it saved

Every libFuzzer flag works (``-runs=N``, ``-jobs=2``, ``-dict=...``). The cookie dictionary
``fuzz/cookies.dict`` is used unless another ``-dict`` is given, and inputs that fail go to
``test-artifacts/fuzz/`` (ignored by git) unless ``-artifact_prefix`` says otherwise. A failed
check stops the run with a traceback; at the end libFuzzer prints ``Done N runs in T second(s)``.

Each input is one mode byte, then a Cookie header as WSGI hands it over (bytes read as latin-1):

- ``cookies.read_session_cookies``, ``SessionIdSigner.unsign`` and the ``signed_cookies`` back
  end's ``load`` on the header and on the values it carries: no exception, and nothing loads
  unless it is one of the two cookies this process issued;
- a whole middleware request (the ``cache`` engine in memory, werkzeug's LintMiddleware
  around it) with that header, read-only or writing: a 200, an empty session unless the header
  carries one of the two real sessions' exact cookie (bytes 0x7E and 0x7F in the input are
  replaced by them; of several session cookies, the first that loads wins), and a written
  session gets a fresh key that the header never held;
- authentic values: the input signed with the right key, as a ``signed_cookies`` payload and
  as a session id, so the decoding behind the signature is fuzzed too.

One known bug is tolerated so that a run goes past it: a session cookie whose signature is
spelled otherwise (the same bytes once base64-decoded) is accepted; its strict-xfail test is
``test_a_cookie_whose_signature_is_spelled_differently_is_refused`` in
``tests/property/test_hostile_cookies.py``. ``FUZZ_STRICT=1`` makes it a failure (found in seconds).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import os
import sys
import time
import warnings
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

try:
    import atheris
except ImportError:  # pragma: no cover - a message, not a traceback
    sys.exit("atheris is not installed: pip install -e '.[fuzz]' (or pip install 'atheris>=2.3')")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, installed or not

with atheris.instrument_imports(include=["wsgisession", "werkzeug", "itsdangerous"]):
    from itsdangerous import URLSafeSerializer
    from werkzeug.middleware.lint import LintMiddleware, WSGIWarning

    from wsgisession import SessionMiddleware, get_session
    from wsgisession._lifecycle import looks_like_key
    from wsgisession.backends import Loaded, Rejected
    from wsgisession.backends.signed_cookies import SALT, SignedCookieBackend, SigningCodec
    from wsgisession.cookies import read_session_cookies
    from wsgisession.signing import SessionIdSigner

SECRET = "fuzz-secret-key-0123456789abcdef"
NAME = "sessionid"
STRICT = os.environ.get("FUZZ_STRICT") == "1"
#: The real sessions made at start-up, and what each holds.
DATA = {"alice": {"mine": "alice"}, "bob": {"mine": "bob"}}
#: Input bytes that stand for real cookies: the two sessions', and a signed_cookies value.
PLACEHOLDERS = {"\x7d": "signed", "\x7e": "alice", "\x7f": "bob"}


def _app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answers the session as JSON; ``/set`` first stores ``mine`` (the query string)."""
    session = get_session(environ)
    if environ["PATH_INFO"] == "/set":
        session["mine"] = environ["QUERY_STRING"]
    body = json.dumps(dict(session)).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


warnings.simplefilter("error", WSGIWarning)  # what LintMiddleware finds is a failure too
MIDDLEWARE = SessionMiddleware(LintMiddleware(_app), {"SECRET_KEY": SECRET, "SESSION_ENGINE": "cache",
                                                      "SESSION_CACHE_URL": "memory://"})
SERVER = LintMiddleware(MIDDLEWARE)
SIGNER = SessionIdSigner(SECRET)
CODEC = SigningCodec(SECRET)
SIGNED_BACKEND = SignedCookieBackend(CODEC)
PAYLOAD_SIGNER = URLSafeSerializer(SECRET, salt=SALT).make_signer()


def key_of(value: str) -> str | None:
    """The session key a cookie value carries, if its signature checks out."""
    unsigned = SIGNER.unsign(value)
    return None if unsigned is None else unsigned[0]


def request(path: str, query: str = "", cookie: str | None = None) -> tuple[str, dict[str, Any], str | None]:
    """One request through the middleware: (status, JSON body, the session cookie it set, if any)."""
    environ: dict[str, Any] = {"PATH_INFO": path, "QUERY_STRING": query, "wsgi.input": io.BytesIO()}
    setup_testing_defaults(environ)
    if cookie is not None:
        environ["HTTP_COOKIE"] = cookie
    started: list[Any] = []
    result = SERVER(environ, lambda status, headers, exc_info=None: started.extend([status, headers]))
    try:
        body = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    set_cookie = None
    for name, value in started[1]:
        if name.lower() == "set-cookie" and value.startswith(f"{NAME}="):
            set_cookie = value[len(NAME) + 1:].partition(";")[0]
    return started[0], json.loads(body), set_cookie


def _issue(name: str) -> str:
    status, _, cookie = request("/set", DATA[name]["mine"])
    assert status.startswith("200") and cookie
    return cookie


COOKIES = {name: _issue(name) for name in DATA}
#: A signed_cookies value this process issued (its session is empty; only its loading is checked).
SIGNED_COOKIE = CODEC.dumps({"k": "a" * 43, "m": '{"c":0}', "e": 4e9, "d": {}})
REAL = {**COOKIES, "signed": SIGNED_COOKIE}


def _decoded(signature: str) -> bytes | None:
    """A signature's bytes as itsdangerous reads them: UTF-8 bytes, padded, base64-decoded without
    validating (what is not base64 is skipped)."""
    raw = signature.encode("utf-8")
    try:
        return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        return None


def respelled(carried: str | None, cookie: str) -> bool:
    """``carried`` is ``cookie`` with its signature spelled otherwise (tolerated unless strict): see
    test_a_cookie_whose_signature_is_spelled_differently_is_refused."""
    if STRICT or carried is None or carried == cookie:
        return False
    body, _, signature = carried.rpartition(".")
    real_body, _, real_signature = cookie.rpartition(".")
    return body == real_body and _decoded(signature) == _decoded(real_signature)


def check_values(header: str) -> None:
    """The parser and both signature checks, on the header and on the values it carries."""
    carried = read_session_cookies(header, NAME)
    assert isinstance(carried, tuple) and all(isinstance(value, str) for value in carried)
    for value in {header, *carried}:
        key = key_of(value)
        real = [cookie for cookie in COOKIES.values() if value == cookie or respelled(value, cookie)]
        assert key is None or real, f"unsign accepted a value it never issued: {value!r}"
        loaded = SIGNED_BACKEND.load(value, time.time())
        issued = value == SIGNED_COOKIE or respelled(value, SIGNED_COOKIE)
        assert isinstance(loaded, Rejected) or issued, f"a signed cookie never issued loaded: {value!r}"


def carried_sessions(header: str) -> tuple[str | None, list[str]]:
    """Whose session the header must show, and whose it may show instead: of the session cookie's
    values the first that loads wins, and a respelled signature may load (or not)."""
    may: list[str] = []
    for value in read_session_cookies(header, NAME):
        exact = next((name for name, cookie in COOKIES.items() if value == cookie), None)
        if exact is not None:
            return (exact, []) if not may else (None, [*may, exact])
        may += [name for name, cookie in COOKIES.items() if respelled(value, cookie)]
    return None, may


def check_request(header: str, write: bool) -> None:
    """A whole request: 200, the exact session carried or an empty one, a fresh key for a new session."""
    owner, similar = carried_sessions(header)
    if write and (owner or similar):
        return  # writing would change a real session on purpose
    status, seen, set_cookie = request("/set" if write else "/get", "x" if write else "", header)
    assert status.startswith("200"), status
    allowed = [DATA[owner]] if owner else [{}] + [DATA[name] for name in similar]
    if write:
        assert seen == {"mine": "x"} and set_cookie, (seen, set_cookie)
        key = key_of(set_cookie)
        assert key is not None and looks_like_key(key) and key not in header, "a client-supplied key was adopted"
        assert key not in {key_of(cookie) for cookie in COOKIES.values()}
    else:
        assert seen in allowed, f"header {header!r} showed {seen!r}"
        shown = [name for name in DATA if seen == DATA[name]]
        # Only a real session's cookie may be renewed (a touch, once SESSION_TOUCH_INTERVAL passed).
        assert not set_cookie or (shown and set_cookie == COOKIES[shown[0]]), "a read issued a session cookie"


def check_authentic(raw: bytes) -> None:
    """Values signed with the right key: the decoding behind the signature must not crash."""
    payload = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    compressed = "." + base64.urlsafe_b64encode(zlib.compress(raw)).rstrip(b"=").decode()
    for text in (payload, compressed):
        loaded = SIGNED_BACKEND.load(PAYLOAD_SIGNER.sign(text).decode(), time.time())
        assert isinstance(loaded, (Loaded, Rejected))
    key = raw.decode("ascii", "replace").replace("\ufffd", "?")
    loaded = MIDDLEWARE.backend.load(SIGNER.sign(key), time.time())
    assert isinstance(loaded, Rejected), "a session id nobody issued loaded"


def test_one_input(data: bytes) -> None:
    if not data:
        return
    mode, rest = data[0] % 4, data[1:]
    if mode == 3:
        check_authentic(rest)
        return
    header = rest.decode("latin-1")
    if mode != 0:
        for placeholder, name in PLACEHOLDERS.items():
            header = header.replace(placeholder, REAL[name])
    check_values(header)
    check_request(header, write=mode == 2)


def main() -> None:
    argv = list(sys.argv)
    here = Path(__file__).resolve().parent
    if not any(arg.startswith("-dict=") for arg in argv):
        argv.append(f"-dict={here / 'cookies.dict'}")
    if not any(arg.startswith("-artifact_prefix=") for arg in argv):
        artifacts = here.parent / "test-artifacts" / "fuzz"
        artifacts.mkdir(parents=True, exist_ok=True)
        argv.append(f"-artifact_prefix={artifacts}/")
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
