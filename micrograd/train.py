"""Training: `fit` runs the loop of forward pass, loss, backward pass and update.

One step: the model scores a batch of rows, the loss says how wrong the scores are,
`backward()` fills in every parameter's gradient, and the optimizer moves the
parameters against it. `fit` repeats that, records a `History`, and shows progress.
"""

from __future__ import annotations

import itertools
import math
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from os import PathLike
from typing import TYPE_CHECKING, Callable, Optional

from micrograd._checks import excerpt, int_at_least, number_at_least, positive_number
from micrograd._signals import interrupts_deferred
from micrograd.compiler import trace
from micrograd.data import Seed, batches, random_source
from micrograd.engine import Value, no_grad
from micrograd.losses import LOSSES, Loss, l2
from micrograd.metrics import accuracy
from micrograd.nn import Module
from micrograd.optim import SGD, Optimizer, Schedule, StepError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# predict, predicted_class and accuracy live in micrograd.metrics. They were first
# here, and `from micrograd.train import accuracy, predict` (notebooks 03 to 06) still
# finds them: imported, not defined, and not listed in __all__.
from micrograd.metrics import predict, predicted_class  # noqa: F401

__all__ = ["fit", "evaluate", "History", "Callback"]


@dataclass
class History:
    """What `fit` recorded, one entry per step: the loss (regularisation included) and
    the accuracy (empty if not tracked) on the step's batch, and the learning rate.

    Given a validation set, fit also records the loss (regularisation included, so that
    the two curves compare) and the accuracy on all of it, for the same model as the
    step's batch: the one before the step's update.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    # with fit(..., compile=True): the seconds spent tracing and compiling, before step 0
    compile_seconds: float | None = None

    def __len__(self) -> int:
        return len(self.loss)

    def plot(self, path: str | PathLike[str] | None = None) -> Figure:
        """A matplotlib Figure of the loss and accuracy curves, saved to `path` if given.

        Needs matplotlib (`pip install "micrograd[plot]"`); in Jupyter it shows inline.
        """
        from micrograd.plot import plot_history

        return plot_history(self, path)

    def __repr__(self) -> str:
        if not self.loss:
            return "History(0 steps)"
        return f"History({len(self)} steps, last: {_summary(self)})"


# A callback is called after every step with the step number and the history so far;
# returning True stops training (e.g. early stopping once the loss is small enough).
Callback = Callable[[int, History], Optional[bool]]


def fit(
    model: Module,
    X: Sequence[Sequence[float]],
    y: Sequence,
    loss: str | Loss = "hinge",
    optimizer: Optimizer | None = None,
    steps: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    schedule: Schedule | None = None,
    reg: float = 0.0,
    callbacks: Iterable[Callback] = (),
    progress: bool = True,
    seed: Seed = 0,
    track_accuracy: bool | None = None,
    validation: tuple[Sequence[Sequence[float]], Sequence] | None = None,
    compile: bool = False,
) -> History:
    """Train `model` on rows `X` with labels `y`; return the History of every step.

    - `loss`: a function from `micrograd.losses` or its name ("hinge", "mse", ...).
    - `optimizer`: defaults to `SGD(model.parameters(), lr=0.1)`; its parameters
      must be the model's (or some of them, to train only those).
    - `steps` (optimizer steps) or `epochs` (passes over the data): give one.
    - `batch_size`: None is full-batch gradient descent (one step per epoch); a
      number is stochastic gradient descent on shuffled mini-batches, drawn from `seed`
      and counted from `optimizer.step_count`: an optimizer restored from a checkpoint
      continues with the batches an uninterrupted run would have had (for an int seed).
    - `schedule`: sets `optimizer.lr = schedule(optimizer.step_count)` before each step;
      each rate must be a finite number > 0, as any lr (else an error before the step).
    - `reg`: adds the L2 penalty `reg * Σ p²` to the loss.
    - `callbacks`: each called as `callback(step, history)` after every step; one
      that returns True stops training.
    - `progress`: a progress bar with loss and accuracy (tqdm if installed, else text).
    - `track_accuracy`: None tracks it for every loss but "mse".
    - `validation`: a pair (X_val, y_val) of rows never trained on; at every step,
      before the update, fit records the loss and accuracy on all of them as
      `history.val_loss` and `history.val_accuracy`, and shows them in the progress bar.
    - `compile`: run each step's loss as the Python micrograd.compiler writes for it (a
      loop over the batch's samples; the same floats). Full batch: traced once (about
      0.03 s for the demo), then each step is that program. Mini-batches: each batch is
      traced, and runs the program already compiled for its shape (the last, shorter
      batch gets its own), so a step costs about what the Value path's does.

    If the loss, a gradient or the update would be NaN or infinite, fit raises
    FloatingPointError naming the step and the parameter, and the model keeps the
    parameters it had before that step: the optimizer's `step()` checks every number
    before it changes any (an optimizer of your own should too). Ctrl-C stops fit
    between two steps: the model, the optimizer and the History hold the same steps.

    fit leaves Python's cyclic garbage collector alone, so it keeps freeing other
    threads' garbage. It costs time: the collector walks each step's graph to find
    nothing to free (reference counting frees it), about a tenth of fit's time on
    the demo; in a process that has imported torch it walks torch's objects too, two
    fifths of the time (Python 3.11). A script that runs nothing else can train
    inside `gc.disable()` ... `gc.enable()`.
    """
    loss_fn = _loss_function(loss)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    if len(X) == 0:
        raise ValueError("fit needs at least one row, got an empty X")
    if batch_size is not None:
        batch_size = int_at_least("batch_size (None: the full batch)", batch_size, 1)
    per_epoch = 1 if batch_size is None else math.ceil(len(X) / batch_size)
    total_steps = _total_steps(steps, epochs, per_epoch)
    if schedule is not None and not callable(schedule):
        raise TypeError(f"schedule must be a function from step to lr, got {schedule!r}")
    reg = number_at_least("reg", reg, 0)
    if optimizer is None:
        optimizer = SGD(model.parameters(), lr=0.1)
    else:
        _check_optimizer_params(model, optimizer)
    if track_accuracy is None:
        track_accuracy = loss_fn is not LOSSES["mse"]
    if validation is not None:
        X_val, y_val = _validation_set(validation)
    callbacks = list(callbacks)

    penalised = model.parameters()  # the L2 penalty is on the whole model

    def loss_and_scores(X_batch: Sequence, y_batch: Sequence) -> tuple[Value, list]:
        scores = [model(x) for x in X_batch]
        total = loss_fn(scores, y_batch)
        return (total + l2(penalised, reg) if reg else total), scores

    def traced(X_batch: Sequence, y_batch: Sequence) -> Callable[[], tuple[Value, list]]:
        """The loss of one batch as trace() takes it: a function of no arguments, whose
        name names the compiled program."""

        def loss() -> tuple[Value, list]:
            return loss_and_scores(X_batch, y_batch)

        return loss

    compiled = None
    history = History()
    if compile and batch_size is None:  # one batch: traced once, run at every step
        started = time.perf_counter()
        compiled = trace(traced(X, y))
        history.compile_seconds = time.perf_counter() - started
    stream = _stream(X, y, batch_size, seed, start=optimizer.step_count)
    with _progress(total_steps, progress) as bar:
        for step, (X_batch, y_batch) in zip(range(total_steps), stream):
            if schedule is not None:  # a function of the user's: name it if it errs
                k = optimizer.step_count
                optimizer.lr = positive_number(f"schedule({k})", schedule(k))
            if compile and batch_size is not None:  # this batch's numbers, in its program
                started = time.perf_counter()
                compiled = trace(traced(X_batch, y_batch))
                if history.compile_seconds is None:
                    history.compile_seconds = time.perf_counter() - started
            if compiled is not None:  # forward and backward in one call of the traced program
                optimizer.zero_grad()
                run = compiled.run()
                loss_value, scores = run.value, run.outputs
            else:
                total, scores = loss_and_scores(X_batch, y_batch)
                loss_value = total.data
            if not math.isfinite(loss_value):
                raise FloatingPointError(
                    f"step {step}: the loss is {loss_value}; stopped before updating, so the "
                    "model keeps its parameters from before this step (try a smaller lr)"
                )
            if compiled is None:
                optimizer.zero_grad()
                total.backward()
            batch_accuracy = accuracy(scores, y_batch) if track_accuracy else None
            if validation is not None:  # the model of this step's batch, not yet updated
                val_loss, val_scores = _loss_and_scores(model, X_val, y_val, loss_fn, reg)
                # (a loss of one's own may take labels that accuracy cannot read)
                val_accuracy = accuracy(val_scores, y_val) if track_accuracy else None
            with interrupts_deferred():  # the step and its record: both, or neither
                try:
                    optimizer.step()
                except StepError as error:
                    name = _parameter_name(model, optimizer.params[error.index])
                    raise FloatingPointError(f"step {step}: {error.describe(name)}") from None
                history.loss.append(loss_value)
                history.lr.append(optimizer.lr)
                if batch_accuracy is not None:
                    history.accuracy.append(batch_accuracy)
                if validation is not None:
                    history.val_loss.append(val_loss)
                    if val_accuracy is not None:
                        history.val_accuracy.append(val_accuracy)
            bar.update(history)
            if any([callback(step, history) for callback in callbacks]):  # call every one
                break
    return history


def evaluate(
    model: Module,
    X: Sequence[Sequence[float]],
    y: Sequence,
    loss: str | Loss = "hinge",
    reg: float = 0.0,
) -> tuple[float, float]:
    """(loss, accuracy) of `model` on all rows X with labels y, as `fit` measures them:
    the loss with the L2 penalty `reg * Σ p²` included. Builds no graph, changes nothing."""
    loss_value, scores = _loss_and_scores(
        model, X, y, _loss_function(loss), number_at_least("reg", reg, 0)
    )
    return loss_value, accuracy(scores, y)


def _loss_and_scores(
    model: Module, X: Sequence, y: Sequence, loss_fn: Loss, reg: float
) -> tuple[float, list]:
    """The loss (L2 penalty included) on rows X and the model's scores, under no_grad."""
    with no_grad():
        scores = [model(x) for x in X]
        total = loss_fn(scores, y)
        if reg:
            total = total + l2(model.parameters(), reg)
    return total.data, scores


