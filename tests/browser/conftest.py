"""Headless Chromium (Debian's package) driven by Playwright, against the examples under gunicorn.

Playwright's own browser download does not work on the test machines (no network beyond
the package registries), so the tests use ``/usr/bin/chromium`` and install it with
apt-get when it is missing (as root; ``apt-get update`` first if the plain install fails).
A Chromium that cannot be found or installed fails the tests with a message, never a skip.

Screenshots of every step go to ``test-artifacts/browser/<test>/`` (gitignored).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Cookie, Page, ViewportSize, sync_playwright

# The live tests' fixtures: start_server(app, engine) runs gunicorn on a free loopback port.
from tests.live.conftest import REPO_ROOT, live_engine, start_server  # noqa: F401

CHROMIUM = os.environ.get("WSGISESSION_TEST_CHROMIUM", "/usr/bin/chromium")
#: Without the background-networking flags Chromium's own connections are refused by the closed network.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "browser"
VIEWPORT: ViewportSize = {"width": 720, "height": 320}
COOKIE_NAME = "sessionid"

_APT_ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}


def _apt_get(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["apt-get", *args], env=_APT_ENV, capture_output=True, text=True, timeout=900, check=False)


def ensure_chromium() -> str:
    """The Chromium executable; installs Debian's ``chromium`` package if it is missing."""
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    how = "install it with `apt-get install -y chromium` (or set WSGISESSION_TEST_CHROMIUM to a Chromium)"
    if os.geteuid() != 0:
        pytest.fail(f"Chromium is not at {CHROMIUM} and the tests do not run as root: {how}.", pytrace=False)
    if shutil.which("apt-get") is None:
        pytest.fail(f"Chromium is not at {CHROMIUM} and there is no apt-get: {how}.", pytrace=False)
    result = _apt_get("install", "-y", "--no-install-recommends", "chromium")
    if result.returncode != 0:  # stale or missing package lists on a fresh machine
        update = _apt_get("update")
        result = _apt_get("install", "-y", "--no-install-recommends", "chromium")
        if result.returncode != 0:
            pytest.fail(f"could not install Chromium (`apt-get update` said: {update.stderr.strip()[-500:]}; "
                        f"`apt-get install -y chromium` said: {result.stderr.strip()[-1000:]}).", pytrace=False)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"`apt-get install chromium` succeeded but {CHROMIUM} is not there.", pytrace=False)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole run; each test opens its own contexts (fresh cookie jars)."""
    executable = ensure_chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def new_context(browser: Browser) -> BrowserContext:
    """A fresh browser profile: empty cookie jar."""
    return browser.new_context(viewport=VIEWPORT)


def restart_browser(browser: Browser, context: BrowserContext) -> BrowserContext:
    """Close the browser and open it again: what survives is what a real browser keeps on disk.

    Session cookies (no Expires or Max-Age: Playwright's ``expires == -1``) die with the
    browser; persistent cookies are restored from the saved storage state.
    """
    state = context.storage_state()
    context.close()
    state["cookies"] = [cookie for cookie in state["cookies"] if cookie["expires"] != -1]
    return browser.new_context(viewport=VIEWPORT, storage_state=state)


def session_cookie(context: BrowserContext) -> Cookie | None:
    """The session cookie in the context's cookie jar, or None."""
    found = [cookie for cookie in context.cookies() if cookie["name"] == COOKIE_NAME]
    assert len(found) <= 1, found
    return found[0] if found else None


def describe_jar(context: BrowserContext) -> str:
    """One line about the session cookie in the jar, for the screenshot captions."""
    cookie = session_cookie(context)
    if cookie is None:
        return f"cookie jar: no {COOKIE_NAME}"
    expires = ("session cookie (no expiry)" if cookie["expires"] == -1
               else "expires " + time.strftime("%Y-%m-%d", time.gmtime(cookie["expires"])))
    flags = " HttpOnly" if cookie["httpOnly"] else ""
    return f"cookie jar: {COOKIE_NAME}={cookie['value'][:8]}…{flags} SameSite={cookie['sameSite']}, {expires}"


_CAPTION_JS = """text => {
    const bar = document.createElement("div");
    bar.id = "test-caption";
    bar.textContent = text;
    Object.assign(bar.style, {position: "fixed", left: "0", right: "0", bottom: "0", padding: "6px 10px",
        font: "12px/1.4 monospace", background: "#333", color: "#fff", whiteSpace: "pre", pointerEvents: "none"});
    document.body.appendChild(bar);
}"""


class Screenshots:
    """Numbered screenshots of one test's steps, each with a caption bar saying what it shows."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def take(self, page: Page, step: str, what: str) -> Path:
        """Save ``NN-step.png``; the caption (added for the shot, removed after) names the page and the jar."""
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        location = "/" + page.url.split("//", 1)[-1].partition("/")[2]
        caption = f"{what}\npage {location}   {describe_jar(page.context)}"
        page.evaluate(_CAPTION_JS, caption)
        page.screenshot(path=str(path))
        page.evaluate('document.getElementById("test-caption").remove()')
        return path


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Screenshots:
    """Screenshots under ``test-artifacts/browser/<test name>/``, emptied first."""
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return Screenshots(folder)
