"""benchmarks/run.py runs, and prints what benchmarks/README.md quotes from it.

No time is asserted here: speed is measured by the benchmark itself. One quick run
(tiny workloads, one round, without Karpathy's micrograd, which needs the network,
and without PyTorch, whose import alone takes seconds) is shared by the tests below.
"""

from __future__ import annotations

import csv
import importlib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

import pytest
from helpers import ROOT

RUN = ROOT / "benchmarks" / "run.py"
README = ROOT / "benchmarks" / "README.md"


def run_benchmark(*args: str, temporary: Path | None = None) -> subprocess.CompletedProcess:
    """Run benchmarks/run.py ARGS; with `temporary`, as the folder for temporary files
    (TMPDIR), where it would install Karpathy's micrograd."""
    env = {**os.environ, "TMPDIR": str(temporary)} if temporary else None
    return subprocess.run(
        [sys.executable, str(RUN), *args], capture_output=True, text=True, timeout=300, env=env
    )


class QuickRun(NamedTuple):
    output: str
    errors: str  # its stderr: the rounds, and what it installed
    out: Path  # the folder scaling wrote into
    temporary: Path  # its TMPDIR


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> QuickRun:
    """One quick run of every workload, without Karpathy's micrograd and PyTorch."""
    out, temporary = tmp_path_factory.mktemp("scaling"), tmp_path_factory.mktemp("tmpdir")
    done = run_benchmark("--quick", "--skip", "karpathy,torch", "--out", str(out),
                         "demo", "ops", "memory", "deep", "scaling",
                         temporary=temporary)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return QuickRun(done.stdout, done.stderr, out, temporary)


def readme_quote() -> list[str]:
    """The lines of the run.py output quoted in benchmarks/README.md (its first text block)."""
    block = re.search(r"```text\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert block, "benchmarks/README.md quotes no output of benchmarks/run.py"
    return block.group(1).splitlines()


def row_labels(lines: list[str]) -> list[str]:
    """The label of each table row: a line indented by two spaces, then the label, then
    two spaces or more before the figures."""
    return [line[2:].split("  ")[0] for line in lines if re.match(r"  \S.*?\S  +\S", line)]


def test_the_readme_quotes_a_run_of_every_workload():
    quote = readme_quote()
    for workload in ("demo", "ops", "memory", "deep"):
        assert any(line.startswith(f"{workload} (") for line in quote), workload


def test_every_row_the_readme_quotes_is_a_row_the_benchmark_prints(quick):
    output = quick.output
    printed = set(row_labels(output.splitlines()))
    quoted = row_labels(readme_quote())
    assert quoted, "no table rows found in benchmarks/README.md's quote"
    assert [label for label in quoted if label not in printed] == []


def test_every_demo_contender_reaches_the_value_paths_losses(quick):
    output = quick.output
    losses = [line for line in output.splitlines() if re.match(r"  (losses:)? +after \d", line)]
    assert losses, output
    for line in losses:
        assert re.search(r"\((to the last bit|to \de-\d\d, relative)\)$", line), line


def test_contenders_that_cannot_run_say_why(quick):
    output = quick.output
    lines = output.splitlines()
    for label, reason in [
        ("Karpathy's micrograd 0.1.0, gc.disable()", "skipped (--skip karpathy)"),
        ("PyTorch, batched float64, 1 thread", "skipped (--skip torch)"),
    ]:
        assert any(line.startswith(f"  {label}  ") and line.endswith(reason) for line in lines)


def test_skipping_karpathy_installs_nothing(quick):
    assert "installing" not in quick.errors
    assert list(quick.temporary.iterdir()) == []  # no cache folder of Karpathy's micrograd


def test_scaling_writes_a_number_for_every_contender_and_size(quick):
    output, out = quick.output, quick.out
    with open(out / "scaling.csv", newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    sizes = {(row["width"], row["points"]) for row in rows}
    assert sizes == {("8", "100"), ("16", "100"), ("32", "100"), ("64", "100"),
                     ("16", "25"), ("16", "400")}  # fmt: skip
    contenders = {row["contender"] for row in rows}
    assert {"micrograd, Value path", "plain Python floats (the floor)"} <= contenders
    assert all(float(row["ms_per_step"]) > 0 for row in rows)
    assert (out / "scaling.png").read_bytes().startswith(b"\x89PNG")
    assert "losses after 2 steps agree in every configuration" in output


def test_an_unknown_workload_is_refused_by_name():
    done = run_benchmark("demos")
    assert done.returncode == 2
    assert "unknown workload 'demos'" in done.stderr


def test_an_unknown_peer_to_skip_is_refused_by_name():
    done = run_benchmark("--skip", "numpy")
    assert done.returncode == 2
    assert "--skip takes some of karpathy, torch, compiled" in done.stderr


def test_out_without_scaling_is_refused_saying_only_scaling_writes_files(tmp_path):
    done = run_benchmark("--quick", "--skip", "karpathy,torch", "--out", str(tmp_path), "memory",
                         temporary=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].endswith(
        "--out is where scaling writes scaling.csv and scaling.png, and scaling is not among "
        "the workloads: add it, or leave out --out"
    )


def test_a_leftover_incomplete_cache_is_replaced_by_a_whole_install(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(RUN.parent))
    measure = importlib.import_module("measure")  # benchmarks/measure.py
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    cache = Path(measure.karpathy_cache())
    (cache / "micrograd").mkdir(parents=True)  # an install cut short: no engine.py
    (cache / "micrograd" / "__init__.py").write_text("")

    def pip(command: list[str], **options) -> subprocess.CompletedProcess:
        """pip install --target STAGING, without the network: writes the package there."""
        package = Path(command[command.index("--target") + 1]) / "micrograd"
        package.mkdir()
        (package / "engine.py").write_text("# Karpathy's engine\n")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(measure.subprocess, "run", pip)
    assert measure.Peers(set()).karpathy() == (str(cache), "")
    assert (cache / "micrograd" / "engine.py").read_text() == "# Karpathy's engine\n"
    assert [p.name for p in cache.parent.iterdir()] == [cache.name]  # no staging folder left