def _validation_set(validation: object) -> tuple[Sequence, Sequence]:
    if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
        raise TypeError(f"validation must be a pair (X_val, y_val), got {excerpt(validation)}")
    X_val, y_val = validation
    if len(X_val) != len(y_val):
        raise ValueError(
            "validation's X_val and y_val must have the same length, "
            f"got {len(X_val)} and {len(y_val)}"
        )
    if len(X_val) == 0:
        raise ValueError("validation needs at least one row, got an empty X_val")
    return X_val, y_val


def _check_optimizer_params(model: Module, optimizer: Optimizer) -> None:
    """Every parameter the optimizer moves must be one of the model's (a subset is
    fine: the others stay frozen); else training would change nothing of the model."""
    own = {id(p) for p in model.parameters()}
    for i, p in enumerate(optimizer.params):
        if id(p) not in own:
            raise ValueError(
                f"optimizer.params[{i}] is not a parameter of the model: build the "
                "optimizer from this model, e.g. SGD(model.parameters(), lr=0.1)"
            )


def _loss_function(loss: str | Loss) -> Loss:
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(
                f"unknown loss {loss!r}; expected one of {sorted(LOSSES)} or a function"
            )
        return LOSSES[loss]
    if not callable(loss):
        raise TypeError(f"loss must be a name or a function(scores, labels), got {loss!r}")
    return loss


