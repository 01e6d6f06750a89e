"""micrograd.train: fit, History, progress; and micrograd.plot."""

from __future__ import annotations

import gc
import math
import random
import sys
import threading
import weakref

import pytest
from helpers import moons

from micrograd.data import batches, make_moons
from micrograd.engine import Value
from micrograd.losses import hinge, mse
from micrograd.nn import MLP
from micrograd.optim import SGD, Adam, linear_decay
from micrograd.train import History, fit


def demo_model() -> MLP:
    return MLP(2, [16, 16, 1], rng=random.Random(1337))


def micrograd_loop(model: MLP, X, y, steps: int) -> list[float]:
    """micrograd's demo, written out as in its notebook; returns the loss at each step."""
    params = model.parameters()
    losses = []
    for k in range(steps):
        inputs = [list(map(Value, row)) for row in X]
        scores = list(map(model, inputs))
        data_loss = sum((1 + -yi * si).relu() for yi, si in zip(y, scores)) * (1.0 / len(scores))
        total = data_loss + 1e-4 * sum(p * p for p in params)
        model.zero_grad()
        total.backward()
        for p in params:
            p.data -= (1.0 - 0.9 * k / 100) * p.grad
        losses.append(total.data)
    return losses


# ---- fit reproduces micrograd's demo --------------------------------------------------------


def test_fit_reproduces_micrograds_demo_loop_float_for_float():
    X, y = moons(30)
    expected_model = demo_model()
    expected = micrograd_loop(expected_model, X, y, steps=4)
    model = demo_model()
    history = fit(model, X, y, loss="hinge", steps=4, reg=1e-4,
                  schedule=linear_decay(1.0, 0.1, 100), progress=False)  # fmt: skip
    assert history.loss == expected
    assert model.state_dict() == expected_model.state_dict()


# The full demo (100 steps to 100% accuracy) is run once, by tests/project/test_cli.py.


# ---- what fit records and how it steps ---------------------------------------------------------


def test_history_has_one_loss_accuracy_and_lr_per_step():
    X, y = moons(20)
    history = fit(demo_model(), X, y, steps=3, progress=False)
    assert len(history) == len(history.loss) == len(history.accuracy) == len(history.lr) == 3


def test_schedule_sets_the_learning_rate_of_each_step():
    X, y = moons(20)
    history = fit(demo_model(), X, y, steps=5, schedule=lambda k: 0.1 / (k + 1), progress=False)
    assert history.lr == [0.1 / (k + 1) for k in range(5)]


def test_schedule_continues_from_the_optimizers_step_count():
    X, y = moons(20)
    model = demo_model()
    optimizer = SGD(model.parameters(), lr=0.1)
    optimizer.step_count = 10
    history = fit(
        model, X, y, optimizer=optimizer, steps=2, schedule=lambda k: 1.0 / k, progress=False
    )
    assert history.lr == [1.0 / 10, 1.0 / 11]


def test_epochs_with_a_batch_size_take_a_step_per_batch():
    X, y = moons(10)
    history = fit(demo_model(), X, y, epochs=3, batch_size=4, progress=False)
    assert len(history) == 3 * 3  # batches of 4, 4 and 2


def test_epochs_without_a_batch_size_take_one_full_batch_step_each():
    X, y = moons(10)
    assert len(fit(demo_model(), X, y, epochs=4, progress=False)) == 4


def test_mini_batch_training_is_the_same_for_the_same_seed():
    X, y = moons(20)
    a, b = demo_model(), demo_model()
    fit(a, X, y, steps=6, batch_size=5, seed=3, progress=False)
    fit(b, X, y, steps=6, batch_size=5, seed=3, progress=False)
    assert a.state_dict() == b.state_dict()


def test_mini_batches_are_data_batches_with_a_new_order_each_epoch_from_one_generator():
    X, y = moons(10)
    seen = []

    def recording_hinge(scores, labels):
        seen.append(list(labels))
        return hinge(scores, labels)

    fit(demo_model(), X, y, loss=recording_hinge, epochs=3, batch_size=4, seed=7, progress=False)
    rng = random.Random(7)
    expected = [list(yb) for _ in range(3) for _, yb in batches(X, y, 4, seed=rng)]
    assert seen == expected


