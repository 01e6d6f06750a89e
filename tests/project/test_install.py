"""Installing: the built wheel installs into a fresh virtual environment and its
`micrograd demo` works there, away from this checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from helpers import ROOT

import micrograd

# This checkout must not be importable in the new environment: only the wheel may answer.
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def command(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=CLEAN_ENV, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with the wheel built from this checkout installed; its bin folder."""
    work = tmp_path_factory.mktemp("install")
    command(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", work, ROOT, cwd=work)
    (wheel,) = work.glob("micrograd-*.whl")
    venv.create(work / "venv", with_pip=True)
    bin_dir = work / "venv" / ("Scripts" if os.name == "nt" else "bin")
    command(bin_dir / "python", "-m", "pip", "install", "-q", wheel, cwd=work)
    return bin_dir


def test_the_wheel_installs_this_project_not_another_micrograd(installed, tmp_path):
    where = command(
        installed / "python", "-c", "import micrograd; print(micrograd.__file__)", cwd=tmp_path
    ).stdout.strip()
    assert Path(where).is_relative_to(installed.parent)
    assert command(installed / "micrograd", "--version", cwd=tmp_path).stdout == (
        f"micrograd {micrograd.__version__}\n"
    )


def test_micrograd_demo_runs_from_the_installed_wheel(installed, tmp_path):
    result = command(
        installed / "micrograd", "demo", "--steps", "5", "--no-progress", "--out", "results",
        cwd=tmp_path,
    )  # fmt: skip
    assert "training set (100 points)" in result.stdout
    assert (tmp_path / "results" / "model.json").exists()