def _total_steps(steps: int | None, epochs: int | None, per_epoch: int) -> int:
    if (steps is None) == (epochs is None):
        raise ValueError(
            f"give steps or epochs (one of them), got steps={steps!r}, epochs={epochs!r}"
        )
    if steps is not None:
        return int_at_least("steps", steps, 1)
    return int_at_least("epochs", epochs, 1) * per_epoch


def _stream(X: Sequence, y: Sequence, batch_size: int | None, seed: Seed, start: int) -> Iterator:
    """Batches for step after step from step `start` on: the whole data every time, or
    shuffled mini-batches with a new order every epoch.

    Step k gets the same batch whichever step the run starts from, so training resumed
    from a checkpoint (the optimizer's step_count) sees the batches it would have seen.
    """
    if batch_size is None:
        while True:
            yield X, y
    rng = random_source(seed)  # one generator for all epochs: a new order each time
    epochs_done, batches_done = divmod(start, math.ceil(len(X) / batch_size))
    for _ in range(epochs_done):  # draw the orders of the epochs before `start`, unused
        batches(X, y, batch_size, seed=rng)
    while True:
        yield from itertools.islice(batches(X, y, batch_size, seed=rng), batches_done, None)
        batches_done = 0


def _parameter_name(model: Module, parameter: Value) -> str:
    """How an error names a parameter: its dotted path in the model, quoted (fit has
    checked that every parameter the optimizer moves is the model's)."""
    names = {id(p): name for name, p in model.named_parameters()}
    return repr(names[id(parameter)])


# ---- progress ------------------------------------------------------------------------


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator:
    """A progress bar: tqdm's (its notebook form in Jupyter) if installed, else text;
    closed when the block ends, however it ends."""
    bar: _NoProgress | _TextProgress | _TqdmProgress
    if not enabled:
        bar = _NoProgress()
    else:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            bar = _TextProgress(total)
        else:
            bar = _TqdmProgress(tqdm(total=total, unit="step", leave=True))
    try:
        yield bar
    finally:
        bar.close()


def _summary(history: History) -> str:
    """The latest numbers of a History, e.g. 'loss 0.0163, accuracy 100.0%, val loss ...'."""
    text = f"loss {history.loss[-1]:.4f}"
    if history.accuracy:
        text += f", accuracy {history.accuracy[-1]:.1%}"
    if history.val_loss:
        text += f", val loss {history.val_loss[-1]:.4f}"
    if history.val_accuracy:
        text += f", val accuracy {history.val_accuracy[-1]:.1%}"
    return text


class _NoProgress:
    def update(self, history: History) -> None:
        pass

    def close(self) -> None:
        pass


class _TqdmProgress:
    def __init__(self, bar) -> None:
        self.bar = bar

    def update(self, history: History) -> None:
        self.bar.set_postfix_str(_summary(history), refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


class _TextProgress:
    """One line, rewritten in place on a terminal; elsewhere a line every tenth of the run."""

    def __init__(self, total: int, stream=None) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.every = max(1, total // 10)
        self.written = False

    def update(self, history: History) -> None:
        done = len(history)
        line = f"step {done}/{self.total}: {_summary(history)}"
        if self.live:
            self.stream.write("\r" + line)
        elif done % self.every == 0 or done == self.total:
            self.stream.write(line + "\n")
        else:
            return
        self.stream.flush()
        self.written = True

    def close(self) -> None:
        if self.live and self.written:
            self.stream.write("\n")
            self.stream.flush()