def test_fit_works_with_adam_and_cross_entropy():
    X, y = make_moons(40, seed=0)
    model = MLP(2, [8, 2], rng=random.Random(0))
    history = fit(model, X, y, loss="cross_entropy", optimizer=Adam(model.parameters(), lr=0.05),
                  steps=30, progress=False)  # fmt: skip
    assert history.loss[-1] < history.loss[0]


def test_fit_works_with_an_optimizer_written_from_scratch():
    class PlainSGD:  # no Optimizer base class: params, lr, step_count, step, zero_grad
        def __init__(self, params, lr):
            self.params, self.lr, self.step_count = params, lr, 0

        def step(self):
            for p in self.params:
                p.data -= self.lr * p.grad
            self.step_count += 1

        def zero_grad(self):
            for p in self.params:
                p.grad = 0.0

    X, y = moons(10)
    a, b = demo_model(), demo_model()
    fit(a, X, y, optimizer=PlainSGD(a.parameters(), lr=0.1), steps=3, progress=False)
    fit(b, X, y, optimizer=SGD(b.parameters(), lr=0.1), steps=3, progress=False)
    assert a.state_dict() == b.state_dict()


def test_accuracy_is_not_tracked_for_mse():
    X = [[0.0, 1.0], [1.0, 0.0]]
    history = fit(demo_model(), X, [0.5, -0.5], loss=mse, steps=2, progress=False)
    assert history.accuracy == []


def test_callbacks_see_every_step_and_true_stops_training():
    X, y = moons(20)
    seen = []

    def stop_after_three(step, history):
        seen.append((step, len(history)))
        return step == 2

    history = fit(demo_model(), X, y, steps=10, callbacks=[stop_after_three], progress=False)
    assert seen == [(0, 1), (1, 2), (2, 3)]
    assert len(history) == 3


@pytest.mark.parametrize("enabled", [True, False])
def test_fit_leaves_the_garbage_collector_as_it_found_it(enabled):
    X, y = moons(10)
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        fit(demo_model(), X, y, steps=2, progress=False)
        assert gc.isenabled() == enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_fit_lets_the_collector_free_another_threads_cyclic_garbage_while_it_trains():
    X, y = moons(100)
    freed = threading.Event()
    freed_during_fit = []

    class Node:
        pass

    def make_cyclic_garbage():
        node = Node()
        node.itself = node  # only the collector can free it
        weakref.finalize(node, freed.set)

    def at_each_step(step, history):
        if step == 0:
            worker = threading.Thread(target=make_cyclic_garbage)
            worker.start()
            worker.join()
        freed_during_fit.append(freed.is_set())

    fit(demo_model(), X, y, steps=60, callbacks=[at_each_step], progress=False)
    assert any(freed_during_fit), "fit kept the collector from freeing another thread's cycle"


# ---- divergence -------------------------------------------------------------------------------------


def test_a_nan_loss_stops_fit_naming_the_step_and_keeps_the_parameters_from_before_it():
    X, y = moons(20)
    model = demo_model()
    calls = []

    def loss_that_breaks_at_step_3(scores, labels):
        calls.append(None)
        total = hinge(scores, labels)
        return total * math.nan if len(calls) == 4 else total

    snapshots = []
    with pytest.raises(FloatingPointError, match="step 3: the loss is nan"):
        fit(model, X, y, loss=loss_that_breaks_at_step_3, steps=10, progress=False,
            callbacks=[lambda step, history: snapshots.append(model.state_dict())])  # fmt: skip
    assert model.state_dict() == snapshots[-1]


