"""Build the sdist and the wheel once per run, and a fresh venv with the wheel installed.

Everything goes into pytest's temporary folders; nothing is written to the repository.
``--no-isolation`` builds with the hatchling of the test venv (the ``test`` extra) and the
fresh venv installs through pip's cache, so the whole folder adds seconds, not minutes.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command; a failure shows its output in the test's error."""
    done = subprocess.run([str(arg) for arg in args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(map(str, args))} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding exactly one sdist and one wheel built from the working tree."""
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir", out, ROOT)
    return out


@pytest.fixture(scope="session")
def wheel(dist: Path) -> Path:
    (found,) = dist.glob("*.whl")
    return found


@pytest.fixture(scope="session")
def sdist(dist: Path) -> Path:
    (found,) = dist.glob("*.tar.gz")
    return found


@pytest.fixture(scope="session")
def wheel_python(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a fresh venv where the wheel (and its dependencies) is installed, nothing else."""
    home = tmp_path_factory.mktemp("wheel-venv")
    venv.create(home, with_pip=False)  # the test venv's pip installs into it: no ensurepip, seconds saved
    python = home / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--disable-pip-version-check", wheel)
    return python
