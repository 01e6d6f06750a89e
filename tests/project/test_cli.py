"""The `micrograd demo` command: trains micrograd's demo and writes its files."""

from __future__ import annotations

import contextlib
import io
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from helpers import ROOT, moons

import micrograd
import micrograd.__main__ as cli
from micrograd.__main__ import DATASETS, main, validation_points
from micrograd.losses import hinge, l2
from micrograd.metrics import accuracy, predict
from micrograd.nn import MLP

FILES = ["model.json", "decision_boundary.png", "training.png", "network.svg", "graph.svg"]


def demo(out: Path, *options: str) -> int:
    return main(["demo", "--out", str(out), "--no-progress", *options])


def run(
    *arguments: str, env: dict | None = None, prefix: tuple = ()
) -> subprocess.CompletedProcess:
    """`python -m micrograd ARGUMENTS` in a new process, as a user runs it (after `prefix`)."""
    env = {**(env or os.environ), "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    command = [*prefix, sys.executable, "-m", "micrograd", *arguments]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def moons_split(seed: int = 1337) -> tuple[list, list, list, list]:
    """The demo's data: micrograd's 100 moons points, and 50 more drawn from a seed of
    their own to validate on; labels -1/+1 for hinge loss."""
    X, y = moons(100, seed)
    X_val, y_val = moons(50, seed=random.Random(f"validation {seed}"))
    return X, X_val, y, y_val


def summary(printed: str, part: str) -> tuple[float, float]:
    """The loss and accuracy (a fraction) the demo reported for `part` ("training" ...)."""
    found = re.search(rf"{part} set \(\d+ points\): loss ([0-9.]+), accuracy ([0-9.]+)%", printed)
    assert found, printed
    return float(found[1]), float(found[2]) / 100


def objective(model: MLP, X: list, labels: list) -> float:
    """What the demo minimises, recomputed here: hinge loss plus 1e-4 times Σ p²."""
    return (hinge(predict(model, X), labels) + l2(model.parameters(), 1e-4)).data


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
        from micrograd.viz.render import find_renderer
    except ImportError:
        return False
    return find_renderer() is not None


def writable_files() -> list[str]:
    """The files the demo must write here: each one whose tools are installed."""
    pngs = ["decision_boundary.png", "training.png"] if has_matplotlib() else []
    svgs = ["network.svg", "graph.svg"] if has_renderer() else []
    return ["model.json", *pngs, *svgs]


@pytest.fixture(scope="module")
def default_run(tmp_path_factory) -> tuple[Path, str]:
    """`micrograd demo` with its defaults, run once: (its output folder, what it printed)."""
    out = tmp_path_factory.mktemp("demo")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert demo(out) == 0
    return out, printed.getvalue()


# ---- the default demo ------------------------------------------------------------------------


def test_the_default_demo_is_micrograds_validated_on_50_more_points(default_run):
    _, printed = default_run
    assert (
        "MLP(2, [16, 16, 1]), 337 parameters, on 100 moons points, validated on 50 more" in printed
    )
    assert "hinge loss + 0.0001 L2; SGD with lr 1.0 decaying linearly to 0.1; 100 steps" in printed


def test_the_default_demo_reaches_full_accuracy_on_training_and_validation_points(default_run):
    _, printed = default_run
    assert summary(printed, "training")[1] == 1.0
    assert summary(printed, "validation")[1] == 1.0


def test_the_summary_is_the_saved_models_loss_and_accuracy_on_each_whole_set(default_run):
    out, printed = default_run
    model = MLP.load(out / "model.json")
    X, X_val, labels, val_labels = moons_split()
    for part, points, truth in [("training", X, labels), ("validation", X_val, val_labels)]:
        loss, fraction = summary(printed, part)
        assert loss == round(objective(model, points, truth), 4)
        assert fraction == accuracy(predict(model, points), truth)


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_the_validation_points_are_new_points_of_every_class_from_the_same_distribution(dataset):
    X, y = DATASETS[dataset](100, 1337)
    X_val, y_val = validation_points(dataset, 50, 1337)
    assert len(X_val) == len(y_val) == 50
    assert set(y_val) == set(y)  # every class, as the training points have
    assert not {tuple(x) for x in X} & {tuple(x) for x in X_val}  # none trained on


def test_the_demos_validation_points_are_the_ones_these_tests_recompute():
    X_val, y_val = validation_points("moons", 50, 1337)
    _, X_check, _, labels_check = moons_split()
    assert (X_val, [2 * t - 1 for t in y_val]) == (X_check, labels_check)


def test_the_saved_model_is_the_trained_one(default_run):
    out, _ = default_run
    X, _, labels, _ = moons_split()
    model = MLP.load(out / "model.json")
    assert accuracy(predict(model, X), labels) == 1.0


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
        pytest.skip("no Graphviz renderer on this machine (micrograd.viz.render.find_renderer())")
    out, printed = default_run
    assert f"wrote {out / 'graph.svg'}" in printed, printed
    assert b"<svg" in (out / "graph.svg").read_bytes()


def test_python_dash_m_micrograd_demo_with_5_steps_writes_its_files(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "micrograd", "demo", "--steps", "5", "--out", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "training set (100 points)" in result.stdout
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


@pytest.mark.skipif(not has_renderer(), reason="no renderer")
def test_the_graph_is_described_truly_when_no_hidden_neuron_is_on(tmp_path, capsys):
    # one hidden neuron, off for the first point after 5 steps with seed 1
    assert demo(tmp_path, "--hidden", "1", "--steps", "5", "--seed", "1") == 0
    model = MLP.load(str(tmp_path / "model.json"))
    X, _ = DATASETS["moons"](100, 1)
    assert model.layers[0]([*X[0]]).data <= 0.0  # the neuron drawn is off
    (line,) = [s for s in capsys.readouterr().out.splitlines() if "graph.svg" in s]
    assert "that is on" not in line and "none is on" in line, line


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


def test_the_header_gives_the_schedules_true_end_even_for_a_tiny_rate(
    tmp_path, capsys, monkeypatch
):
    hide(monkeypatch, *NO_PLOTS)
    assert demo(tmp_path, "--lr", "1e-12", "--steps", "1", "--validation", "0") == 0
    printed = capsys.readouterr().out
    assert "SGD with lr 1e-12 decaying linearly to 1e-13; 1 step, full batch\n" in printed


def test_without_validation_points_it_trains_on_100_and_reports_no_validation(
    tmp_path, capsys, monkeypatch
):
    hide(monkeypatch, *NO_PLOTS)
    assert demo(tmp_path, "--validation", "0", "--steps", "2") == 0
    printed = capsys.readouterr().out
    assert "on 100 moons points\n" in printed and "training set (100 points)" in printed
    assert "validation" not in printed.split("wrote")[0]


def test_with_mini_batches_the_summary_is_the_final_models_loss_on_all_training_points(tmp_path):
    result = run("demo", "--batch-size", "10", "--no-progress", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    model = MLP.load(tmp_path / "model.json")
    X, X_val, labels, val_labels = moons_split()
    assert summary(result.stdout, "training")[0] == round(objective(model, X, labels), 4)
    assert summary(result.stdout, "validation")[0] == round(objective(model, X_val, val_labels), 4)


def test_version_prints_the_package_version():
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout == f"micrograd {micrograd.__version__}\n"


def test_every_option_of_the_demo_has_help_text():
    # argparse heads the list "options:" (Python 3.10 on) or "optional arguments:" (3.9)
    page = run("demo", "--help").stdout
    listed = re.split(r"^(?:options|optional arguments):\n", page, flags=re.M)[1]
    options: dict[str, str] = {}  # "--name VALUE": its help, which may go on over more lines
    for line in listed.splitlines():
        if line.startswith("  -"):
            name, _, help_text = line.strip().partition("  ")
            options[name] = help_text.strip()
        else:
            options[name] += " " + line.strip()
    assert len(options) == 13, options  # --help and the 12 options of the demo
    for name, help_text in options.items():
        assert help_text.strip(), f"{name} has no help text"


@pytest.mark.parametrize(
    "options, message",
    [
        (["--lr", "-1"], "must be > 0, got -1"),
        (["--lr", "inf"], "must be finite, got inf"),
        (["--lr", "nan"], "must be finite, got nan"),
        (["--lr", "1e999"], "must be finite, got inf"),
        (["--lr", "fast"], "expected a number, got 'fast'"),
        (["--hidden", "16,x"], "expected sizes like 16,16"),
        (["--steps", "0"], "must be >= 1, got 0"),
        (["--validation", "-1"], "must be >= 0, got -1"),
        (["--dataset", "mnist"], "invalid choice: 'mnist'"),
    ],
)
def test_bad_options_exit_with_a_usage_error(tmp_path, capsys, options, message):
    with pytest.raises(SystemExit) as exit_info:
        demo(tmp_path, *options)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def usage_error(result: subprocess.CompletedProcess) -> str:
    """The error line of a usage error (exit status 2), checking there is no traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.splitlines()[-1]


def test_an_empty_out_is_refused_saying_a_folder_is_expected(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--out", ""])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.endswith(
        "argument --out: expected the name of a folder to write the results into, got ''\n"
    )


def test_a_batch_size_larger_than_the_training_set_is_refused_by_name(tmp_path):
    line = usage_error(run("demo", "--batch-size", "1000", "--out", str(tmp_path)))
    assert line == (
        "micrograd demo: error: argument --batch-size: 1000 is more than the 100 training "
        "points; give at most 100, or leave it out for the full batch"
    )
    assert not any(tmp_path.iterdir())


def test_a_learning_rate_whose_tenth_is_zero_is_refused_without_a_traceback(tmp_path):
    line = usage_error(run("demo", "--lr", "5e-324", "--out", str(tmp_path)))
    assert "argument --lr: 5e-324 is too small: it decays to a tenth of itself" in line


def test_steps_written_as_a_float_are_refused_as_not_a_whole_number(tmp_path):
    line = usage_error(run("demo", "--steps", "1e9", "--out", str(tmp_path)))
    assert line.endswith(
        "argument --steps: expected a whole number written in digits, like 100, got '1e9'"
    )


# ---- failures: one line and exit status 1, no traceback ---------------------------------------


def test_an_out_path_that_is_a_file_fails_before_training(tmp_path, capsys):
    path = tmp_path / "results"
    path.write_text("not a folder")
    assert demo(path, "--steps", "2") == 1
    printed = capsys.readouterr()
    assert "MLP(2" not in printed.out
    assert printed.err.count("\n") == 1
    assert f"cannot write the results into {path}: it is a file, not a folder" in printed.err


def test_a_read_only_out_folder_fails_before_training():
    # Permission bits do not bind root (its capability CAP_DAC_OVERRIDE): as root, the
    # demo runs without it, so that the folder is read-only for it too.
    prefix: tuple = ()
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip(
                "running as root, and setpriv (util-linux) is not there to drop root's rights"
            )
        prefix = ("setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--")
    folder = Path(tempfile.mkdtemp(prefix="micrograd-read-only-"))
    try:
        folder.chmod(0o555)
        result = run("demo", "--no-progress", "--out", str(folder), prefix=prefix)
        assert result.returncode == 1, result.stderr
        assert result.stdout == ""  # not even the header: training never started
        assert result.stderr == (
            f"micrograd demo: cannot write the results into {folder}: Permission denied\n"
        )
        assert not any(folder.iterdir())
    finally:
        folder.chmod(0o755)
        folder.rmdir()


def test_ctrl_c_during_training_saves_the_model_so_far_and_exits_130(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "micrograd", "demo", "--steps", "100000", "--no-progress",
               "--validation", "0", "--out", str(tmp_path)]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None
        assert "MLP(2" in process.stdout.readline()  # the header: training starts next
        process.stdout.readline()
        time.sleep(1.0)  # some steps in
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    found = re.fullmatch(
        rf"micrograd demo: interrupted after (\d+) of 100000 steps; saved the model trained "
        rf"so far to {re.escape(str(tmp_path / 'model.json'))}\n",
        err,
    )
    assert found, err
    assert int(found[1]) >= 1
    model = MLP.load(tmp_path / "model.json")
    assert all(math.isfinite(p.data) for p in model.parameters())


def test_ctrl_c_before_the_first_step_saves_nothing_and_keeps_the_earlier_model(
    tmp_path, capsys, monkeypatch
):
    earlier = b'{"an earlier run": "its trained model"}'
    (tmp_path / "model.json").write_bytes(earlier)

    def interrupted_fit(*args, **kwargs):
        raise KeyboardInterrupt  # as Ctrl-C while --compile traces, or during step 0

    monkeypatch.setattr(cli, "fit", interrupted_fit)
    assert demo(tmp_path, "--steps", "2") == 130
    assert capsys.readouterr().err == (
        "micrograd demo: interrupted before the first step: nothing was trained, "
        "so nothing was saved\n"
    )
    assert (tmp_path / "model.json").read_bytes() == earlier


def test_ctrl_c_before_the_first_step_removes_the_out_folder_it_made(tmp_path, capsys, monkeypatch):
    def interrupted_fit(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "fit", interrupted_fit)
    assert demo(tmp_path / "new" / "results", "--steps", "2") == 130
    assert list(tmp_path.iterdir()) == []


def test_a_diverged_run_removes_the_out_folders_it_made_and_writes_nothing(
    tmp_path, capsys, monkeypatch
):
    hide(monkeypatch, *NO_PLOTS)
    assert demo(tmp_path / "new" / "results", "--lr", "1e308", "--steps", "3") == 1
    assert list(tmp_path.iterdir()) == []


def test_a_picture_that_cannot_be_written_whole_leaves_no_part_of_itself(tmp_path):
    """Files may not grow past 4 kB here (as on a full disk): the small model is saved,
    each picture fails half-way, and each is left as it was: an earlier run's file
    whole (and said to be an earlier run's), and no half of a new one."""
    pictures = [name for name in writable_files() if name != "model.json"]
    if not pictures:
        pytest.skip("neither matplotlib nor a Graphviz renderer is installed")
    earlier = {name: f"an earlier run's {name}".encode() for name in pictures[::2]}
    for name, data in earlier.items():
        (tmp_path / name).write_bytes(data)
    limit = 4096
    code = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n"
        "from micrograd.__main__ import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-c", code, "demo", "--steps", "2", "--hidden", "4",
               "--validation", "0", "--no-progress", "--out", str(tmp_path)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    MLP.load(tmp_path / "model.json")
    lines = result.stdout.splitlines()
    for name in pictures:
        path = tmp_path / name
        line = next((line for line in lines if line.startswith(f"skipped {path}: ")), None)
        assert line, result.stdout
        if name in earlier:
            assert path.read_bytes() == earlier[name]
            assert line.endswith("; the file there is an earlier run's, left as it was"), line
        else:
            assert not path.exists(), line
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["model.json", *earlier])


def test_a_run_whose_loss_becomes_infinite_fails_with_one_line_naming_the_lr(
    tmp_path, capsys, monkeypatch
):
    hide(monkeypatch, *NO_PLOTS)
    assert demo(tmp_path, "--lr", "1e308", "--steps", "3") == 1
    printed = capsys.readouterr()
    assert printed.err.count("\n") == 1
    assert re.match(r"micrograd demo: training diverged \(step \d+: ", printed.err)
    assert printed.err.endswith(
        "the learning rate 1e+308 is too large: try a smaller one, e.g. --lr 1e+307\n"
    )
    assert not (tmp_path / "model.json").exists()


def test_a_run_whose_loss_ends_far_above_its_start_fails_naming_the_lr(tmp_path):
    result = run("demo", "--lr", "50", "--no-progress", "--out", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    found = re.fullmatch(
        r"micrograd demo: training diverged: the loss on the training points went from "
        r"(\S+) to (\S+); the learning rate 50.0 is too large: try a smaller one, e.g. --lr 5\n",
        result.stderr,
    )
    assert found, result.stderr
    assert float(found[2]) > 10 * float(found[1])
    assert "training set" not in result.stdout
    assert not any(tmp_path.iterdir())  # a failed run leaves no files behind


def test_a_reader_that_stops_reading_is_not_reported_as_a_folder_that_cannot_be_written(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered, as usual
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "micrograd", "demo", "--steps", "2", "--no-progress",
               "--validation", "0", "--out", str(tmp_path)]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    process.stdout.close()  # as `micrograd demo | head -0` does
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1
    assert err == ""


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


def test_compile_trains_the_same_model_and_says_how_long_tracing_took(
    tmp_path, capsys, monkeypatch
):
    hide(monkeypatch, *NO_PLOTS)
    assert demo(tmp_path / "plain", "--steps", "3") == 0
    assert demo(tmp_path / "compiled", "--steps", "3", "--compile") == 0
    printed = capsys.readouterr().out
    assert "full batch, compiled" in printed
    assert re.search(r"trained in [0-9.]+ s \([0-9.]+ s of it tracing and compiling\)", printed)
    plain = (tmp_path / "plain" / "model.json").read_bytes()
    assert (tmp_path / "compiled" / "model.json").read_bytes() == plain


def test_compile_with_mini_batches_trains_the_same_model(tmp_path, capsys, monkeypatch):
    hide(monkeypatch, *NO_PLOTS)
    assert demo(tmp_path / "plain", "--steps", "3", "--batch-size", "30") == 0
    assert demo(tmp_path / "compiled", "--steps", "3", "--batch-size", "30", "--compile") == 0
    assert "batches of 30, compiled" in capsys.readouterr().out
    plain = (tmp_path / "plain" / "model.json").read_bytes()
    assert (tmp_path / "compiled" / "model.json").read_bytes() == plain


def test_the_graph_drawing_shows_one_clean_backward_pass_not_gradients_left_from_training(
    tmp_path, monkeypatch
):
    viz = pytest.importorskip("micrograd.viz")
    drawn: dict = {}

    def recording_draw_dot(root, model, **options):
        drawn["grads"] = [p.grad for p in model.parameters()]
        raise RuntimeError("recorded; nothing to draw")

    monkeypatch.setattr(viz, "draw_dot", recording_draw_dot)
    hide(monkeypatch, *NO_PLOTS)
    assert demo(tmp_path, "--steps", "2") == 0
    # one clean forward and backward pass of the saved model on the first training point
    model = MLP.load(str(tmp_path / "model.json"))
    X, _, _, _ = moons_split()
    model(X[0]).backward()
    assert drawn["grads"] == [p.grad for p in model.parameters()]


def test_with_three_classes_the_network_shows_every_output_unit_named_by_its_class(
    tmp_path, monkeypatch
):
    viz = pytest.importorskip("micrograd.viz")
    drawn = []

    def recording_draw_network(model, **options):
        drawn.append(draw_network(model, **options).source)
        raise RuntimeError("recorded; nothing to render")

    draw_network = viz.draw_network
    monkeypatch.setattr(viz, "draw_network", recording_draw_network)
    hide(monkeypatch, *NO_PLOTS)
    assert demo(tmp_path, "--dataset", "spirals", "--steps", "2") == 0
    (source,) = drawn
    output_layer = 3  # the columns are the inputs, two hidden layers, the outputs
    for k in range(3):
        assert f"n{output_layer}_{k}grad " in source  # its output is drawn and its gradient
        assert re.search(rf'n{output_layer}_{k} \[label="?-?[0-9]', source)
        assert f'n{output_layer}_{k}name [label="class {k}"' in source