def test_an_infinite_gradient_stops_fit_before_the_update():
    X, y = moons(10)
    model = demo_model()
    before = model.state_dict()

    def loss_with_infinite_slope(scores, labels):
        return hinge(scores, labels) + model.layers[0].neurons[0].b.sqrt()  # b = 0: slope inf

    with pytest.raises(
        FloatingPointError, match=r"step 0: the gradient of parameter 'layers.0.neurons.0.b' is"
    ):
        fit(model, X, y, loss=loss_with_infinite_slope, steps=3, progress=False)
    assert model.state_dict() == before


@pytest.mark.parametrize(
    "rate, error, message",
    [
        (math.nan, ValueError, r"^schedule\(0\) must be finite, got nan$"),
        (-0.1, ValueError, r"^schedule\(0\) must be > 0, got -0.1$"),
        (0.0, ValueError, r"^schedule\(0\) must be > 0, got 0.0$"),
        ("0.1", TypeError, r"^schedule\(0\) must be a number, got str '0.1'$"),
    ],
)
def test_a_bad_learning_rate_from_the_schedule_stops_fit_before_the_step(rate, error, message):
    X, y = moons(10)
    model = demo_model()
    before = model.state_dict()
    with pytest.raises(error, match=message):
        fit(model, X, y, steps=3, schedule=lambda k: rate, progress=False)
    assert model.state_dict() == before


def test_an_update_that_makes_a_parameter_infinite_is_undone_and_names_the_step():
    X = [[1.0, 2.0], [-1.0, 0.5]]
    model = demo_model()
    optimizer = SGD(model.parameters(), lr=1e308)  # finite, but lr * gradient overflows
    before_model, before_optimizer = model.state_dict(), optimizer.state_dict()
    with pytest.raises(
        FloatingPointError, match=r"^step 0: the update made parameter '.*' (inf|-inf|nan)"
    ):
        fit(model, X, [100.0, -100.0], loss="mse", optimizer=optimizer, steps=3, progress=False)
    assert model.state_dict() == before_model
    assert optimizer.state_dict() == before_optimizer


# ---- arguments ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options, message",
    [
        ({}, "give steps or epochs"),
        ({"steps": 3, "epochs": 3}, "give steps or epochs"),
        ({"steps": 0}, "steps must be an int >= 1, got 0"),
        ({"steps": 1, "loss": "l1"}, "unknown loss 'l1'"),
        ({"steps": 1, "batch_size": 0}, r"batch_size \(None: the full batch\) must be an int >= 1"),
        ({"steps": 1, "reg": -1.0}, r"reg must be >= 0, got -1.0"),
        ({"steps": 1, "reg": math.nan}, r"reg must be finite, got nan"),
    ],
)
def test_bad_arguments_are_rejected_before_training(options, message):
    X, y = moons(10)
    model = demo_model()
    before = model.state_dict()
    with pytest.raises(ValueError, match=message):
        fit(model, X, y, progress=False, **options)
    assert model.state_dict() == before


@pytest.mark.parametrize(
    "options, message",
    [
        ({"steps": 3.0}, "steps must be an int >= 1, got float 3.0"),
        ({"epochs": "2"}, "epochs must be an int >= 1, got str '2'"),
        ({"steps": 1, "batch_size": 4.0}, r"batch_size \(None: the full batch\) must be an int"),
        ({"steps": 1, "reg": "0.1"}, "reg must be a number, got str '0.1'"),
    ],
)
def test_arguments_of_the_wrong_type_are_type_errors_before_training(options, message):
    X, y = moons(10)
    model = demo_model()
    before = model.state_dict()
    with pytest.raises(TypeError, match=message):
        fit(model, X, y, progress=False, **options)
    assert model.state_dict() == before


def test_an_optimizer_of_another_models_parameters_is_rejected_before_training():
    X, y = moons(10)
    model, other = demo_model(), demo_model()
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"optimizer\.params\[0\] is not a parameter of the model"):
        fit(model, X, y, optimizer=SGD(other.parameters(), lr=0.1), steps=1, progress=False)
    assert model.state_dict() == before


