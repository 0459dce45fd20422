"""Settings: Django's defaults, validation naming the key, every problem at once."""

from __future__ import annotations

from dataclasses import fields

import pytest

from wsgisession import ConfigurationError, SessionMiddleware, Settings
from wsgisession.settings import _TABLE, KNOWN_KEYS

SECRET = {"SECRET_KEY": "unit-test-secret-key-0123456789abcdef"}


def problems_of(mapping: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_mapping({**SECRET, **mapping})
    return {problem.key: str(problem) for problem in caught.value.problems}


def test_defaults_are_djangos() -> None:
    settings = Settings.from_mapping(SECRET)
    assert settings.engine == "db"
    assert settings.cookie_name == "sessionid"
    assert settings.cookie_age == 1209600
    assert (settings.cookie_domain, settings.cookie_path) == (None, "/")
    assert (settings.cookie_secure, settings.cookie_httponly, settings.cookie_samesite) == (False, True, "Lax")
    assert not settings.expire_at_browser_close and not settings.save_every_request
    assert settings.serializer == "json"
    assert settings.cache_url == "memory://"
    assert settings.db_url.startswith("sqlite:///")
    assert settings.redis_prefix == "session"


def test_every_key_of_the_table_has_a_field_and_back() -> None:
    assert {field.name for field in fields(Settings)} == {attr for attr, _ in _TABLE.values() if attr}


def test_unknown_key_suggests_the_close_match() -> None:
    problems = problems_of({"SESSION_COOKIE_AEG": 10})
    assert "did you mean SESSION_COOKIE_AGE?" in problems["SESSION_COOKIE_AEG"]


def test_all_problems_are_reported_at_once_with_expected_and_received() -> None:
    problems = problems_of({"SESSION_COOKIE_AGE": "2 weeks", "SESSION_COOKIE_SECURE": "yes", "SESSION_ENGINE": "mongo"})
    assert set(problems) == {"SESSION_COOKIE_AGE", "SESSION_COOKIE_SECURE", "SESSION_ENGINE"}
    assert "expected an int >= 0" in problems["SESSION_COOKIE_AGE"] and "'2 weeks'" in problems["SESSION_COOKIE_AGE"]
    assert "True, False or \"auto\"" in problems["SESSION_COOKIE_SECURE"]
    assert "signed_cookies" in problems["SESSION_ENGINE"]


@pytest.mark.parametrize(("key", "value"), [
    ("SESSION_COOKIE_AGE", -1), ("SESSION_COOKIE_AGE", True), ("SESSION_COOKIE_HTTPONLY", 1),
    ("SESSION_COOKIE_SAMESITE", "sometimes"), ("SESSION_COOKIE_NAME", "session id"), ("SESSION_COOKIE_PATH", "app"),
    ("SESSION_CACHE_URL", "mongodb://x"), ("SESSION_REDIS_URL", "http://x"), ("SESSION_REDIS_PORT", 70000),
    ("SECRET_KEY_FALLBACKS", "old-key"), ("SESSION_SERIALIZER", "pickle"), ("SESSION_FILE_PATH", ""),
])
def test_wrong_values_are_refused_naming_the_key(key: str, value: object) -> None:
    assert key in problems_of({key: value})


def test_secrets_are_never_echoed() -> None:
    problems = problems_of({"SECRET_KEY": "short-secret"})
    assert "short-secret" not in problems["SECRET_KEY"]


def test_every_engine_needs_a_secret_key_it_signs_the_cookie_with() -> None:
    for engine in ("db", "signed_cookies", "file"):
        with pytest.raises(ConfigurationError, match="SECRET_KEY: expected a secret key"):
            Settings.from_mapping({"SESSION_ENGINE": engine})


def test_redis_engine_needs_a_server_and_never_guesses_localhost() -> None:
    assert "SESSION_REDIS_URL" in problems_of({"SESSION_ENGINE": "redis"})


def test_seed_era_redis_keys_build_the_url() -> None:
    settings = Settings.from_mapping({
        **SECRET, "SESSION_ENGINE": "redis", "SESSION_REDIS_HOST": "localhost", "SESSION_REDIS_PORT": 6380,
        "SESSION_REDIS_DB": 2, "SESSION_REDIS_PASSWORD": "p@ss/word", "SESSION_REDIS_PREFIX": "sess",
    })
    assert settings.redis_url == "redis://:p%40ss%2Fword@localhost:6380/2"
    assert settings.redis_prefix == "sess"


def test_url_and_seed_era_keys_together_are_refused() -> None:
    assert "SESSION_REDIS_URL" in problems_of({"SESSION_REDIS_URL": "redis://h/0", "SESSION_REDIS_HOST": "h"})


def test_samesite_none_requires_secure() -> None:
    assert "SESSION_COOKIE_SAMESITE" in problems_of({"SESSION_COOKIE_SAMESITE": "None"})
    settings = Settings.from_mapping({**SECRET, "SESSION_COOKIE_SAMESITE": "none", "SESSION_COOKIE_SECURE": True})
    assert settings.cookie_samesite == "None"


def test_settings_are_frozen() -> None:
    settings = Settings.from_mapping(SECRET)
    with pytest.raises(AttributeError):
        settings.cookie_age = 1  # type: ignore[misc]


def test_middleware_refuses_bad_settings_when_built() -> None:
    with pytest.raises(ConfigurationError, match="SESSION_ENGINE"):
        SessionMiddleware(lambda e, s: [], {**SECRET, "SESSION_ENGINE": "nosuch.module.Store"})


def test_middleware_refuses_an_engine_path_that_is_not_a_store() -> None:
    with pytest.raises(ConfigurationError, match="returning a Store"):
        SessionMiddleware(lambda e, s: [], {**SECRET, "SESSION_ENGINE": "builtins.repr"})


def test_known_keys_include_every_spec_key() -> None:
    spec_keys = {"SECRET_KEY", "SECRET_KEY_FALLBACKS", "SESSION_ENGINE", "SESSION_COOKIE_NAME", "SESSION_COOKIE_AGE",
                 "SESSION_COOKIE_DOMAIN", "SESSION_COOKIE_PATH", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
                 "SESSION_COOKIE_SAMESITE", "SESSION_EXPIRE_AT_BROWSER_CLOSE", "SESSION_SAVE_EVERY_REQUEST",
                 "SESSION_SERIALIZER", "SESSION_DB_URL", "SESSION_CACHE_URL", "SESSION_FILE_PATH",
                 "SESSION_REDIS_URL", "SESSION_REDIS_HOST", "SESSION_REDIS_PORT", "SESSION_REDIS_DB",
                 "SESSION_REDIS_PASSWORD", "SESSION_REDIS_PREFIX"}
    assert spec_keys <= set(KNOWN_KEYS)
