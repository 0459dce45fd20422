"""What the framework apps share: the payloads, the stream, the wrapping."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

from werkzeug.middleware.lint import LintMiddleware

from examples.settings import example_settings
from wsgisession import SessionMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: The body of ``/stream``, chunk by chunk.
STREAM_CHUNKS = [bytes([ord("a") + index]) * 1000 for index in range(8)]
#: The variable naming the file ``/file`` answers.
PAYLOAD_VARIABLE = "FRAMEWORKS_PAYLOAD_FILE"
#: The size of ``/file``'s blocks.
BLOCK_SIZE = 8192


def payload_path() -> str:
    return os.environ[PAYLOAD_VARIABLE]


def stream(session: MutableMapping[str, Any], key: str = "stream") -> Iterator[bytes]:
    """The streamed body; ``session[key]`` becomes "finished" after the last chunk, while the server sends."""
    yield from STREAM_CHUNKS
    session[key] = "finished"


def wrap(app: WSGIApplication) -> WSGIApplication:
    """``app`` inside SessionMiddleware (settings from the environment), linted on both sides."""
    middleware = SessionMiddleware(unless_head(LintMiddleware(app), app), example_settings())
    return unless_head(LintMiddleware(middleware), middleware)


def unless_head(linted: WSGIApplication, plain: WSGIApplication) -> WSGIApplication:
    """``linted``, but ``plain`` for HEAD requests.

    A HEAD answer carries the GET answer's Content-Length without its body (RFC 9110, 9.3.2), which
    LintMiddleware, not knowing the method, reports as a mismatch.
    """

    def dispatch(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return (plain if environ["REQUEST_METHOD"] == "HEAD" else linted)(environ, start_response)

    return dispatch