def test_an_optimizer_of_some_of_the_models_parameters_trains_only_those():
    X, y = moons(10)
    model = demo_model()
    last = model.layers[-1].parameters()
    frozen = {id(p): p.data for p in model.parameters() if all(p is not q for q in last)}
    fit(model, X, y, optimizer=SGD(last, lr=0.1), steps=2, progress=False)
    assert {id(p): p.data for p in model.parameters() if id(p) in frozen} == frozen


def test_hinge_on_a_model_with_three_outputs_says_to_use_cross_entropy():
    X, y = moons(10)
    model = MLP(2, [4, 3], rng=random.Random(0))
    with pytest.raises(
        TypeError, match=r"hinge needs one score per example, got a list of 3 at scores\[0\]"
    ):
        fit(model, X, y, loss="hinge", steps=1, progress=False)


def test_rows_and_labels_must_match_in_number():
    with pytest.raises(ValueError, match="same length, got 2 and 1"):
        fit(demo_model(), [[0.0, 0.0], [1.0, 1.0]], [1], steps=1, progress=False)


# ---- progress ----------------------------------------------------------------------------------------


def test_progress_false_prints_nothing(capsys):
    X, y = moons(10)
    fit(demo_model(), X, y, steps=3, progress=False)
    assert capsys.readouterr() == ("", "")


def test_without_tqdm_progress_is_a_text_line_with_loss_and_accuracy(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    X, y = moons(10)
    fit(demo_model(), X, y, steps=20)
    err = capsys.readouterr().err
    assert "step 20/20: loss " in err and "accuracy" in err


def test_with_tqdm_progress_is_a_tqdm_bar(capsys):
    pytest.importorskip("tqdm")
    X, y = moons(10)
    fit(demo_model(), X, y, steps=3)
    err = capsys.readouterr().err
    assert "3/3" in err and "step/s" in err


# ---- plots -------------------------------------------------------------------------------------------


def test_history_plot_saves_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    history = History(loss=[1.0, 0.5, 0.25], accuracy=[0.5, 0.75, 1.0], lr=[1.0, 0.9, 0.8])
    history.plot(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes().startswith(b"\x89PNG")


def test_decision_boundary_plot_saves_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    from micrograd.plot import plot_decision_boundary

    X, y = moons(20)
    plot_decision_boundary(demo_model(), X, y, tmp_path / "boundary.png", resolution=10)
    assert (tmp_path / "boundary.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "resolution, error, message",
    [
        (10.0, TypeError, "resolution must be an int >= 2, got float 10.0"),
        (1, ValueError, "resolution must be an int >= 2, got 1"),
    ],
)
def test_decision_boundary_resolution_must_be_an_int_of_at_least_2(resolution, error, message):
    from micrograd.plot import plot_decision_boundary

    X, y = moons(4)
    with pytest.raises(error, match=message):
        plot_decision_boundary(demo_model(), X, y, resolution=resolution)


PLOT_AND_REPORT_PYPLOT = """
import sys, types
if sys.argv[1] == "jupyter":
    sys.modules["ipykernel"] = types.ModuleType("ipykernel")  # as in a Jupyter kernel
from micrograd.plot import plot_history
from micrograd.train import History
figure = plot_history(History(loss=[1.0, 0.5], accuracy=[0.5, 1.0], lr=[0.1, 0.1]))
pyplot = sys.modules.get("matplotlib.pyplot")
print(pyplot is not None, pyplot is not None and bool(pyplot.get_fignums()))
"""


@pytest.mark.parametrize(
    "where, imports_pyplot", [("script", False), ("jupyter", True)], ids=["script", "jupyter"]
)
def test_charts_use_pyplot_only_in_jupyter_and_never_register_with_it(where, imports_pyplot):
    pytest.importorskip("matplotlib")
    import os
    import subprocess

    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, "-c", PLOT_AND_REPORT_PYPLOT, where],
                            capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(imports_pyplot), "False"]


def test_plotting_without_matplotlib_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r'pip install "micrograd\[plot\]"'):
        History(loss=[1.0], accuracy=[], lr=[0.1]).plot()
