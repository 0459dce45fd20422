"""The sdist and wheel a user gets from ``pip install wsgi-session``: metadata, contents, a clean import."""

from __future__ import annotations

import email.parser
import sys
import tarfile
import zipfile
from email.message import Message
from pathlib import Path

import wsgisession
from tests.packaging.conftest import run


def wheel_metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        return email.parser.Parser().parsestr(archive.read(name).decode())


def test_twine_check_passes_on_the_sdist_and_the_wheel(dist: Path) -> None:
    done = run(sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir()))
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_the_distribution_is_wsgi_session_not_the_unrelated_wsgisession(wheel: Path) -> None:
    metadata = wheel_metadata(wheel)
    assert metadata["Name"] == "wsgi-session"
    assert metadata["Version"] == wsgisession.__version__ == "0.2.0"
    assert wheel.name == f"wsgi_session-{wsgisession.__version__}-py3-none-any.whl"


def test_the_metadata_is_complete(wheel: Path) -> None:
    metadata = wheel_metadata(wheel)
    assert metadata["Requires-Python"] == ">=3.11"
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert "Typing :: Typed" in metadata.get_all("Classifier", [])
    assert {url.split(",")[0] for url in metadata.get_all("Project-URL", [])} >= {"Documentation", "Source",
                                                                                  "Changelog"}
    assert metadata["Description-Content-Type"] == "text/markdown"


def test_every_extra_in_the_docs_exists_and_names_the_new_distribution(wheel: Path) -> None:
    metadata = wheel_metadata(wheel)
    extras = {"postgres", "mysql", "hiredis", "crypto", "memcached", "pyramid"}
    assert set(metadata.get_all("Provides-Extra", [])) >= extras
    requirements = metadata.get_all("Requires-Dist", [])
    assert not [line for line in requirements if line.startswith("wsgisession")], requirements


def test_the_wheel_ships_the_package_with_py_typed_and_the_license(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "wsgisession/py.typed" in names
    assert {"wsgisession/stores/redis/__init__.py", "wsgisession/stores/redis/_lua.py"} <= names  # subpackages too
    assert f"wsgi_session-{wsgisession.__version__}.dist-info/licenses/LICENSE" in names
    assert not [name for name in names if name.startswith(("tests/", "examples/", "docs/", "benchmarks/"))]


def test_the_sdist_holds_what_a_rebuild_and_a_reviewer_need(sdist: Path) -> None:
    top = sdist.name.removesuffix(".tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.removeprefix(f"{top}/") for name in archive.getnames()}
    assert {"pyproject.toml", "LICENSE", "README.md", "CHANGELOG.md", "wsgisession/py.typed"} <= names
    assert not [name for name in names if name.startswith((".venv", "docs/_build", ".git/"))]


def test_the_wheel_imports_in_a_fresh_venv(wheel_python: Path, tmp_path: Path) -> None:
    done = run(wheel_python, "-c", "import wsgisession, wsgisession.stores.sql, wsgisession.stores.redis; "
               "print(wsgisession.__version__, wsgisession.__file__)", cwd=tmp_path)
    version, location = done.stdout.split()
    assert version == wsgisession.__version__
    assert "site-packages" in location, "the fresh venv imported the working tree, not the wheel"


def test_the_wheel_installs_the_command(wheel_python: Path, tmp_path: Path) -> None:
    done = run(wheel_python.parent / "wsgisession", "--help", cwd=tmp_path)
    assert "clearsessions" in done.stdout
