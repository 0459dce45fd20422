"""SESSION_MIGRATE_FROM is checked as strictly as the settings around it, every problem named inside it."""

from __future__ import annotations

import pytest

from tests.conftest import SECRET
from wsgisession import ConfigurationError, SessionMiddleware
from wsgisession.settings import Settings


def test_the_old_engine_s_settings_default_to_the_outer_secret_key() -> None:
    settings = Settings.from_mapping({"SECRET_KEY": SECRET, "SECRET_KEY_FALLBACKS": ["f" * 16 + "0123456789abcdef"],
                                      "SESSION_MIGRATE_FROM": {"SESSION_ENGINE": "file"}})
    assert settings.migrate_from is not None
    assert settings.migrate_from.engine == "file"
    assert settings.migrate_from.secret_key == SECRET
    assert settings.migrate_from.secret_key_fallbacks == settings.secret_key_fallbacks


def test_unset_is_none() -> None:
    assert Settings.from_mapping({"SECRET_KEY": SECRET}).migrate_from is None


def test_every_problem_inside_is_named_and_no_secret_is_shown() -> None:
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_mapping({"SECRET_KEY": SECRET, "SESSION_MIGRATE_FROM": {
            "SESSION_ENGINE": "redis", "SECRET_KEY": "hunter2", "SESSION_COOKIE_AGE": -1}})
    message = str(raised.value)
    assert "SESSION_MIGRATE_FROM[SECRET_KEY]" in message
    assert "SESSION_MIGRATE_FROM[SESSION_COOKIE_AGE]" in message
    assert "SESSION_MIGRATE_FROM[SESSION_REDIS_URL]" in message
    assert "hunter2" not in message


@pytest.mark.parametrize("value", ["redis", ["SESSION_ENGINE"], {"SESSION_MIGRATE_FROM": {}}, {1: "x"}])
def test_anything_but_a_dict_of_settings_is_refused(value: object) -> None:
    with pytest.raises(ConfigurationError, match=r"SESSION_MIGRATE_FROM: expected a dict of settings"):
        Settings.from_mapping({"SECRET_KEY": SECRET, "SESSION_MIGRATE_FROM": value})


def test_django_s_database_must_be_named() -> None:
    with pytest.raises(ConfigurationError, match=r"SESSION_MIGRATE_FROM\[SESSION_DB_URL\]: expected the URL of Django"):
        SessionMiddleware(lambda environ, start_response: [], {
            "SECRET_KEY": SECRET, "SESSION_ENGINE": "signed_cookies",
            "SESSION_MIGRATE_FROM": {"SESSION_ENGINE": "django.contrib.sessions.backends.db"}})
