"""The documentation: a strict Sphinx build, the settings reference generated from the code, the README's example.

The build runs into ``tmp_path`` with ``-W -n`` (any warning, a broken link, a missing reference
fails it), as ``bash scripts/docs`` does.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from webtest import TestApp

from tests.packaging.conftest import ROOT
from wsgisession import settings as settings_module
from wsgisession._setting_parsers import secret_weakness


def sphinx_build(source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html",
                           "-d", str(out / "doctrees"), str(source), str(out / "html")],
                          capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs")
    done = sphinx_build(ROOT / "docs", out)
    assert done.returncode == 0, f"the strict docs build failed:\n{done.stdout}\n{done.stderr}"
    return out / "html"


@pytest.fixture
def extension() -> ModuleType:
    spec = importlib.util.spec_from_file_location("settings_reference", ROOT / "docs/_ext/settings_reference.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def page_text(built: Path, page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", (built / page).read_text()))


def test_the_strict_build_has_every_page(built: Path) -> None:
    pages = {"index", "getting-started", "session", "settings", "api", "deployment", "security", "migrating",
             "logging", "benchmarks", "changelog", "upgrading", "contributing", "engines/index", "engines/db",
             "engines/cache", "engines/cached_db", "engines/file", "engines/signed_cookies", "engines/redis",
             "engines/custom"}
    assert {page for page in pages if not (built / f"{page}.html").is_file()} == set()


def test_the_settings_reference_has_a_row_per_key_with_its_meaning(built: Path) -> None:
    text = page_text(built, "settings.html")
    for key in settings_module.KNOWN_KEYS:
        assert re.search(rf"\b{key}\b", text), key
    assert "seconds a request waits for a session" in text  # SESSION_LOCK_TIMEOUT's comment
    assert "sentinel monitor &lt;name&gt;" in text  # SESSION_REDIS_SENTINEL_MASTER, a key without a field


def test_the_api_page_documents_the_names_users_import(built: Path) -> None:
    text = page_text(built, "api.html")
    for name in ("SessionMiddleware", "user_sessions", "set_user", "get_session", "MiddlewareMissingError",
                 "UnsupportedOperation", "cycle_key", "from_mapping", "IndexesUsers"):
        assert name in text, name


def test_security_and_changelog_are_included_not_copied(built: Path) -> None:
    assert "Hardening (0.2.0)" in page_text(built, "security.html")
    assert "wsgi-session" in page_text(built, "changelog.html")
    assert "From 0.1.0 to 0.2.0" in page_text(built, "upgrading.html")


def test_a_broken_link_fails_the_build(tmp_path: Path) -> None:
    """docs/conf.py's strict build on a one-page site whose only link goes nowhere."""
    source = tmp_path / "docs"
    source.mkdir()
    shutil.copy(ROOT / "docs/conf.py", source / "conf.py")
    shutil.copytree(ROOT / "docs/_ext", source / "_ext")
    (source / "index.md").write_text("# Home\n\nSee [the missing page](nowhere.md).\n")
    done = sphinx_build(source, tmp_path / "out")
    assert done.returncode != 0
    assert "nowhere.md" in done.stderr


def test_a_key_without_a_doc_comment_fails_the_build(extension: ModuleType,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from sphinx.errors import ExtensionError

    monkeypatch.setitem(settings_module._TABLE, "SESSION_UNDOCUMENTED", (None, lambda value: value))
    with pytest.raises(ExtensionError, match="SESSION_UNDOCUMENTED has no `#: SESSION_UNDOCUMENTED: "):
        extension.render()


def test_a_comment_naming_another_key_fails_the_build(extension: ModuleType) -> None:
    from sphinx.errors import ExtensionError

    with pytest.raises(ExtensionError, match="SESSION_COOKIE_AGE"):
        extension.meaning("SESSION_COOKIE_AGE", "SESSION_COOKIE_PATH: the cookie's Path.")


def readme_example() -> str:
    readme = (ROOT / "README.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", readme, re.S)
    return str(code)


def test_the_readme_example_is_short_and_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = readme_example()
    assert len(code.splitlines()) <= 15
    monkeypatch.chdir(tmp_path)  # its sessions go to ./wsgisession.sqlite3
    monkeypatch.setenv("SECRET_KEY", "a-secret-key-for-the-readme-test")
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    app: Callable[..., Any] = namespace["app"]
    browser = TestApp(app)
    assert [browser.get("/").text for _ in range(2)] == ["You have been here 1 times\n",
                                                          "You have been here 2 times\n"]
    assert (tmp_path / "wsgisession.sqlite3").is_file()


def test_no_install_line_names_the_unrelated_distribution() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    offenders = []
    for name in tracked.split():
        path = ROOT / name
        if path.suffix not in {".md", ".py", ".toml", ".txt", ""} or not path.is_file() or name.startswith("tests/"):
            continue
        text = path.read_text(errors="replace")
        if re.search(r"pip install '?wsgisession\b|\bwsgisession\[", text):
            offenders.append(name)
    assert offenders == []


#: A SECRET_KEY (or fallback) given as a literal in a doc or an example: ``SECRET_KEY="…"``, ``"SECRET_KEY": '…'``.
_LITERAL_KEY = re.compile(r"""SECRET_KEY(?:_FALLBACKS)?["']?\s*[:=]\s*\[?\s*(["'])(.*?)\1""")


def test_no_doc_or_example_shows_a_key_the_rule_refuses() -> None:
    """A reader copies the key a page shows: it must start, or be an obvious ellipsis to fill in."""
    pages = [*ROOT.glob("*.md"), *ROOT.glob("docs/**/*.md"), *ROOT.glob("examples/**/*.py"),
             *ROOT.glob("wsgisession/**/*.py")]
    refused = [f"{page.relative_to(ROOT)}: {match.group(2)!r} ({weakness})"
               for page in pages if "_build" not in page.parts
               for match in _LITERAL_KEY.finditer(page.read_text(encoding="utf-8"))
               if match.group(2).strip(".…") and (weakness := secret_weakness(match.group(2))) is not None]
    assert not refused, f"keys the rule refuses, shown to be copied: {refused}"
