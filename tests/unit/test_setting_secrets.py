"""Secrets in settings: every key meets one rule, and no password or key is ever shown in an error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wsgisession import ConfigurationError, SessionMiddleware, Settings
from wsgisession.cli import main
from wsgisession.errors import mask_urls

GOOD_KEY = "Vq3-hT9xLk2pR7wZ_mN4cF8sJ1yB6dE0"
PASSWORD = "hunter2-Pa55"


def problems_of(mapping: dict[str, object]) -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        SessionMiddleware(lambda environ, start_response: [], {"SECRET_KEY": GOOD_KEY, **mapping})
    assert str(caught.value) == "invalid wsgisession settings:\n" + "\n".join(
        f"  - {problem}" for problem in caught.value.problems)
    return [str(problem) for problem in caught.value.problems]


#: Every URL-valued setting, each wrong in a way that used to echo the URL (and its password).
LEAKY_URLS = {
    "SESSION_REDIS_URL, a mistyped scheme": {"SESSION_ENGINE": "redis",
                                             "SESSION_REDIS_URL": f"reddis://:{PASSWORD}@cache.internal:6379/0"},
    "SESSION_REDIS_URL, user and password": {"SESSION_ENGINE": "redis",
                                             "SESSION_REDIS_URL": f"http://app:{PASSWORD}@cache.internal:6379/0"},
    "SESSION_CACHE_URL, a mistyped scheme": {"SESSION_ENGINE": "cache",
                                             "SESSION_CACHE_URL": f"memcache://app:{PASSWORD}@cache.internal:11211"},
    "SESSION_CACHE_URL, memcached with a query": {"SESSION_ENGINE": "cache",
                                                  "SESSION_CACHE_URL": f"memcached://cache.internal:11211"
                                                                       f"?password={PASSWORD}"},
    "SESSION_CACHE_URL, redis with a query": {"SESSION_ENGINE": "cache",
                                              "SESSION_CACHE_URL": f"redis+x://cache.internal:6379?password={PASSWORD}"},
    "SESSION_DB_URL, a mistyped scheme": {"SESSION_DB_URL": f"postgress://app:{PASSWORD}@db.internal/app"},
    "SESSION_DB_URL, a password in the query": {"SESSION_DB_URL": f"oracle://db.internal/app?password={PASSWORD}"},
    "SESSION_DB_URL, not a string": {"SESSION_DB_URL": f"mysql://app:{PASSWORD}@db.internal/app".encode()},
    "SESSION_REDIS_URL, a slash missing": {"SESSION_ENGINE": "redis",
                                           "SESSION_REDIS_URL": f"redis:/:{PASSWORD}@cache.internal:6379/0"},
    "SESSION_CACHE_URL, no scheme": {"SESSION_ENGINE": "cache", "SESSION_CACHE_URL": f"app:{PASSWORD}@cache.internal"},
    "SESSION_REDIS_SENTINELS, a password": {"SESSION_ENGINE": "redis", "SESSION_REDIS_SENTINEL_MASTER": "main",
                                            "SESSION_REDIS_SENTINELS": [f":{PASSWORD}@sentinel.internal:26379"]},
    "SESSION_REDIS_PASSWORD, not a string": {"SESSION_REDIS_HOST": "cache.internal",
                                             "SESSION_REDIS_PASSWORD": PASSWORD.encode()},
    "SESSION_REDIS_PASSWORD, a number": {"SESSION_REDIS_HOST": "cache.internal", "SESSION_REDIS_PASSWORD": 123456789},
    # A password with a blank or a quote in it: the mask must not stop there and show the part before.
    "SESSION_REDIS_URL, a password with a blank": {"SESSION_ENGINE": "redis",
                                                   "SESSION_REDIS_URL": "reddis://:hunter2 Pa55@cache.internal/0"},
    "SESSION_REDIS_URL, a password with quotes": {"SESSION_ENGINE": "redis",
                                                  "SESSION_REDIS_URL": "redis:/:hunter2'\"Pa55@cache.internal/0"},
    "SESSION_CACHE_URL, a query value with a blank": {"SESSION_ENGINE": "cache",
                                                      "SESSION_CACHE_URL": "memcache://h:11211?password=hunter2 Pa55"},
    "SESSION_CACHE_URL, memcached with a query value with a blank": {
        "SESSION_ENGINE": "cache", "SESSION_CACHE_URL": "memcached://h:11211?password=hunter2 Pa55"},
    "SESSION_REDIS_SENTINELS, a password with a blank": {
        "SESSION_ENGINE": "redis", "SESSION_REDIS_SENTINEL_MASTER": "main",
        "SESSION_REDIS_SENTINELS": [":hunter2 Pa55@sentinel.internal:26379"]},
}


@pytest.mark.parametrize("settings", LEAKY_URLS.values(), ids=LEAKY_URLS)
def test_no_password_is_shown_in_a_configuration_error(settings: dict[str, object]) -> None:
    shown = "\n".join(problems_of(settings))
    assert "123456789" not in shown and "hunter2" not in shown and "Pa55" not in shown
    assert any(key in shown for key in settings if key != "SESSION_ENGINE")


@pytest.mark.parametrize("settings", LEAKY_URLS.values(), ids=LEAKY_URLS)
def test_no_password_reaches_the_commands_stderr(settings: dict[str, object], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    jsonable = {key: list(value) if isinstance(value, bytes) else value for key, value in settings.items()}
    source = tmp_path / "settings.json"
    source.write_text(json.dumps({"SECRET_KEY": GOOD_KEY, "SESSION_DB_TABLE": "t", **jsonable}))
    assert main(["clearsessions", "--settings", str(source)]) != 0
    main(["createtable", "--settings", str(source)])  # refused too, where it builds the store
    captured = capsys.readouterr()
    assert "SESSION_" in captured.err
    shown = captured.err + captured.out
    assert "hunter2" not in shown and "Pa55" not in shown and "123456789" not in shown


def test_no_password_in_a_memory_url_is_shown_by_the_middleware() -> None:
    """The memory cache is built by the middleware only (clearsessions has nothing to clear in it)."""
    shown = "\n".join(problems_of({"SESSION_ENGINE": "cache", "SESSION_CACHE_URL": "memory://?password=hunter2 Pa55"}))
    assert "SESSION_CACHE_URL" in shown and "hunter2" not in shown and "Pa55" not in shown


def test_mask_urls_hides_userinfo_and_query_values_and_keeps_the_rest() -> None:
    assert mask_urls(f"'redis://app:{PASSWORD}@h:6379/0'") == "'redis://***@h:6379/0'"
    assert mask_urls(f"b'mysql://:{PASSWORD}@h/db?charset=utf8&password={PASSWORD}'") == (
        "b'mysql://***@h/db?charset=***&password=***'")
    assert mask_urls("'memory://'") == "'memory://'"


WEAK_KEYS = {
    "too short": "dev",
    "16 characters": "k3Y-f0r-the-app!",
    "one character": "a" * 32,
    "few characters": "abcabcabcabcabcabcabcabcabcabcabcabc",
    "the README's placeholder": "change-me-to-a-long-random-string",
    "a change-me key": "CHANGE-ME-0123456789-abcdefghijklmnop",
    "Django's startproject key": "django-insecure-7h$kq!z0w3e@x^c9v)b2n&m5r1t8y4u6i",
    "the old example key": "demo-only-secret-key-do-not-use-in-production",
    "not a string": b"Vq3-hT9xLk2pR7wZ_mN4cF8sJ1yB6dE0",
}


@pytest.mark.parametrize("key", WEAK_KEYS.values(), ids=WEAK_KEYS)
def test_a_weak_secret_key_is_refused_naming_the_fix_without_showing_it(key: object) -> None:
    [problem] = problems_of({"SECRET_KEY": key})
    assert problem.startswith("SECRET_KEY: expected a random string of at least 32 characters")
    assert "secrets.token_urlsafe(48)" in problem
    assert str(key) not in problem and repr(key) not in problem


@pytest.mark.parametrize("key", WEAK_KEYS.values(), ids=WEAK_KEYS)
def test_a_weak_fallback_key_is_refused_by_the_same_rule(key: object) -> None:
    [problem] = problems_of({"SECRET_KEY_FALLBACKS": [GOOD_KEY[::-1], key]})
    assert problem.startswith("SECRET_KEY_FALLBACKS: expected in every entry, a random string of at least 32")
    assert "got entry 1: " in problem and str(key) not in problem


def test_a_weak_fallback_never_verifies_a_forged_session() -> None:
    """A cookie signed with "dev" used to open a session: the fallback was accepted at start."""
    with pytest.raises(ConfigurationError, match="SECRET_KEY_FALLBACKS"):
        SessionMiddleware(lambda environ, start_response: [],
                          {"SECRET_KEY": GOOD_KEY, "SECRET_KEY_FALLBACKS": ["dev"], "SESSION_ENGINE": "signed_cookies"})


@pytest.mark.parametrize("key", [GOOD_KEY, "0123456789abcdef0123456789abcdef", "x" * 22 + "0123456789"])
def test_a_random_key_of_32_characters_is_accepted(key: str) -> None:
    assert Settings.from_mapping({"SECRET_KEY": key, "SECRET_KEY_FALLBACKS": [key]}).secret_key == key


def test_the_settings_repr_shows_no_key_and_no_password() -> None:
    """Error trackers and debug pages show a frame's locals by repr: a Settings is often one of them."""
    fallback = "Zr8-kP2wQm5nT1xV_bC7dF4gH9jL3sA6"
    settings = Settings.from_mapping({
        "SECRET_KEY": GOOD_KEY, "SECRET_KEY_FALLBACKS": [fallback], "SESSION_ENGINE": "cached_db",
        "SESSION_CACHE_URL": f"redis://:{PASSWORD}@cache.internal:6379/0",
        "SESSION_DB_URL": f"postgresql://app:{PASSWORD}@db.internal/app"})
    shown = repr(settings) + str(settings)
    assert GOOD_KEY not in shown and fallback not in shown and "hunter2" not in shown
    assert "cache.internal:6379" in shown and "engine='cached_db'" in shown
