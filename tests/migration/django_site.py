"""A minimal Django project, configured in code, whose sessions live in PostgreSQL (db backend, JSON).

The environment says where: ``DJANGO_TEST_SCHEMA`` (a PostgreSQL schema of the test's own, put
first on the search path) and ``DJANGO_TEST_SECRET_KEY``. Serve ``application`` with gunicorn;
``python -m tests.migration.django_site migrate`` creates the session table.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import django
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path
from sqlalchemy.engine import make_url

from tests import servers


def _database() -> dict[str, Any]:
    url = make_url(servers.POSTGRES_URL)
    return {"ENGINE": "django.db.backends.postgresql", "NAME": url.database, "USER": url.username or "",
            "PASSWORD": url.password or "", "HOST": url.host or "", "PORT": str(url.port or ""),
            "OPTIONS": {"options": f"-c search_path={os.environ['DJANGO_TEST_SCHEMA']}"}}


def login(request: HttpRequest) -> JsonResponse:
    request.session.cycle_key()
    request.session["user"] = request.GET["user"]
    request.session["cart"] = ["book", 2]
    return JsonResponse(dict(request.session.items()))


def whoami(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"user": request.session.get("user")})


urlpatterns = [path("login", login), path("whoami", whoami)]

settings.configure(
    SECRET_KEY=os.environ["DJANGO_TEST_SECRET_KEY"], DEBUG=False, ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__, INSTALLED_APPS=["django.contrib.sessions"], USE_TZ=True,
    MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware"], DATABASES={"default": _database()},
    SESSION_ENGINE="django.contrib.sessions.backends.db",
    SESSION_SERIALIZER="django.contrib.sessions.serializers.JSONSerializer",
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402  (after settings.configure)

application = get_wsgi_application()

if __name__ == "__main__" and sys.argv[1:] == ["migrate"]:
    from django.core.management import call_command

    call_command("migrate", "sessions", verbosity=0)
