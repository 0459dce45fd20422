"""A ``__Host-`` session cookie is sent the way browsers require: Secure, Path=/, no Domain."""

from __future__ import annotations

from typing import Any

from webtest import TestApp
from werkzeug.middleware.lint import LintMiddleware

from tests.middleware.apps import behaviour_app
from wsgisession import SessionMiddleware

HTTPS = {"wsgi.url_scheme": "https", "HTTPS": "on"}


def attributes(set_cookie: str) -> dict[str, str]:
    """The attributes of a Set-Cookie header, lower-cased names."""
    parts = [part.strip() for part in set_cookie.split(";")[1:]]
    return {name.lower(): value for name, _, value in (part.partition("=") for part in parts)}


def test_a_host_prefixed_cookie_is_secure_with_root_path_and_no_domain(engine_settings: dict[str, Any]) -> None:
    settings = {**engine_settings, "SESSION_COOKIE_NAME": "__Host-sessionid", "SESSION_COOKIE_SECURE": True}
    client = TestApp(LintMiddleware(SessionMiddleware(LintMiddleware(behaviour_app), settings)), extra_environ=HTTPS)
    header = client.get("/set?a=1").headers["Set-Cookie"]
    assert header.startswith("__Host-sessionid=")
    assert {"secure", "path"} <= attributes(header).keys() and attributes(header)["path"] == "/"
    assert "domain" not in attributes(header)
    cookie = f"__Host-sessionid={client.cookies['__Host-sessionid']}"
    assert client.get("/get", extra_environ={"HTTP_COOKIE": cookie}).json == {"a": "1"}
    deleted = client.get("/flush", extra_environ={"HTTP_COOKIE": cookie}).headers["Set-Cookie"]
    assert deleted.startswith("__Host-sessionid=;") and attributes(deleted)["path"] == "/"
    assert "secure" in attributes(deleted) and "domain" not in attributes(deleted)
