"""The Makefile's quick-start commands: `make demo` and `make test` install only when needed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")

# A stand-in for .venv/bin/python that records each command line instead of running it,
# and fails `pip install` while the file `pip-fails` exists.
FAKE_PYTHON = """#!/bin/sh
here="$(dirname "$0")/../.."
echo "$*" >> "$here/calls"
if [ "$2" = pip ] && [ -e "$here/pip-fails" ]; then exit 1; fi
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with the Makefile, a pyproject.toml and a .venv whose python is the fake."""
    shutil.copy(ROOT / "Makefile", tmp_path)
    (tmp_path / "pyproject.toml").write_text("")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    return tmp_path


def make(project: Path, target: str) -> list[str]:
    """Run `make target` in project; return the python command lines it ran."""
    calls = project / "calls"
    calls.unlink(missing_ok=True)
    subprocess.run(["make", "-s", target], cwd=project, capture_output=True, timeout=60)
    return calls.read_text().splitlines() if calls.exists() else []


def touch_later(path: Path) -> None:
    """Give path a modification time clearly after every file made so far."""
    later = path.stat().st_mtime + 10
    os.utime(path, (later, later))


INSTALL_DEMO = "-m pip install -q -e .[plot,progress,render]"
INSTALL_TEST = "-m pip install -q -e .[test]"


def test_the_first_make_demo_installs_then_runs_the_demo(project):
    assert make(project, "demo") == [INSTALL_DEMO, "-m micrograd demo"]


def test_a_second_make_demo_runs_the_demo_without_installing(project):
    make(project, "demo")
    assert make(project, "demo") == ["-m micrograd demo"]


def test_make_demo_installs_again_after_pyproject_toml_changes(project):
    make(project, "demo")
    touch_later(project / "pyproject.toml")
    assert make(project, "demo") == [INSTALL_DEMO, "-m micrograd demo"]


def test_make_test_installs_the_test_extras_once(project):
    assert make(project, "test") == [INSTALL_TEST, "-m pytest"]
    assert make(project, "test") == ["-m pytest"]


def test_a_failed_install_is_tried_again_next_time(project):
    (project / "pip-fails").touch()
    assert make(project, "demo") == [INSTALL_DEMO]  # make stops at the failure
    (project / "pip-fails").unlink()
    assert make(project, "demo") == [INSTALL_DEMO, "-m micrograd demo"]
