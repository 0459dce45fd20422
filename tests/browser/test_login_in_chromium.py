"""The login example in a real browser: headless Chromium, driven by Playwright, against gunicorn.

Each test runs on the ``db`` engine (a SQLite file in tmp) and on ``redis``. What a
browser does and an HTTP client does not: it keeps HttpOnly cookies away from scripts,
stores SameSite, deletes a cookie the server expires, and forgets session cookies (no
Expires, no Max-Age) when it closes. "Closing the browser" is modelled faithfully: save
the context's storage state, drop the cookies with no expiry, open a new context from it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, BrowserContext, Cookie, Page, expect

from tests.browser.conftest import COOKIE_NAME, Screenshots, new_context, restart_browser, session_cookie

if TYPE_CHECKING:
    from tests.live.conftest import LiveServer, StartServer

pytestmark = pytest.mark.live

USERNAME = "alice"
PASSWORD = "correct horse battery staple"
TWO_WEEKS = 14 * 24 * 3600


def fill_form(page: Page, button: str, **fields: str) -> None:
    """Fill the form's labelled fields and press its button, as a person would."""
    for label, value in fields.items():
        page.get_by_label(label.capitalize(), exact=True).fill(value)
    page.get_by_role("button", name=button).click()


def greeting(page: Page) -> None:
    expect(page.get_by_text(f"Hello, {USERNAME}")).to_be_visible()


def no_greeting(page: Page) -> None:
    expect(page.get_by_text("Hello,")).to_have_count(0)


def persistent_cookie(context: BrowserContext) -> Cookie:
    """The session cookie, checked: HttpOnly, SameSite=Lax, host-only on /, expiring in about two weeks."""
    cookie = session_cookie(context)
    assert cookie is not None, f"no {COOKIE_NAME} cookie in the jar: {context.cookies()}"
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert (cookie["domain"], cookie["path"], cookie["secure"]) == ("127.0.0.1", "/", False)
    assert abs(cookie["expires"] - (time.time() + TWO_WEEKS)) < 120, cookie
    return cookie


def test_login_reload_restart_logout(browser: Browser, start_server: StartServer, live_engine: str,
                                     screenshots: Screenshots) -> None:
    server = start_server("examples.login:app", live_engine)
    context = new_context(browser)
    page = context.new_page()

    page.goto(f"{server.url}/register")
    fill_form(page, "Register", username=USERNAME, password=PASSWORD)
    expect(page).to_have_url(f"{server.url}/login")
    visitor = session_cookie(context)  # the anti-forgery token gives a visitor a session before login
    assert visitor is not None
    screenshots.take(page, "registered", f"[{live_engine}] registered, redirected to the login form")

    fill_form(page, "Log in", username=USERNAME, password=PASSWORD)
    expect(page).to_have_url(f"{server.url}/")
    greeting(page)
    cookie = persistent_cookie(context)
    assert cookie["value"] != visitor["value"], "login did not give the session a new key (cycle_key)"
    screenshots.take(page, "logged-in", f"[{live_engine}] logged in: the greeting appears")

    page.reload()
    greeting(page)
    assert persistent_cookie(context)["value"] == cookie["value"]
    screenshots.take(page, "after-reload", f"[{live_engine}] after reload: the greeting stays")

    # HttpOnly: scripts see the cookies they may see, never the session cookie.
    page.evaluate("document.cookie = 'probe=visible-to-scripts; path=/'")
    script_cookies = page.evaluate("document.cookie")
    assert "probe=visible-to-scripts" in script_cookies
    assert COOKIE_NAME not in script_cookies

    context = restart_browser(browser, context)
    assert [c["name"] for c in context.cookies()] == [COOKIE_NAME], "the probe (a session cookie) must be gone"
    page = context.new_page()
    page.goto(f"{server.url}/")
    greeting(page)
    assert persistent_cookie(context)["value"] == cookie["value"]
    screenshots.take(page, "after-browser-restart", f"[{live_engine}] browser closed and reopened: still logged in")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{server.url}/")
    no_greeting(page)
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    assert session_cookie(context) is None, "logout must delete the session cookie from the browser"
    screenshots.take(page, "logged-out", f"[{live_engine}] logged out: no greeting, no session cookie")
    context.close()

    assert_key_dead(browser, server, cookie["value"])


def assert_key_dead(browser: Browser, server: LiveServer, key: str) -> None:
    """A browser that kept a copy of the old cookie is not logged in: flush deleted the session."""
    context = new_context(browser)
    context.add_cookies([{"name": COOKIE_NAME, "value": key, "url": f"{server.url}/"}])
    page = context.new_page()
    page.goto(f"{server.url}/")
    no_greeting(page)
    context.close()


@pytest.mark.parametrize("remember", [False, True], ids=["set_expiry-0", "remembered"])
def test_browser_session_cookie_dies_with_the_browser(browser: Browser, start_server: StartServer,
                                                      live_engine: str, remember: bool,
                                                      screenshots: Screenshots) -> None:
    """``set_expiry(0)``: gone after the browser restarts; the same login with "Remember me" survives."""
    server = start_server("tests.browser.expiry_app:app", live_engine)
    context = new_context(browser)
    page = context.new_page()
    page.goto(f"{server.url}/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Remember me").set_checked(remember)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{server.url}/")
    greeting(page)
    lasts = "two weeks" if remember else "until the browser closes"
    expect(page.get_by_text(f"This session lasts {lasts}.")).to_be_visible()
    if remember:
        cookie = persistent_cookie(context)
    else:
        found = session_cookie(context)
        assert found is not None
        cookie = found
        assert cookie["expires"] == -1, f"set_expiry(0) must give a cookie without expiry: {cookie}"
        assert (cookie["httpOnly"], cookie["sameSite"]) == (True, "Lax")
    page.reload()
    greeting(page)  # while the browser stays open, the session lasts
    screenshots.take(page, "logged-in", f"[{live_engine}] logged in, session lasts {lasts}")

    context = restart_browser(browser, context)
    page = context.new_page()
    page.goto(f"{server.url}/")
    if remember:
        greeting(page)
        assert persistent_cookie(context)["value"] == cookie["value"]
        what = "still logged in"
    else:
        no_greeting(page)
        expect(page.get_by_role("button", name="Log in")).to_be_visible()
        assert session_cookie(context) is None
        what = "the browser-session login is gone"
    screenshots.take(page, "after-browser-restart", f"[{live_engine}] browser closed and reopened: {what}")
    if not remember:  # the server still has the session: it is the browser that forgot the cookie
        context.add_cookies([{"name": COOKIE_NAME, "value": cookie["value"], "url": f"{server.url}/"}])
        page.reload()
        greeting(page)
    context.close()
