"""The `micrograd demo` command: trains micrograd's demo and writes its files."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from micrograd.__main__ import main
from micrograd.data import make_moons
from micrograd.nn import MLP
from micrograd.train import accuracy, predict

ROOT = Path(__file__).resolve().parent.parent
FILES = ["model.json", "decision_boundary.png", "training.png", "graph.svg"]


def demo(out: Path, *options: str) -> int:
    return main(["demo", "--out", str(out), "--no-progress", *options])


def hide(monkeypatch, *modules: str) -> None:
    """Make `import module` fail, as if the package were not installed."""
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


NO_PLOTS = ("matplotlib", "matplotlib.figure")


def has_matplotlib() -> bool:
    try:
        import matplotlib.figure  # noqa: F401
    except ImportError:
        return False
    return True


def has_renderer() -> bool:
    """Whether this machine can render a drawing: the graphviz package and a program."""
    try:
        from micrograd.render import find_renderer
    except ImportError:
        return False
    return find_renderer() is not None


def writable_files() -> list[str]:
    """The files the demo must write here: each one whose tools are installed."""
    pngs = ["decision_boundary.png", "training.png"] if has_matplotlib() else []
    return ["model.json", *pngs, *(["graph.svg"] if has_renderer() else [])]


@pytest.fixture(scope="module")
def default_run(tmp_path_factory) -> tuple[Path, str]:
    """`micrograd demo` with its defaults, run once: (its output folder, what it printed)."""
    out = tmp_path_factory.mktemp("demo")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert demo(out) == 0
    return out, printed.getvalue()


# ---- the default demo ------------------------------------------------------------------------


def test_the_default_demo_is_micrograds_and_reaches_full_accuracy(default_run):
    _, printed = default_run
    assert "MLP(2, [16, 16, 1]), 337 parameters, on 100 moons points" in printed
    assert "hinge loss + 1e-4 L2; SGD with lr 1.0 decaying linearly to 0.1; 100 steps" in printed
    assert "accuracy 100.0% on the 100 training points" in printed


def test_the_saved_model_is_the_trained_one(default_run):
    out, _ = default_run
    X, y = make_moons(100, noise=0.1, seed=1337)
    model = MLP.load(out / "model.json")
    assert accuracy(predict(model, X), [2 * t - 1 for t in y]) == 1.0


def test_each_file_whose_tools_are_installed_is_written_and_the_rest_skipped(default_run):
    out, printed = default_run
    for name in FILES:
        path = out / name
        if name in writable_files():
            assert f"wrote {path}" in printed and path.exists(), printed
        else:
            assert f"skipped {path}: " in printed and not path.exists(), printed


def test_the_pngs_are_written_when_matplotlib_is_installed(default_run):
    if not has_matplotlib():
        pytest.skip("matplotlib is not installed")
    out, _ = default_run
    for name in ["decision_boundary.png", "training.png"]:
        assert (out / name).read_bytes().startswith(b"\x89PNG")


def test_the_graph_is_an_svg_when_a_renderer_is_installed(default_run):
    if not has_renderer():
        pytest.skip("no Graphviz renderer on this machine (micrograd.render.find_renderer())")
    out, printed = default_run
    assert f"wrote {out / 'graph.svg'}" in printed, printed
    assert b"<svg" in (out / "graph.svg").read_bytes()


def test_python_dash_m_micrograd_demo_with_5_steps_writes_its_files(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "micrograd", "demo", "--steps", "5", "--out", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "trained in" in result.stdout
    for name in FILES:
        wrote = f"wrote {tmp_path / name}" in result.stdout
        assert wrote == (name in writable_files()) == (tmp_path / name).exists(), result.stdout


# ---- missing optional packages --------------------------------------------------------------
# Tests that are not about the charts hide matplotlib too, only to run faster.


def test_without_matplotlib_the_demo_still_trains_and_saves_and_says_what_it_skipped(
    tmp_path, capsys, monkeypatch
):
    hide(monkeypatch, *NO_PLOTS)
    assert demo(tmp_path, "--steps", "2") == 0
    printed = capsys.readouterr().out
    assert f"wrote {tmp_path / 'model.json'}" in printed
    for name in ["decision_boundary.png", "training.png"]:
        reason = 'plotting needs matplotlib: pip install "micrograd[plot]"'
        assert f"skipped {tmp_path / name}: {reason}" in printed
        assert not (tmp_path / name).exists()


def test_without_the_drawing_module_the_graph_is_skipped(tmp_path, capsys, monkeypatch):
    hide(monkeypatch, "micrograd.viz", *NO_PLOTS)
    assert demo(tmp_path, "--steps", "2") == 0
    assert f"skipped {tmp_path / 'graph.svg'}: " in capsys.readouterr().out
    assert not (tmp_path / "graph.svg").exists()


def test_when_rendering_fails_the_graph_is_skipped_with_the_reason(tmp_path, capsys, monkeypatch):
    viz = pytest.importorskip("micrograd.viz")

    def no_renderer(*args, **kwargs):
        raise RuntimeError("no dot program")

    monkeypatch.setattr(viz, "draw_dot", no_renderer)
    hide(monkeypatch, *NO_PLOTS)
    assert demo(tmp_path, "--steps", "2") == 0
    printed = capsys.readouterr().out
    assert f"skipped {tmp_path / 'graph.svg'}: RuntimeError: no dot program" in printed


# ---- options ---------------------------------------------------------------------------------


def test_spirals_train_a_three_class_model_with_cross_entropy(tmp_path, capsys, monkeypatch):
    hide(monkeypatch, *NO_PLOTS)
    assert demo(tmp_path, "--dataset", "spirals", "--steps", "3") == 0
    printed = capsys.readouterr().out
    assert "MLP(2, [16, 16, 3])" in printed and "cross_entropy loss" in printed


def test_options_choose_the_network_optimizer_and_batches(tmp_path, capsys, monkeypatch):
    hide(monkeypatch, *NO_PLOTS)
    options = ["--hidden", "8", "--activation", "tanh", "--optimizer", "adam", "--batch-size", "10",
               "--lr", "0.02", "--seed", "3", "--steps", "3", "--dataset", "circles"]  # fmt: skip
    assert demo(tmp_path, *options) == 0
    printed = capsys.readouterr().out
    assert "MLP(2, [8, 1])" in printed and "Adam with lr 0.02 decaying linearly to 0.002" in printed
    assert "batches of 10" in printed
    assert MLP.load(tmp_path / "model.json").layers[0].neurons[0].activation == "tanh"


@pytest.mark.parametrize(
    "options, message",
    [
        (["--lr", "-1"], "must be > 0, got -1"),
        (["--lr", "inf"], "must be finite, got inf"),
        (["--lr", "nan"], "must be finite, got nan"),
        (["--lr", "1e999"], "must be finite, got inf"),
        (["--lr", "fast"], "expected a number, got 'fast'"),
        (["--hidden", "16,x"], "expected sizes like 16,16"),
        (["--steps", "0"], "must be > 0, got 0"),
        (["--dataset", "mnist"], "invalid choice: 'mnist'"),
    ],
)
def test_bad_options_exit_with_a_usage_error(tmp_path, capsys, options, message):
    with pytest.raises(SystemExit) as exit_info:
        demo(tmp_path, *options)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


# ---- failures: one line and exit status 1, no traceback ---------------------------------------


def test_an_out_path_that_is_a_file_fails_before_training(tmp_path, capsys):
    path = tmp_path / "results"
    path.write_text("not a folder")
    assert demo(path, "--steps", "2") == 1
    printed = capsys.readouterr()
    assert "trained in" not in printed.out
    assert printed.err.count("\n") == 1
    assert f"cannot write the results into {path}: it is a file, not a folder" in printed.err


def test_a_diverging_run_fails_with_one_line_naming_the_step(tmp_path, capsys, monkeypatch):
    hide(monkeypatch, *NO_PLOTS)
    assert demo(tmp_path, "--lr", "1e308", "--steps", "3") == 1
    printed = capsys.readouterr()
    assert printed.err.count("\n") == 1
    assert re.match(r"micrograd demo: training diverged: step \d+: .*smaller lr", printed.err)
    assert not (tmp_path / "model.json").exists()


def test_a_model_that_cannot_be_saved_fails_with_one_line(tmp_path, capsys, monkeypatch):
    hide(monkeypatch, *NO_PLOTS)

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    assert demo(tmp_path, "--steps", "2") == 1
    printed = capsys.readouterr()
    assert printed.err.count("\n") == 1
    assert "micrograd demo: cannot write" in printed.err
    assert "No space left on device" in printed.err


def test_the_graph_drawing_leaves_the_gradients_at_zero_even_when_it_fails(
    tmp_path, capsys, monkeypatch
):
    viz = pytest.importorskip("micrograd.viz")
    drawn = []

    def failing_draw_dot(root, model, **options):
        drawn.append(model)
        assert any(p.grad != 0.0 for p in model.parameters())  # backward() ran
        raise RuntimeError("no dot program")

    monkeypatch.setattr(viz, "draw_dot", failing_draw_dot)
    hide(monkeypatch, *NO_PLOTS)
    assert demo(tmp_path, "--steps", "2") == 0
    assert "skipped" in capsys.readouterr().out
    assert [p.grad for p in drawn[0].parameters()] == [0.0] * drawn[0].num_parameters()
