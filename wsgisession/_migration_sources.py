"""The session stores of other libraries that ``SESSION_MIGRATE_FROM`` can read (names only, no imports)."""

#: ``SESSION_MIGRATE_FROM``'s ``SESSION_ENGINE`` values read by a module of :mod:`wsgisession.migration`, not built
#: as engines. Inside ``SESSION_MIGRATE_FROM`` a Django engine path names Django's own store, not ours.
FOREIGN_ENGINES: dict[str, str] = {
    "django.contrib.sessions.backends.db": "wsgisession.migration.django:DjangoDbSessions.from_settings",
    "django.contrib.sessions.backends.cached_db": "wsgisession.migration.django:DjangoDbSessions.from_settings",
    "flask_session.redis": "wsgisession.migration.flask_session:FlaskSessionRedis.from_settings",
    "flask_session.redis.unsigned": "wsgisession.migration.flask_session:FlaskSessionRedis.from_settings",
    "beaker.cookie": "wsgisession.migration.beaker:BeakerCookies.from_settings",
}
