"""wsgisession.pyramid in process: Pyramid's ISession over a real store, through WebTest and LintMiddleware.

Runs on the db (SQLite in ``tmp_path``), redis and signed_cookies engines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pyramid.config import Configurator
from pyramid.interfaces import ISession
from pyramid.request import Request
from pyramid.response import Response
from webtest import TestApp
from werkzeug.middleware.lint import LintMiddleware
from zope.interface.verify import verifyObject

import wsgisession.pyramid

pytestmark = pytest.mark.filterwarnings("error::werkzeug.middleware.lint.WSGIWarning")


def invalidate(session: Any, value: str) -> None:
    session.invalidate()
    if value:
        session["after"] = value


def append(session: Any, value: str) -> None:
    session["list"].append(value)  # a list changed in place, then changed()
    session.changed()


def login(session: Any, value: str) -> None:
    session.cycle_key()
    session["user"] = value


def boom(session: Any, value: str) -> None:
    session["boom"] = True
    raise RuntimeError("the view failed")


def peek_and_mutate(session: Any, value: str) -> dict[str, Any]:
    session.peek_flash().append("changed by the caller")
    return {"peeked": session.peek_flash()}


#: ``?do=`` name -> what it does to the session; an answer of its own, or None for the session's state.
ACTIONS: dict[str, Callable[[Any, str], dict[str, Any] | None]] = {
    "": lambda session, value: None,
    "set": lambda session, value: session.__setitem__("colour", value),
    "new_list": lambda session, value: session.__setitem__("list", []),
    "append": append,
    "flash": lambda session, value: session.flash(value),
    "flash_once": lambda session, value: session.flash(value, allow_duplicate=False),
    "flash_warning": lambda session, value: session.flash(value, "warnings"),
    "pop_flash": lambda session, value: {"popped": session.pop_flash(value)},
    "peek_flash": lambda session, value: {"peeked": session.peek_flash(value)},
    "peek_and_mutate": peek_and_mutate,
    "invalidate": invalidate,
    "login": login,
    "boom": boom,
    "verify": lambda session, value: verifyObject(ISession, session) and None,
}


def session_view(request: Request) -> Response:
    """``?do=`` one of :data:`ACTIONS` with ``?value=``, then its answer or the session as JSON."""
    session = request.session
    answer = ACTIONS[request.params.get("do", "")](session, request.params.get("value", ""))
    if answer is not None:
        return Response(json_body=answer)
    return Response(json_body={"data": dict(session), "new": session.new, "created": session.created})


def csrf_view(request: Request) -> Response:
    return Response(json_body={"token": request.session.get_csrf_token()})


def make_config(settings: dict[str, Any]) -> Configurator:
    config = Configurator(settings=settings)
    config.include("wsgisession.pyramid")
    config.add_route("session", "/session")
    config.add_view(session_view, route_name="session")
    config.add_route("csrf", "/csrf")
    config.add_view(csrf_view, route_name="csrf", request_method="GET")
    config.add_route("form", "/form")
    config.add_view(lambda request: Response("accepted"), route_name="form", request_method="POST", require_csrf=True)
    return config


def client_for(settings: dict[str, Any]) -> TestApp:
    return TestApp(LintMiddleware(wsgisession.pyramid.make_wsgi_app(make_config(settings))))


@pytest.fixture(params=["db", "redis", "signed_cookies"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(engine: str, engine_settings_factory: Callable[[str], dict[str, Any]]) -> TestApp:
    return client_for(engine_settings_factory(engine))


def data(client: TestApp, **params: str) -> dict[str, Any]:
    return client.get("/session", params=params).json["data"]  # type: ignore[no-any-return]


def test_request_session_provides_pyramids_isession(client: TestApp) -> None:
    assert client.get("/session", params={"do": "verify"}).status_code == 200


def test_values_survive_the_next_request(client: TestApp) -> None:
    data(client, do="set", value="blue")
    assert data(client) == {"colour": "blue"}


def test_a_list_changed_in_place_is_saved(client: TestApp) -> None:
    data(client, do="new_list")
    data(client, do="append", value="apples")
    assert data(client, do="append", value="pears") == {"list": ["apples", "pears"]}
    assert data(client) == {"list": ["apples", "pears"]}


def test_new_and_created(client: TestApp) -> None:
    first = client.get("/session", params={"do": "set", "value": "1"}).json
    assert first["new"] is True
    second = client.get("/session").json
    assert second["new"] is False
    assert second["created"] == pytest.approx(first["created"], abs=1)


def test_an_invalidated_session_is_new_again(client: TestApp) -> None:
    data(client, do="set", value="1")
    assert client.get("/session", params={"do": "invalidate"}).json["new"] is True


def test_a_peeked_list_is_a_copy(client: TestApp) -> None:
    data(client, do="flash", value="once")
    assert client.get("/session", params={"do": "peek_and_mutate"}).json == {"peeked": ["once"]}
    assert client.get("/session", params={"do": "pop_flash"}).json == {"popped": ["once"]}


def test_flash_messages_queue_peek_and_pop(client: TestApp) -> None:
    data(client, do="flash", value="saved")
    data(client, do="flash_once", value="saved")
    data(client, do="flash_warning", value="careful")
    assert client.get("/session", params={"do": "peek_flash"}).json == {"peeked": ["saved"]}
    assert client.get("/session", params={"do": "pop_flash"}).json == {"popped": ["saved"]}
    assert client.get("/session", params={"do": "pop_flash"}).json == {"popped": []}
    assert client.get("/session", params={"do": "pop_flash", "value": "warnings"}).json == {"popped": ["careful"]}


def test_flash_duplicates_are_kept_unless_refused(client: TestApp) -> None:
    data(client, do="flash", value="hi")
    data(client, do="flash", value="hi")
    assert client.get("/session", params={"do": "pop_flash"}).json == {"popped": ["hi", "hi"]}


def test_csrf_token_is_stable_and_guards_posts(client: TestApp) -> None:
    token = client.get("/csrf").json["token"]
    assert client.get("/csrf").json["token"] == token
    assert len(token) >= 32
    assert client.post("/form", {"csrf_token": "forged"}, status=400).status_code == 400
    assert client.post("/form", status=400).status_code == 400
    assert client.post("/form", {"csrf_token": token}).text == "accepted"
    assert client.post("/form", headers={"X-CSRF-Token": token}).text == "accepted"


def test_csrf_tokens_differ_between_sessions(client: TestApp) -> None:
    other = TestApp(client.app)
    assert client.get("/csrf").json["token"] != other.get("/csrf").json["token"]


def test_invalidate_logs_out_and_deletes_the_cookie(client: TestApp, engine: str) -> None:
    data(client, do="login", value="alice")
    old_cookie = client.cookies["sessionid"]
    response = client.get("/session", params={"do": "invalidate"})
    assert "Max-Age=0" in response.headers["Set-Cookie"]
    assert "sessionid" not in client.cookies
    replay = TestApp(client.app)
    replay.set_cookie("sessionid", old_cookie)
    if engine != "signed_cookies":  # a copy of a signed cookie cannot be revoked before it expires
        assert replay.get("/session").json["data"] == {}


def test_values_set_after_invalidate_start_a_new_session(client: TestApp) -> None:
    data(client, do="login", value="alice")
    old_cookie = client.cookies["sessionid"]
    assert client.get("/session", params={"do": "invalidate", "value": "fresh"}).json["data"] == {"after": "fresh"}
    assert client.cookies["sessionid"] != old_cookie
    assert data(client) == {"after": "fresh"}


def test_login_with_cycle_key_gives_a_new_cookie_and_keeps_the_data(client: TestApp) -> None:
    data(client, do="set", value="3 apples")
    before = client.cookies["sessionid"]
    assert data(client, do="login", value="alice") == {"colour": "3 apples", "user": "alice"}
    assert client.cookies["sessionid"] != before
    assert data(client) == {"colour": "3 apples", "user": "alice"}


def test_a_view_exception_saves_nothing(client: TestApp) -> None:
    data(client, do="set", value="1")
    with pytest.raises(RuntimeError):
        client.get("/session", params={"do": "boom"})
    assert data(client) == {"colour": "1"}
