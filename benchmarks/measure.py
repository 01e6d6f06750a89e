"""What run.py and scaling.py share: fresh processes, the peers, the problem, figures.

- `measure(args)` runs worker.py once in a fresh process and returns what it printed.
- `Peers` finds what can be measured besides this project: Karpathy's micrograd
  (installed from PyPI into a cache folder the first time), PyTorch, and this
  project's compiler; each missing one comes with the reason, for the output.
- `demo_problem` makes the data and the initial parameters every contender starts from.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from importlib.metadata import PackageNotFoundError, version
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.dirname(HERE)  # the folder that holds this project's micrograd/
WORKER = os.path.join(HERE, "worker.py")

sys.path.insert(0, REPOSITORY)  # this project's micrograd, even when another is installed
from micrograd.data import make_moons  # noqa: E402
from micrograd.nn import MLP  # noqa: E402

KARPATHY = "micrograd==0.1.0"  # Karpathy's micrograd on PyPI: the peer this project replaces
SEED = 1337  # micrograd's demo: its data and its initial parameters
REG = 1e-4  # the L2 penalty of micrograd's demo


class WorkerFailed(RuntimeError):
    """A measurement's process failed; the message holds the end of its error output."""


def measure(args: list[str], timeout: float = 900) -> dict[str, Any]:
    """Run `worker.py ARGS` in a fresh Python process; the JSON of its last line."""
    done = subprocess.run(
        [sys.executable, WORKER, *args], capture_output=True, text=True, timeout=timeout
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise WorkerFailed(
            f"worker.py {' '.join(args)} failed (exit status {done.returncode}):\n"
            + done.stderr[-3000:]
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def demo_problem(sizes: list[int], points: int) -> dict[str, Any]:
    """micrograd's demo: `points` two-moons points with labels -1/+1, and the initial
    parameters of MLP(sizes) as `micrograd demo` draws them (seed 1337), flat, in
    micrograd's order: layer by layer, neuron by neuron, weights then bias."""
    X, y = make_moons(points, noise=0.1, seed=SEED)
    model = MLP(sizes[0], sizes[1:], rng=random.Random(SEED))
    return {
        "sizes": sizes,
        "X": X,
        "labels": [2 * t - 1 for t in y],
        "parameters": [p.data for p in model.parameters()],
        "reg": REG,
    }


def write_problem(problem: dict[str, Any], folder: str, name: str) -> str:
    """The problem as a JSON file in `folder` (floats round-trip exactly); its path."""
    path = os.path.join(folder, f"{name}.json")
    with open(path, "w", encoding="utf-8") as file:
        json.dump(problem, file)
    return path


class Peers:
    """What can be measured beside this project's Value path, and why not if not."""

    def __init__(self, skip: set[str]) -> None:
        self.skip = skip
        self._karpathy: tuple[str | None, str] | None = None

    def missing(self, name: str) -> str | None:
        """Why `name` ("karpathy", "torch" or "compiled") cannot be measured, or None."""
        if name in self.skip:
            return f"skipped (--skip {name})"
        if name == "karpathy":
            return self.karpathy()[1] or None
        if name == "torch":
            return None if self.torch_version() else "skipped: PyTorch is not installed"
        if name == "compiled":
            if importlib.util.find_spec("micrograd.compiler") is None:
                return "skipped: this micrograd has no micrograd.compiler yet"
            return None
        raise ValueError(f"unknown peer {name!r}")

    def torch_version(self) -> str | None:
        try:
            return version("torch") if importlib.util.find_spec("torch") else None
        except PackageNotFoundError:
            return None

    def karpathy(self) -> tuple[str | None, str]:
        """(the folder that holds Karpathy's micrograd, "") or (None, why not). Installs
        it the first time, unless it is skipped: skipping it is how to run without PyPI."""
        if self._karpathy is None:
            skipped = "karpathy" in self.skip
            self._karpathy = (None, "skipped (--skip karpathy)") if skipped else _install_karpathy()
        return self._karpathy


def karpathy_cache() -> str:
    """Where Karpathy's micrograd is installed, once per machine (a temporary folder)."""
    return os.path.join(tempfile.gettempdir(), "micrograd-benchmarks", KARPATHY.replace("==", "-"))


def _installed(folder: str) -> bool:
    """Whether `folder` holds a whole install of Karpathy's micrograd."""
    return os.path.isfile(os.path.join(folder, "micrograd", "engine.py"))


def _install_karpathy() -> tuple[str | None, str]:
    folder = karpathy_cache()
    if _installed(folder):
        return folder, ""
    print(f"installing {KARPATHY} from PyPI into {folder} ...", file=sys.stderr, flush=True)
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    staging = tempfile.mkdtemp(dir=os.path.dirname(folder), prefix="installing-")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    command += ["--disable-pip-version-check", "--timeout", "15", "--retries", "1"]
    command += ["--target", staging, KARPATHY]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as error:
        shutil.rmtree(staging, ignore_errors=True)
        return None, f"skipped: could not run pip to install {KARPATHY} ({error})"
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        last = (done.stderr.strip().splitlines() or ["no error output"])[-1]
        return None, f"skipped: pip could not install {KARPATHY} (is PyPI reachable?): {last}"
    try:
        os.rename(staging, folder)  # whole or not at all: a failed install leaves no cache
    except OSError:  # a folder is there: another run's install, or a leftover
        if _installed(folder):  # another run installed it meanwhile
            shutil.rmtree(staging, ignore_errors=True)
        else:  # a leftover of an install cut short (by hand, or by an older run.py)
            shutil.rmtree(folder)
            os.rename(staging, folder)
    return folder, ""


# ---- figures ---------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values)


def milliseconds(seconds: float) -> str:
    """A time in ms with three significant figures or so: 2427, 12.9, 1.19."""
    ms = seconds * 1e3
    if ms >= 100:
        return f"{ms:.0f}"
    return f"{ms:.1f}" if ms >= 10 else f"{ms:.2f}"


def times(ratio: float) -> str:
    """A ratio as 188x, 13.4x or 1.07x."""
    if ratio >= 100:
        return f"{ratio:.0f}x"
    return f"{ratio:.1f}x" if ratio >= 10 else f"{ratio:.2f}x"
