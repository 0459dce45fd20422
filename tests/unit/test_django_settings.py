"""A Django project's session settings read as ours, or refused with every problem at once (no I/O)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from wsgisession import ConfigurationError
from wsgisession.settings import Settings

SECRET = "test-secret-key-0123456789abcdef"
PASSWORD = "s3cr3t p@ss/word#1"


def settings_of(**keys: Any) -> Settings:
    return Settings.from_mapping({"SECRET_KEY": SECRET, **keys})


def problems_of(**keys: Any) -> dict[str, str]:
    with pytest.raises(ConfigurationError) as caught:
        settings_of(**keys)
    return {problem.key: str(problem) for problem in caught.value.problems}


@pytest.mark.parametrize(("path", "engine"), [
    ("django.contrib.sessions.backends.db", "db"), ("django.contrib.sessions.backends.cache", "cache"),
    ("django.contrib.sessions.backends.cached_db", "cached_db"), ("django.contrib.sessions.backends.file", "file"),
    ("django.contrib.sessions.backends.signed_cookies", "signed_cookies"), ("redis_sessions.session", "redis"),
])
def test_django_engine_paths_are_our_engines(path: str, engine: str) -> None:
    extra = {"SESSION_REDIS_HOST": "127.0.0.1"} if engine == "redis" else {}
    assert settings_of(SESSION_ENGINE=path, **extra).engine == engine


def test_other_django_engine_paths_are_refused_never_imported() -> None:
    problem = problems_of(SESSION_ENGINE="django.contrib.sessions.backends.custom")["SESSION_ENGINE"]
    assert "django.contrib.sessions.backends.cached_db" in problem and "'django.contrib.sessions.backends.custom'" \
        in problem


def test_a_cache_alias_without_caches_is_refused() -> None:
    assert "CACHES" in problems_of(SESSION_ENGINE="cache", SESSION_CACHE_ALIAS="sessions")["SESSION_CACHE_ALIAS"]


def test_json_serializer_is_json() -> None:
    assert settings_of(SESSION_SERIALIZER="django.contrib.sessions.serializers.JSONSerializer").serializer == "json"


@pytest.mark.parametrize(("path", "reason"), [
    ("django.contrib.sessions.serializers.PickleSerializer", "pickle runs any code"),
    ("django.core.signing.JSONSerializer", "Django is never imported"),
])
def test_other_django_serializers_are_refused_with_the_reason(path: str, reason: str) -> None:
    assert reason in problems_of(SESSION_SERIALIZER=path)["SESSION_SERIALIZER"]


# --- CACHES ------------------------------------------------------------------------


def cache_url(caches: dict[str, Any], **keys: Any) -> str:
    return settings_of(SESSION_ENGINE="django.contrib.sessions.backends.cache", CACHES=caches, **keys).cache_url


@pytest.mark.parametrize(("entry", "url"), [
    ({"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379"},
     "redis://127.0.0.1:6379"),
    ({"BACKEND": "django.core.cache.backends.redis.RedisCache",
      "LOCATION": ["redis://primary:6379", "redis://replica:6379"], "OPTIONS": {"db": "3"}},
     "redis://primary:6379/3"),
    ({"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/1",
      "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient", "PASSWORD": "pw"}},
     "redis://:pw@127.0.0.1:6379/1"),
    ({"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "rediss://r:6380", "OPTIONS": {"DB": 2}},
     "rediss://r:6380/2"),
    ({"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache", "LOCATION": "127.0.0.1:11211"},
     "memcached://127.0.0.1:11211"),
    ({"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache", "LOCATION": ["10.0.0.1:11211"]},
     "memcached://10.0.0.1:11211"),
    ({"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "unique-snowflake"}, "memory://"),
    ({"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 500}},
     "memory://?max_entries=500"),
])
def test_caches_entry_becomes_the_cache_url(entry: dict[str, Any], url: str) -> None:
    assert cache_url({"default": entry}) == url


def test_session_cache_alias_picks_the_entry() -> None:
    caches = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
              "sessions": {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache", "LOCATION": "m:11211"}}
    assert cache_url(caches, SESSION_CACHE_ALIAS="sessions") == "memcached://m:11211"


def test_an_explicit_cache_url_wins_over_caches() -> None:
    caches = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert cache_url(caches, SESSION_CACHE_URL="redis://r:6379/0") == "redis://r:6379/0"


def test_engines_without_a_cache_ignore_caches() -> None:
    caches = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert settings_of(SESSION_ENGINE="django.contrib.sessions.backends.file", CACHES=caches).engine == "file"


@pytest.mark.parametrize(("backend", "reason"), [
    ("django.core.cache.backends.dummy.DummyCache", "keeps nothing"),
    ("django.core.cache.backends.db.DatabaseCache", 'SESSION_ENGINE "db"'),
    ("django.core.cache.backends.filebased.FileBasedCache", 'SESSION_ENGINE "file"'),
    ("myproject.caches.Fancy", "django-redis's RedisCache"),
])
def test_other_cache_backends_are_refused_by_name(backend: str, reason: str) -> None:
    problem = problems_of(SESSION_ENGINE="cache", CACHES={"default": {"BACKEND": backend}})["CACHES['default']"]
    assert repr(backend) in problem and reason in problem


def test_cache_refusals_name_the_fix() -> None:
    problems = problems_of(SESSION_ENGINE="cache", SESSION_CACHE_ALIAS="sessions",
                           CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}})
    assert "one of the aliases in CACHES ('default')" in problems["SESSION_CACHE_ALIAS"]
    memcached = {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache"}
    for location, why in (("unix:/tmp/m.sock", "Unix sockets"), (["a:1", "b:2"], "a list of several")):
        problem = problems_of(SESSION_ENGINE="cache", CACHES={"default": {**memcached, "LOCATION": location}})
        assert why in problem["CACHES['default']"]
    unix = {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "unix:///run/redis.sock"}
    assert "Unix socket" in problems_of(SESSION_ENGINE="cache", CACHES={"default": unix})["CACHES['default']"]
    sentinel = {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://m/0",
                "OPTIONS": {"CLIENT_CLASS": "django_redis.client.SentinelClient"}}
    assert "SESSION_REDIS_SENTINELS" in problems_of(SESSION_ENGINE="cache", CACHES={"default": sentinel})[
        "CACHES['default']"]


# --- DATABASES ---------------------------------------------------------------------


def db_url(entry: dict[str, Any]) -> str:
    return settings_of(SESSION_ENGINE="django.contrib.sessions.backends.db", DATABASES={"default": entry}).db_url


@pytest.mark.parametrize(("entry", "url"), [
    ({"ENGINE": "django.db.backends.postgresql", "NAME": "app", "USER": "u", "PASSWORD": "p", "HOST": "db",
      "PORT": "5433"}, "postgresql://u:p@db:5433/app"),
    ({"ENGINE": "django.db.backends.postgresql", "NAME": "app", "USER": "u", "HOST": "/var/run/postgresql",
      "OPTIONS": {"sslmode": "require", "pool": True}}, "postgresql://u@/app?sslmode=require&host=%2Fvar%2Frun%2Fpostgresql"),
    ({"ENGINE": "django.db.backends.mysql", "NAME": "app", "USER": "root", "HOST": "127.0.0.1", "PORT": 3306,
      "OPTIONS": {"charset": "utf8mb4", "init_command": "SET sql_mode='STRICT_TRANS_TABLES'"}},
     "mysql://root@127.0.0.1:3306/app?charset=utf8mb4"),
    ({"ENGINE": "django.db.backends.sqlite3", "NAME": Path("/srv/app/db.sqlite3")}, "sqlite:////srv/app/db.sqlite3"),
    ({"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}, "sqlite:///db.sqlite3"),
])
def test_databases_default_becomes_the_db_url(entry: dict[str, Any], url: str) -> None:
    assert db_url(entry) == url


def test_a_password_is_encoded_into_the_url() -> None:
    url = db_url({"ENGINE": "django.db.backends.postgresql", "NAME": "app", "USER": "u", "PASSWORD": PASSWORD,
                  "HOST": "db"})
    assert url == "postgresql://u:s3cr3t%20p%40ss%2Fword%231@db/app"


@pytest.mark.parametrize("entry", [
    {"ENGINE": "django.db.backends.oracle", "NAME": "xe", "PASSWORD": PASSWORD},
    {"ENGINE": "django.db.backends.mysql", "NAME": "app", "PASSWORD": PASSWORD, "OPTIONS": {"ssl": {"ca": "x"}}},
    {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:", "PASSWORD": PASSWORD},
])
def test_refused_databases_never_show_the_password(entry: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        settings_of(SESSION_ENGINE="db", DATABASES={"default": entry}, SESSION_COOKIE_AGE="x")
    assert "DATABASES['default']" in str(caught.value) and "SESSION_COOKIE_AGE" in str(caught.value)
    assert PASSWORD not in str(caught.value) and "s3cr3t" not in str(caught.value)


def test_a_translated_url_that_fails_later_is_shown_masked() -> None:
    """A bad value next to DATABASES: the SESSION_DB_URL made from it never shows up with its password."""
    entry = {"ENGINE": "django.db.backends.postgresql", "NAME": "app", "USER": "u", "PASSWORD": PASSWORD,
             "HOST": "db"}
    with pytest.raises(ConfigurationError) as caught:
        settings_of(SESSION_ENGINE="db", DATABASES={"default": entry}, SESSION_DB_TABLE="")
    assert "s3cr3t" not in str(caught.value)


# --- keys from elsewhere, and every problem at once --------------------------------


@pytest.mark.parametrize(("key", "equivalent"), [
    ("SESSION_TYPE", "SESSION_ENGINE"), ("SESSION_PERMANENT", "SESSION_EXPIRE_AT_BROWSER_CLOSE"),
    ("SESSION_USE_SIGNER", "signed with SECRET_KEY"), ("SESSION_KEY_PREFIX", "SESSION_REDIS_PREFIX"),
    ("SESSION_REDIS", "SESSION_REDIS_URL"),
])
def test_flask_session_keys_name_our_equivalent(key: str, equivalent: str) -> None:
    problem = problems_of(**{key: object()})[key]
    assert "Flask-Session" in problem and equivalent in problem


def test_every_problem_is_in_one_error() -> None:
    """Unknown keys, refused Django entries and bad values together (CACHES used to hide the rest)."""
    problems = problems_of(
        SESSION_ENGINE="django.contrib.sessions.backends.cached_db",
        CACHES={"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache"}},
        DATABASES={"default": {"ENGINE": "django.db.backends.oracle", "PASSWORD": PASSWORD}},
        SESSION_SERIALIZER="django.contrib.sessions.serializers.PickleSerializer",
        SESSION_TYPE="redis", SESSION_COOKIE_AEG=3, SESSION_COOKIE_HTTPONLY="yes")
    assert set(problems) == {"CACHES['default']", "DATABASES['default']", "SESSION_SERIALIZER", "SESSION_TYPE",
                             "SESSION_COOKIE_AEG", "SESSION_COOKIE_HTTPONLY"}


def test_a_whole_django_session_block_works_unchanged() -> None:
    block = {
        "SESSION_ENGINE": "django.contrib.sessions.backends.cached_db",
        "SESSION_SERIALIZER": "django.contrib.sessions.serializers.JSONSerializer",
        "SESSION_CACHE_ALIAS": "default",
        "CACHES": {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                               "LOCATION": "redis://127.0.0.1:6379"}},
        "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": Path("/srv/db.sqlite3")}},
        "SESSION_COOKIE_NAME": "sessionid", "SESSION_COOKIE_AGE": 1209600, "SESSION_COOKIE_DOMAIN": None,
        "SESSION_COOKIE_SECURE": False, "SESSION_COOKIE_PATH": "/", "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax", "SESSION_SAVE_EVERY_REQUEST": False,
        "SESSION_EXPIRE_AT_BROWSER_CLOSE": False, "SESSION_FILE_PATH": None,
    }
    settings = settings_of(**block)
    assert (settings.engine, settings.cache_url, settings.db_url) == (
        "cached_db", "redis://127.0.0.1:6379", "sqlite:////srv/db.sqlite3")


@pytest.mark.parametrize(("keys", "url"), [
    ({"SESSION_REDIS": {"host": "r", "port": 6380, "db": 2, "password": "pw", "prefix": "s"}}, "redis://:pw@r:6380/2"),
    ({"SESSION_REDIS": {"unix_domain_socket_path": "/run/redis.sock", "db": 1}}, "unix:///run/redis.sock?db=1"),
    ({"SESSION_REDIS_SENTINEL_LIST": [("s1", 26379), ("s2", 26379)], "SESSION_REDIS_SENTINEL_MASTER_ALIAS": "m"},
     "redis+sentinel://s1:26379,s2:26379/m/0"),
])
def test_django_redis_sessions_settings_are_read(keys: dict[str, Any], url: str) -> None:
    settings = settings_of(SESSION_ENGINE="redis_sessions.session", **keys)
    assert (settings.engine, settings.redis_url) == ("redis", url)


def test_ignored_django_redis_sessions_keys_are_noted_at_start(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="wsgisession"):
        settings_of(SESSION_REDIS_RETRY_ON_TIMEOUT=True)
    assert "SESSION_REDIS_RETRY_ON_TIMEOUT ignored" in caplog.text


# --- the new cookie settings ------------------------------------------------------


def test_new_cookie_settings() -> None:
    assert settings_of(SESSION_COOKIE_SECURE="auto").cookie_secure == "auto"
    assert settings_of(SESSION_COOKIE_AGE=0).cookie_age == 0
    assert settings_of(SESSION_FILE_PATH=Path("/srv/sessions")).file_path == "/srv/sessions"
    assert "SESSION_COOKIE_SECURE" in problems_of(SESSION_COOKIE_PARTITIONED=True)["SESSION_COOKIE_PARTITIONED"]
    assert settings_of(SESSION_COOKIE_PARTITIONED=True, SESSION_COOKIE_SECURE="auto").cookie_partitioned
