"""fit(..., validation=(X_val, y_val)): the loss and accuracy on rows never trained on,
at every step, in History, the progress bar and History.plot(); and evaluate()."""

from __future__ import annotations

import random
import sys

import pytest
from helpers import moons

from micrograd.engine import Value
from micrograd.losses import hinge, l2, mse
from micrograd.metrics import accuracy, predict
from micrograd.nn import MLP
from micrograd.optim import SGD
from micrograd.train import History, evaluate, fit

REG = 1e-4


def small_model() -> MLP:
    return MLP(2, [8, 1], rng=random.Random(7))


def train(validation=None, steps: int = 5, batch_size: int | None = None, **options):
    """A small model trained on 40 moons points; (model, its History)."""
    X, y = moons(40, seed=1)
    model = small_model()
    history = fit(model, X, y, loss="hinge", optimizer=SGD(model.parameters(), lr=0.5),
                  steps=steps, batch_size=batch_size, reg=REG, progress=False,
                  validation=validation, **options)  # fmt: skip
    return model, history


def reference(model: MLP, X: list, y: list) -> tuple[float, float]:
    """The validation numbers recomputed from their definition: hinge + L2, and accuracy."""
    scores = predict(model, X)
    return (hinge(scores, y) + l2(model.parameters(), REG)).data, accuracy(scores, y)


VALIDATION = moons(20, seed=2)


def test_each_step_records_the_loss_and_accuracy_on_the_validation_set():
    _, history = train(VALIDATION, steps=5)
    assert len(history.val_loss) == len(history.val_accuracy) == len(history.loss) == 5


@pytest.mark.parametrize("batch_size", [None, 8])
def test_the_validation_numbers_are_those_of_the_model_before_each_update(batch_size):
    X_val, y_val = VALIDATION
    model = small_model()
    expected = [reference(model, X_val, y_val)]  # before the first update

    def after_each_step(step: int, history: History) -> None:
        expected.append(reference(model, X_val, y_val))

    X, y = moons(40, seed=1)
    history = fit(model, X, y, loss="hinge", optimizer=SGD(model.parameters(), lr=0.5),
                  steps=6, batch_size=batch_size, reg=REG, progress=False,
                  validation=VALIDATION, callbacks=[after_each_step])  # fmt: skip
    assert history.val_loss == pytest.approx([loss for loss, _ in expected[:-1]], rel=1e-12)
    assert history.val_accuracy == [fraction for _, fraction in expected[:-1]]


def test_validating_changes_nothing_of_the_training():
    plain_model, plain = train(None, steps=6, batch_size=8)
    model, validated = train(VALIDATION, steps=6, batch_size=8)
    assert validated.loss == plain.loss and validated.accuracy == plain.accuracy
    assert model.state_dict() == plain_model.state_dict()
    assert [p.grad for p in model.parameters()] == [p.grad for p in plain_model.parameters()]


def test_without_a_validation_set_nothing_is_recorded_for_it():
    _, history = train(None)
    assert history.val_loss == [] and history.val_accuracy == []


def test_a_loss_without_accuracy_records_the_validation_loss_only():
    X, y = moons(20, seed=1)
    model = small_model()
    history = fit(model, X, y, loss=mse, steps=3, progress=False, validation=VALIDATION)
    assert len(history.val_loss) == 3 and history.val_accuracy == []


def test_with_track_accuracy_off_labels_need_not_be_numbers():
    """A loss of one's own may take labels accuracy cannot read: (target, weight) pairs."""

    def weighted_squares(scores, labels):
        return Value.sum([w * (s - t) ** 2 for s, (t, w) in zip(scores, labels)]) * 0.5

    X, y = moons(2, seed=1)
    pairs = [(float(t), 2.0) for t in y]
    history = fit(small_model(), X, pairs, loss=weighted_squares, steps=2, progress=False,
                  track_accuracy=False, validation=(X, pairs))  # fmt: skip
    assert len(history.val_loss) == 2 and history.val_accuracy == history.accuracy == []


@pytest.mark.parametrize(
    "validation, error, message",
    [
        (VALIDATION[0], TypeError, "validation must be a pair (X_val, y_val)"),
        ((VALIDATION[0], VALIDATION[1][:-1]), ValueError, "same length, got 20 and 19"),
        (([], []), ValueError, "validation needs at least one row"),
    ],
)
def test_a_bad_validation_set_is_refused_before_training(validation, error, message):
    model = small_model()
    before = model.state_dict()
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        fit(model, *moons(20, seed=1), steps=2, progress=False, validation=validation)
    assert model.state_dict() == before


# ---- evaluate --------------------------------------------------------------------------------


def test_evaluate_gives_the_loss_with_its_penalty_and_the_accuracy():
    X, y = VALIDATION
    model = small_model()
    loss, fraction = evaluate(model, X, y, "hinge", reg=REG)
    assert (loss, fraction) == pytest.approx(reference(model, X, y), rel=1e-12)


def test_evaluate_builds_no_graph_and_leaves_the_gradients_alone():
    model = small_model()
    for p in model.parameters():
        p.grad = 0.5
    evaluate(model, *VALIDATION, "hinge", reg=REG)
    assert all(p.grad == 0.5 for p in model.parameters())


# ---- showing it ------------------------------------------------------------------------------


def test_the_history_repr_shows_the_last_validation_numbers():
    history = History(loss=[0.5], accuracy=[0.75], lr=[0.1], val_loss=[0.625], val_accuracy=[0.5])
    assert repr(history) == (
        "History(1 steps, last: loss 0.5000, accuracy 75.0%, val loss 0.6250, val accuracy 50.0%)"
    )


def test_the_text_progress_bar_shows_the_validation_numbers(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # no tqdm: the text progress line
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    X, y = moons(20, seed=1)
    fit(small_model(), X, y, steps=2, validation=VALIDATION)
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("step 2/2: loss ") and ", val loss " in last
    assert ", val accuracy " in last


def test_history_plot_draws_the_validation_curves_beside_the_training_ones():
    pytest.importorskip("matplotlib")
    _, history = train(VALIDATION, steps=4)
    fig = history.plot()
    loss_axes, accuracy_axes = fig.axes
    assert [line.get_ydata().tolist() for line in loss_axes.lines] == [
        history.loss,
        history.val_loss,
    ]
    assert accuracy_axes.lines[1].get_ydata().tolist() == [100 * a for a in history.val_accuracy]
    (legend,) = fig.legends
    assert [text.get_text() for text in legend.get_texts()] == [
        "training (each step's batch)",
        "validation (all of it)",
    ]
