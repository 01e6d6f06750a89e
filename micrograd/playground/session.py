"""The playground's kernel: one training session (data, model, optimizer) and the state the page draws.

Both hosts of the playground run this module and nothing else of their own: the page's
Web Worker (micrograd in Pyodide) and the Jupyter widget (micrograd in the kernel).
The front-end calls `Session.call(method, params)` with JSON in and JSON out, so it
talks to either host the same way. Training is micrograd's own: every step is a step
of `micrograd.train.fit`, so the loss the page shows is the loss `fit` computes in
Python for the same settings and seed, float for float.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable

from micrograd.__main__ import DECAY, DIVERGED, REG, smaller_lr
from micrograd._checks import (
    excerpt,
    finite_number,
    int_at_least,
    number_at_least,
    positive_number,
)
from micrograd.data import (
    Points,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    train_test_split,
)
from micrograd.engine import ACTIVATIONS, LINEAR, Value
from micrograd.losses import Loss, cross_entropy, hinge
from micrograd.nn import MLP
from micrograd.optim import SGD, Adam, Optimizer, Schedule, cosine, linear_decay, step_decay
from micrograd.train import History, evaluate, fit

__all__ = ["Session", "Settings", "DATASETS", "OPTIMIZERS", "SCHEDULES", "default_settings"]

# The data sets a learner picks from: each makes n labelled 2-D points from a noise and a seed.
DATASETS: dict[str, Callable[[int, float, int], tuple[Points, list[int]]]] = {
    "moons": lambda n, noise, seed: make_moons(n, noise=noise, seed=seed),
    "circles": lambda n, noise, seed: make_circles(n, noise=noise, seed=seed),
    "spirals": lambda n, noise, seed: make_spirals(n, classes=3, noise=noise, seed=seed),
    # three clouds around the unit circle, so that every set lies in about [-1.5, 1.5]²
    "blobs": lambda n, noise, seed: make_blobs(
        n, centers=[[0.0, 1.0], [-0.87, -0.5], [0.87, -0.5]], std=noise, seed=seed
    ),
    "xor": lambda n, noise, seed: make_xor(n, noise=noise, seed=seed),
}
CLASSES = {"moons": 2, "circles": 2, "spirals": 3, "blobs": 3, "xor": 2}
# "momentum" is SGD with momentum 0.9, PyTorch's usual choice
OPTIMIZERS = ("sgd", "momentum", "adam")
MOMENTUM = 0.9
# The schedules: each starts at lr and, but for "constant", ends at lr * DECAY (a tenth,
# as `micrograd demo`) after `decay_steps`; "step" halves the rate every `decay_steps`.
SCHEDULES = ("constant", "linear", "cosine", "step")
# Each unit's output is computed at GRID x GRID points of the plane for its heatmap (the
# output units' make the decision boundary): 24 x 24 is smooth once the page scales it up,
# and costs about two of the demo's steps in Pyodide (40 x 40 would cost three times that).
GRID = 24
# At most 4 hidden layers of 32 neurons: the page draws every unit and every weight, and
# a step of that largest model takes about ten of the demo's.
MAX_UNITS = 32
MAX_LAYERS = 4
MAX_POINTS = 1000  # generated points at most (training + validation)


@dataclass
class Settings:
    """Everything that defines a session from its start: the page's URL holds exactly this.

    `added` are points a learner added, [x, y, class]; `removed` the indices of generated
    training points taken away; `edits` the weights set by hand before the first step,
    by parameter name (`layers.0.neurons.3.w.1`).
    """

    dataset: str = "moons"
    points: int = 100  # training points generated
    validation: int = 50  # held out, never trained on
    noise: float = 0.1
    seed: int = 1337
    hidden: list[int] = field(default_factory=lambda: [16, 16])
    activation: str = "relu"
    optimizer: str = "sgd"
    lr: float = 1.0
    schedule: str = "linear"
    decay_steps: int = 100
    batch_size: int | None = None  # None: full batch
    l2: float = REG
    added: list[list[float]] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    edits: dict[str, float] = field(default_factory=dict)


def default_settings() -> dict[str, Any]:
    """The default settings as JSON-ready data: micrograd's demo (MLP(2, [16, 16, 1]) with
    relu, SGD from lr 1.0 decaying linearly to 0.1 over 100 steps, hinge loss + 1e-4 L2)."""
    return asdict(Settings())


# How each setting is named in a message, and what it must be.
_LABELS = {
    "dataset": "data set",
    "points": "training points",
    "validation": "validation points",
    "noise": "noise",
    "seed": "seed",
    "hidden": "hidden layers",
    "activation": "activation",
    "optimizer": "optimizer",
    "lr": "learning rate",
    "schedule": "schedule",
    "decay_steps": "decay steps",
    "batch_size": "batch size",
    "l2": "L2",
}


def _number(name: str, value: object) -> float:
    """A setting that must be a finite number: a number, or text that reads as one."""
    label = _LABELS.get(name, name)
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError(f"{label} must be a number, got {excerpt(value)}") from None
    return finite_number(label, value)


def _integer(name: str, value: object, minimum: int) -> int:
    """A setting that must be a whole number >= minimum: an int, or text of digits."""
    label = _LABELS.get(name, name)
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ValueError(
                f"{label} must be a whole number >= {minimum}, got {excerpt(value)}"
            ) from None
    if isinstance(value, float) and value.is_integer():  # JSON has one kind of number
        value = int(value)
    return int_at_least(label, value, minimum)


def _choice(name: str, value: object, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"{_LABELS[name]} must be one of {list(choices)}, got {excerpt(value)}")
    return str(value)


def _hidden(value: object) -> list[int]:
    """Hidden layer sizes: a list of ints, or text such as "16, 16" ("" for none)."""
    if isinstance(value, str):
        parts = [part for part in value.replace(",", " ").split()]
        value = parts
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"hidden layers must be a list of sizes, got {excerpt(value)}")
    if len(value) > MAX_LAYERS:
        raise ValueError(f"hidden layers: at most {MAX_LAYERS} layers, got {len(value)}")
    sizes = []
    for i, size in enumerate(value):
        n = _integer(f"hidden layer {i + 1}", size, 1)
        if n > MAX_UNITS:
            raise ValueError(f"hidden layer {i + 1} must have at most {MAX_UNITS} neurons, got {n}")
        sizes.append(n)
    return sizes


def check_settings(raw: Mapping[str, Any], base: Settings | None = None) -> Settings:
    """`base` (by default the defaults) with the settings in `raw` changed, every one checked.

    A value may be text as typed in the page ("0.5", "16, 16"); an unknown name or a bad
    value raises ValueError (or TypeError) naming the setting and what it must be.
    """
    if not isinstance(raw, Mapping):
        raise TypeError(f"settings must be a mapping of names to values, got {excerpt(raw)}")
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(raw) - known, key=str)
    if unknown:
        raise ValueError(f"unknown setting {excerpt(unknown[0])}; known are {sorted(known)}")
    merged = {**asdict(base or Settings()), **raw}
    s = Settings(
        dataset=_choice("dataset", merged["dataset"], list(DATASETS)),
        points=_integer("points", merged["points"], 2),
        validation=_integer("validation", merged["validation"], 0),
        noise=number_at_least("noise", _number("noise", merged["noise"]), 0),
        seed=_integer("seed", merged["seed"], 0),
        hidden=_hidden(merged["hidden"]),
        activation=_choice("activation", merged["activation"], sorted(ACTIVATIONS)),
        optimizer=_choice("optimizer", merged["optimizer"], OPTIMIZERS),
        lr=positive_number("learning rate", _number("lr", merged["lr"])),
        schedule=_choice("schedule", merged["schedule"], SCHEDULES),
        decay_steps=_integer("decay_steps", merged["decay_steps"], 1),
        batch_size=None
        if merged["batch_size"] in (None, "", "all")
        else _integer("batch_size", merged["batch_size"], 1),
        l2=number_at_least("L2", _number("l2", merged["l2"]), 0),
        added=_added(merged["added"]),
        removed=_removed(merged["removed"]),
        edits=_edits(merged["edits"]),
    )
    if s.points + s.validation > MAX_POINTS:
        raise ValueError(
            f"training and validation points: at most {MAX_POINTS} in all, "
            f"got {s.points} + {s.validation}"
        )
    return s


def _added(value: object) -> list[list[float]]:
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"added points must be a list of [x, y, class], got {excerpt(value)}")
    points = []
    for i, point in enumerate(value):
        if not isinstance(point, (list, tuple)) or len(point) != 3:
            raise ValueError(f"added point {i} must be [x, y, class], got {excerpt(point)}")
        x, y = _number(f"added point {i} x", point[0]), _number(f"added point {i} y", point[1])
        points.append([x, y, _integer(f"added point {i} class", point[2], 0)])
    return points


def _removed(value: object) -> list[int]:
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"removed points must be a list of indices, got {excerpt(value)}")
    return sorted({_integer("removed point", i, 0) for i in value})


def _edits(value: object) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise TypeError(f"edits must map parameter names to numbers, got {excerpt(value)}")
    return {str(name): _number(f"weight {name}", x) for name, x in value.items()}


class Session:
    """One playground: its data, its model and optimizer, training, and the state to draw.

    Every method the front-end may call is listed in `CALLS`; `call(name, params_json)`
    runs one and answers JSON: its result, or {"error": message} for bad input.
    """

    CALLS = (
        "state",
        "set",
        "reset",
        "train",
        "add_point",
        "remove_point",
        "set_weight",
        "choose_point",
        "frame",
    )

    def __init__(
        self,
        settings: Mapping[str, Any] | None = None,
        render: bool = False,
        model: MLP | None = None,
        data: tuple[Sequence[Sequence[float]], Sequence[int]] | None = None,
    ) -> None:
        """A session with `settings` (see Settings; the defaults are micrograd's demo).

        - render=True: graph frames come back as SVG, rendered in Python by micrograd's
          renderer (the Jupyter widget); else as DOT text, which the page renders itself.
        - model: an MLP of one's own with 2 inputs (and 1 output for 2 classes, k for k),
          trained from the weights it has now; reset() puts those back. Its layers replace
          the settings' hidden layers and activation.
        - data: (X, y) of one's own instead of a generated set: 2-D points and their
          classes 0, 1, ...; the settings' `validation` points of them are held out.
        """
        self.render = render
        self.own_data = None if data is None else _own_data(data)
        self.own_model = model
        self._own_start = None
        if model is not None:
            config = model.config() if isinstance(model, MLP) else None
            if config is None or config["nin"] != 2:
                raise TypeError(
                    f"model must be an MLP with 2 inputs (a point's x and y), got {excerpt(model)}"
                )
            self._own_start = model.state_dict()
            settings = {
                **(settings or {}),
                "hidden": config["nouts"][:-1],
                "activation": config["activation"],
            }
        if self.own_data is not None:
            settings = {"validation": 0, **(settings or {}), "points": len(self.own_data[0])}
        self.settings = check_settings(settings or {})
        self.point: int | None = None  # the training point whose pass is shown
        self._frames: Any = None  # its step_through, made for step `_frames_step`
        self._frames_step = -1
        self.reset()

    # ---- building: data, model, optimizer ---------------------------------------------

    def reset(self) -> dict[str, Any]:
        """Back to step 0: the data, the model's first weights (with the edits), a new optimizer."""
        s = self.settings
        if self.own_data is not None:
            X, y = self.own_data
            self.classes = max(2, max(y) + 1)
            if s.validation >= len(X):
                raise ValueError(
                    f"validation points must be fewer than your {len(X)} points, got {s.validation}"
                )
        else:
            self.classes = CLASSES[s.dataset]
            X, y = DATASETS[s.dataset](s.points + s.validation, s.noise, s.seed)
        for i, (_, _, label) in enumerate(s.added):
            if not 0 <= label < self.classes:
                raise ValueError(
                    f"added point {i} is of class {label:g}; the data has classes "
                    f"0 to {self.classes - 1}"
                )
        if s.validation:
            X, X_val, y, y_val = train_test_split(X, y, test_size=s.validation, seed=s.seed)
        else:
            X_val, y_val = [], []
        self.generated = (X, y)
        self.validation_rows = (X_val, y_val)
        self.extent = _extent(X + X_val)
        outputs = 1 if self.classes == 2 else self.classes
        own = self.own_model
        if (
            own is not None
            and self._own_start is not None
            and own.config() == {**own.config(), "nouts": [*s.hidden, outputs]}
            and own.config()["activation"] == s.activation
        ):
            own.load_state_dict(self._own_start)  # its weights from the start
            self.model = own
        elif own is not None and own.config()["nouts"][-1] != outputs:
            raise ValueError(
                f"model has {own.config()['nouts'][-1]} outputs; the data's {self.classes} "
                f"classes need {outputs}"
            )
        else:  # micrograd's demo's way: the first weights drawn from the seed
            self.model = MLP(
                2, [*s.hidden, outputs], activation=s.activation, rng=random.Random(s.seed)
            )
        self._apply_edits(s.edits)
        self.optimizer = _optimizer(s.optimizer, self.model, s.lr)
        self.schedule = _schedule(s.schedule, s.lr, s.decay_steps)
        self.loss: Loss = hinge if self.classes == 2 else cross_entropy
        self.history = History()
        self.validation: list[list[float]] = []  # [step, loss, accuracy] on the held-out points
        self.run = getattr(self, "run", 0) + 1  # which run the curves are of: one per reset
        self.message: dict[str, str] | None = None
        self.diverged = False
        self._frames = None
        if self.point is not None and self.point >= len(self.rows()[0]):
            self.point = None
        self._validate()  # the curve starts at step 0
        return self.state()

    def _apply_edits(self, edits: Mapping[str, float]) -> None:
        parameters = dict(self.model.named_parameters())
        for name in edits:
            if name not in parameters:
                raise ValueError(f"edits: the model has no parameter {excerpt(name)}")
        for name, x in edits.items():
            parameters[name].data = x

    def rows(self) -> tuple[list[list[float]], list[int]]:
        """The training points (generated, less the removed, then the added) and their classes."""
        X, y = self.generated
        removed = set(self.settings.removed)
        kept = [i for i in range(len(X)) if i not in removed]
        points = [X[i] for i in kept] + [p[:2] for p in self.settings.added]
        classes = [y[i] for i in kept] + [int(p[2]) for p in self.settings.added]
        return points, classes

    def labels(self, classes: Sequence[int]) -> list[int]:
        """What the loss takes: -1/+1 for hinge (two classes, as micrograd's demo), else indices."""
        return [2 * c - 1 for c in classes] if self.classes == 2 else list(classes)

    # ---- what the front-end calls -------------------------------------------------------

    def call(self, method: str, params: str = "{}") -> str:
        """Run the call `method` with JSON `params`; answer JSON: its result, or
        {"error": message} for a bad call or bad input (nothing changed then)."""
        try:
            if method not in self.CALLS:
                raise ValueError(f"unknown call {excerpt(method)}; known are {list(self.CALLS)}")
            arguments = json.loads(params) if params else {}
            if not isinstance(arguments, dict):
                raise TypeError(f"the parameters of a call are an object, got {excerpt(arguments)}")
            result = getattr(self, method)(**arguments)
        except (TypeError, ValueError) as error:
            return json.dumps({"error": str(error)})
        return json.dumps(result, allow_nan=False, separators=(",", ":"))

    def set(self, **settings: Any) -> dict[str, Any]:
        """Change settings (all checked first: on a bad one nothing changes) and start again."""
        if "hidden" in settings or "dataset" in settings:  # another model: its edits do not fit
            settings.setdefault("edits", {})
        if "dataset" in settings or "points" in settings or "seed" in settings:
            settings.setdefault("added", [])  # other data: its points and removals go
            settings.setdefault("removed", [])
        if "validation" in settings:  # another split: the removals were of the old one's points
            settings.setdefault("removed", [])
        new = check_settings(settings, self.settings)
        old, self.settings = self.settings, new
        try:
            return self.reset()
        except (TypeError, ValueError):
            self.settings = old
            self.reset()
            raise

    def train(
        self,
        steps: int = 1,
        seconds: float | None = None,
        since: int = 0,
        pictures: bool = True,
        run: int | None = None,
    ) -> dict[str, Any]:
        """Train `steps` steps of micrograd's `fit` (or fewer, if `seconds` run out first).

        The steps continue the run: the schedule and the mini-batches go on from the
        optimizer's step count, as in one long call of fit. A step whose loss, gradient
        or update is not finite stops training with a message that names the learning rate.
        The validation points are measured once, after the last step (micrograd's
        `evaluate`), not at every step as fit's `validation=` would: that took a third
        of each step's time in the page. Answers the state (see `state`).
        """
        steps = _integer("steps", steps, 1)
        if self.diverged:
            return self.state(since, pictures, run)
        s = self.settings
        X, classes = self.rows()
        if not X:
            raise ValueError("there are no training points: add some, or reset the data")
        labels = self.labels(classes)
        X_val, y_val = self.validation_rows
        deadline = None if seconds is None else time.perf_counter() + _number("seconds", seconds)
        record = self.history

        def keep(step: int, history: History) -> bool:
            """Copy each step's record as it is made, and stop when the time is up."""
            record.loss.append(history.loss[-1])
            record.lr.append(history.lr[-1])
            record.accuracy.append(history.accuracy[-1])
            if record.loss[-1] > DIVERGED * record.loss[0]:  # stop at once, said below
                return True
            return deadline is not None and time.perf_counter() >= deadline

        try:
            fit(
                self.model,
                X,
                labels,
                loss=self.loss,
                optimizer=self.optimizer,
                steps=steps,
                batch_size=s.batch_size,
                schedule=self.schedule,
                reg=s.l2,
                callbacks=[keep],
                progress=False,
                seed=s.seed,
                track_accuracy=True,
            )
        except FloatingPointError as error:
            self.diverged = True
            lr = self.optimizer.lr
            self.message = {
                "kind": "error",
                "text": f"training diverged ({error}); {smaller_lr(lr, option='')}",
            }
        else:
            losses = record.loss
            if losses and losses[-1] > DIVERGED * losses[0]:
                self.diverged = True
                self.message = {
                    "kind": "error",
                    "text": f"training diverged: the loss went from {losses[0]:.4g} to "
                    f"{losses[-1]:.4g}; {smaller_lr(s.lr, option='')}",
                }
        self._validate()
        return self.state(since, pictures, run)

    def _validate(self) -> None:
        """Measure the model on the validation points now: [step, loss, accuracy], with the
        loss as fit reports it (the L2 penalty included, so that it compares)."""
        X_val, y_val = self.validation_rows
        if X_val and (not self.validation or self.validation[-1][0] != self.step):
            loss, accuracy = evaluate(
                self.model, X_val, self.labels(y_val), self.loss, self.settings.l2
            )
            if math.isfinite(loss):
                self.validation.append([self.step, loss, accuracy])

    @property
    def step(self) -> int:
        """How many steps have been taken since the start."""
        return self.optimizer.step_count

    def add_point(self, x: object, y: object, label: object) -> dict[str, Any]:
        """Add a training point of class `label` at (x, y)."""
        point = [_number("x", x), _number("y", y), _integer("class", label, 0)]
        if point[2] >= self.classes:
            raise ValueError(
                f"class must be 0 to {self.classes - 1} for {self.settings.dataset}, got {label!r}"
            )
        self.settings.added.append(point)
        self._frames = None
        return self.state()

    def remove_point(self, index: object) -> dict[str, Any]:
        """Remove training point `index` (in the order of `rows()`)."""
        n = len(self.rows()[0])
        i = _integer("point", index, 0)
        if i >= n:
            raise ValueError(f"point must be 0 to {n - 1}, got {i}")
        if n == 1:
            raise ValueError("cannot remove the last training point")
        kept = len(self.generated[0]) - len(self.settings.removed)
        if i < kept:
            generated = [j for j in range(len(self.generated[0])) if j not in self.settings.removed]
            self.settings.removed = sorted([*self.settings.removed, generated[i]])
        else:
            del self.settings.added[i - kept]
        if self.point is not None:
            self.point = None if self.point == i else self.point - (self.point > i)
        self._frames = None
        return self.state()

    def set_weight(self, name: object, value: object) -> dict[str, Any]:
        """Set one parameter by name (`layers.0.neurons.3.w.1`, `...b`) to `value`.

        Before the first step the edit becomes part of the settings (the URL's weights at
        reset); after, it changes the weight where training has it, and training goes on.
        """
        parameters = dict(self.model.named_parameters())
        if name not in parameters:
            raise ValueError(f"the model has no parameter {excerpt(name)}")
        x = _number(f"weight {name}", value)
        parameters[str(name)].data = x
        if self.step == 0:
            self.settings.edits[str(name)] = x
        self._frames = None
        if self.validation and self.validation[-1][0] == self.step:  # of the old weights
            self.validation.pop()
        self._validate()
        return self.state()

    def choose_point(self, index: object = None) -> dict[str, Any]:
        """Show training point `index`'s pass through the network (None: none)."""
        if index is not None:
            n = len(self.rows()[0])
            index = _integer("point", index, 0)
            if index >= n:
                raise ValueError(f"point must be 0 to {n - 1}, got {index}")
        self.point = index
        self._frames = None
        return self.state()

    def frame(self, index: object = -1) -> dict[str, Any]:
        """Frame `index` of the chosen point's backward pass (micrograd.viz.step_through,
        with the weights as they are now): its caption, and its drawing as DOT (or SVG)."""
        frames = self._step_through()
        count = len(frames)
        k = _integer("frame", index, 0) if index != -1 else count - 1
        if k >= count:
            raise ValueError(f"frame must be 0 to {count - 1}, got {k}")
        drawing = frames.draw(k)
        engine = "nop2" if drawing.neato_no_op == 2 else drawing.engine or "dot"
        answer = {"index": k, "count": count, "caption": frames.caption(k), "engine": engine}
        if self.render:
            from micrograd.viz.render import inline_svg

            answer["svg"] = inline_svg(drawing)
        else:
            answer["dot"] = drawing.source
        return answer

    def _step_through(self) -> Any:
        if self.point is None:
            raise ValueError("choose a training point first: click one")
        if self._frames is None or self._frames_step != self.step:
            from micrograd.viz import step_through

            loss, _ = self._point_pass()
            try:
                self._frames = step_through(loss, model=self.model, cluster=True, widget=False)
            except ValueError as error:  # a graph too large to draw: say which, and why
                raise ValueError(f"cannot draw point {self.point}'s graph: {error}") from None
            self._frames_step = self.step
            self.model.zero_grad()
        return self._frames

    def _point_pass(self) -> tuple[Value, list[list[Value]]]:
        """The chosen point's loss (no L2: this point alone) and every unit's Value, layer by layer."""
        X, classes = self.rows()
        assert self.point is not None
        signal: list[Value] = [Value(c, label=f"x[{i}]") for i, c in enumerate(X[self.point])]
        units = [signal]
        for layer in self.model.layers:
            out = layer(signal)
            signal = [out] if isinstance(out, Value) else out
            units.append(signal)
        score: Any = signal[0] if self.classes == 2 else signal
        loss = self.loss([score], self.labels([classes[self.point]]))
        return loss, units

    # ---- the state the page draws -------------------------------------------------------

    def state(
        self, since: int = 0, pictures: bool = True, run: int | None = None
    ) -> dict[str, Any]:
        """Everything the page shows, as JSON-ready data.

        `since`: the curves from that step on (the page keeps the earlier ones) if they are
        of `run` (the `run` of an earlier state); of another run, or past the end, all of them.
        `pictures`: include the heatmaps (each unit's output over the plane, plain floats
        from the current weights), which cost more than a step or two to compute.
        """
        since = _integer("since", since, 0)
        h = self.history
        if (run is not None and run != self.run) or since > len(h.loss):
            since = 0
        X, classes = self.rows()
        X_val, y_val = self.validation_rows
        state: dict[str, Any] = {
            "step": self.step,
            "run": self.run,
            "settings": asdict(self.settings),
            "defaults": default_settings(),
            "classes": self.classes,
            "loss_name": self.loss.__name__,
            "loss": h.loss[-1] if h.loss else None,
            "accuracy": h.accuracy[-1] if h.accuracy else None,
            "val_loss": self.validation[-1][1] if self.validation else None,
            "val_accuracy": self.validation[-1][2] if self.validation else None,
            "lr": h.lr[-1] if h.lr else None,
            "curves": {
                "since": since,
                "loss": h.loss[since:],
                "accuracy": h.accuracy[since:],
                # [step, loss, accuracy] measured after the steps the page does not have
                "validation": [v for v in self.validation if not since or v[0] > since],
            },
            "message": self.message,
            "diverged": self.diverged,
            "data": {
                "own": self.own_data is not None,
                "train": [[*x, c] for x, c in zip(X, classes)],
                "validation": [[*x, c] for x, c in zip(X_val, y_val)],
                "extent": self.extent,
            },
            "model": self._weights(),
            "point": self._point_state(),
        }
        if pictures:
            state["pictures"] = self._pictures()
        return state

    def _weights(self) -> dict[str, Any]:
        layers = [
            [{"w": [w.data for w in n.w], "b": n.b.data} for n in layer.neurons]
            for layer in self.model.layers
        ]
        activations = [layer.neurons[0].activation for layer in self.model.layers]
        return {
            "sizes": [2, *(len(layer) for layer in layers)],
            "layers": layers,
            "activations": activations,
        }

    def _point_state(self) -> dict[str, Any] | None:
        """The chosen point's pass: each unit's output and the gradient of the point's loss."""
        if self.point is None:
            return None
        X, classes = self.rows()
        loss, units = self._point_pass()
        loss.backward()
        answer = {
            "index": self.point,
            "x": X[self.point],
            "class": classes[self.point],
            "loss": loss.data,
            "units": [[[v.data, v.grad] for v in layer] for layer in units],
        }
        self.model.zero_grad()
        return answer

    def _pictures(self) -> dict[str, Any]:
        """Each unit's output over the plane (GRID x GRID points, rows from the top, i.e. the
        largest y first), from the current weights, with plain floats: the heatmaps, and
        the output units' make the decision boundary."""
        x0, x1, y0, y1 = self.extent
        xs = [x0 + (x1 - x0) * (i + 0.5) / GRID for i in range(GRID)]
        ys = [y1 - (y1 - y0) * (j + 0.5) / GRID for j in range(GRID)]
        outputs = _unit_outputs(
            self.model, [x for _ in ys for x in xs], [y for y in ys for _ in xs]
        )
        return {"grid": GRID, "units": [_round(layer) for layer in outputs]}


def _own_data(data: object) -> tuple[list[list[float]], list[int]]:
    """(X, y) of one's own, checked: 2-D points of finite numbers, classes 0, 1, ..."""
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(f"data must be a pair (X, y), got {excerpt(data)}")
    X, y = data
    if len(X) != len(y):
        raise ValueError(f"data: X and y must have the same length, got {len(X)} and {len(y)}")
    if len(X) < 2:
        raise ValueError(f"data needs at least 2 points, got {len(X)}")
    points = []
    for i, point in enumerate(X):
        if len(point) != 2:
            raise ValueError(f"data: X[{i}] must be a point [x, y], got {excerpt(point)}")
        points.append([finite_number(f"X[{i}][{j}]", c) for j, c in enumerate(point)])
    return points, [int_at_least(f"y[{i}]", c, 0) for i, c in enumerate(y)]


def _unit_outputs(model: MLP, xs: list[float], ys: list[float]) -> list[list[list[float]]]:
    """Every unit's output at each point (xs[i], ys[i]): per layer, per neuron, a list over
    the points. Plain floats, a whole column of points at a time: for pictures only (the
    sums add in another order than the engine's, so the last bits may differ)."""
    columns = [xs, ys]
    layers = []
    for layer in model.layers:
        outputs = []
        for neuron in layer.neurons:
            total = [neuron.b.data] * len(xs)
            for w, column in zip(neuron.w, columns):
                weight = w.data
                total = [t + weight * c for t, c in zip(total, column)]
            if neuron.activation != LINEAR:
                sigma = ACTIVATIONS[neuron.activation].forward
                assert sigma is not None
                total = [sigma(t) for t in total]
            outputs.append(total)
        layers.append(outputs)
        columns = outputs
    return layers


def _round(values: list[list[float]]) -> list[list[float]]:
    """Four significant digits are plenty for a colour, and keep the JSON small."""
    return [[float(f"{v:.4g}") for v in row] for row in values]


def _extent(points: Sequence[Sequence[float]]) -> list[float]:
    """The square of the plane drawn: the data's bounding box, padded, made square."""
    xs = [p[0] for p in points] or [0.0]
    ys = [p[1] for p in points] or [0.0]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    half = max(max(xs) - min(xs), max(ys) - min(ys), 1.0) / 2 * 1.15
    return [cx - half, cx + half, cy - half, cy + half]


def _optimizer(kind: str, model: MLP, lr: float) -> Optimizer:
    if kind == "sgd":
        return SGD(model.parameters(), lr=lr)
    if kind == "momentum":
        return SGD(model.parameters(), lr=lr, momentum=MOMENTUM)
    return Adam(model.parameters(), lr=lr)


def _schedule(kind: str, lr: float, steps: int) -> Schedule | None:
    end = lr * DECAY  # as `micrograd demo`
    if kind == "linear":
        return linear_decay(lr, end, steps)
    if kind == "cosine":
        return cosine(lr, end, steps)
    if kind == "step":
        return step_decay(lr, 0.5, steps)
    return None  # constant: the optimizer's lr
