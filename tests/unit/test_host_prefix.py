"""The ``__Host-`` and ``__Secure-`` cookie name prefixes: settings browsers would refuse are refused."""

from __future__ import annotations

from typing import Any

import pytest

from wsgisession import ConfigurationError, Settings

HOST_OK = {"SESSION_COOKIE_NAME": "__Host-sessionid", "SESSION_COOKIE_SECURE": True}
SECRET = {"SECRET_KEY": "unit-test-secret-key-0123456789abcdef"}


def problems_of(mapping: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_mapping({**SECRET, **mapping})
    return {problem.key: str(problem) for problem in caught.value.problems}


@pytest.mark.parametrize("mapping", [
    HOST_OK,
    {**HOST_OK, "SESSION_COOKIE_PATH": "/", "SESSION_COOKIE_DOMAIN": None},
    {"SESSION_COOKIE_NAME": "__Secure-sessionid", "SESSION_COOKIE_SECURE": True},
    {"SESSION_COOKIE_NAME": "__Secure-sessionid", "SESSION_COOKIE_SECURE": True,
     "SESSION_COOKIE_PATH": "/app", "SESSION_COOKIE_DOMAIN": "example.com"},
    {"SESSION_COOKIE_NAME": "_Host-sessionid"},  # not the prefix: no rule
    {"SESSION_COOKIE_NAME": "sessionid__Host-"},
])
def test_names_that_follow_the_rules_are_accepted(mapping: dict[str, Any]) -> None:
    assert Settings.from_mapping({**SECRET, **mapping}).cookie_name == mapping["SESSION_COOKIE_NAME"]


def test_host_prefix_without_secure_names_the_key() -> None:
    problems = problems_of({"SESSION_COOKIE_NAME": "__Host-sessionid"})
    assert set(problems) == {"SESSION_COOKIE_SECURE"}
    assert "True for a cookie named '__Host-sessionid'" in problems["SESSION_COOKIE_SECURE"]


def test_host_prefix_with_a_path_names_the_key() -> None:
    problems = problems_of({**HOST_OK, "SESSION_COOKIE_PATH": "/app"})
    assert set(problems) == {"SESSION_COOKIE_PATH"} and "got '/app'" in problems["SESSION_COOKIE_PATH"]


def test_host_prefix_with_a_domain_names_the_key() -> None:
    problems = problems_of({**HOST_OK, "SESSION_COOKIE_DOMAIN": "example.com"})
    assert set(problems) == {"SESSION_COOKIE_DOMAIN"} and "got 'example.com'" in problems["SESSION_COOKIE_DOMAIN"]


def test_host_prefix_reports_every_offending_key_at_once() -> None:
    problems = problems_of({"SESSION_COOKIE_NAME": "__Host-sid", "SESSION_COOKIE_PATH": "/app",
                            "SESSION_COOKIE_DOMAIN": ".example.com"})
    assert set(problems) == {"SESSION_COOKIE_SECURE", "SESSION_COOKIE_PATH", "SESSION_COOKIE_DOMAIN"}


@pytest.mark.parametrize("name", ["__Secure-sessionid", "__secure-sessionid", "__SECURE-sid"])
def test_secure_prefix_requires_secure(name: str) -> None:
    assert set(problems_of({"SESSION_COOKIE_NAME": name})) == {"SESSION_COOKIE_SECURE"}


@pytest.mark.parametrize("name", ["__host-sessionid", "__HOST-sessionid"])
def test_prefixes_are_matched_case_insensitively_as_browsers_do(name: str) -> None:
    assert set(problems_of({"SESSION_COOKIE_NAME": name, "SESSION_COOKIE_PATH": "/x"})) == {
        "SESSION_COOKIE_SECURE", "SESSION_COOKIE_PATH"}
