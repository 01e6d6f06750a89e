"""Optimizers that move parameters against their gradients, and learning-rate schedules.

An optimizer holds a list of parameters. After `loss.backward()` has filled in every
`p.grad`, `optimizer.step()` changes every `p.data` by its update rule, and
`optimizer.zero_grad()` clears the gradients for the next step. The rules are
PyTorch's (`torch.optim.SGD`, `Adam`, `AdamW`), written out one parameter at a time.

A learning rate is always a finite number > 0: in an optimizer, in a state it
loads, and at every step of a schedule (a schedule's `end` too).

A schedule is a function from the step number (0, 1, 2, ...) to a learning rate;
`micrograd.train.fit` sets `optimizer.lr = schedule(optimizer.step_count)` before
every step. micrograd's demo schedule is `linear_decay(1.0, 0.1, 100)`, which is
`lambda k: 1.0 - 0.9 * k / 100` for k < 100, float for float.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Real
from typing import Any, Callable

from micrograd._checks import (
    excerpt,
    finite_number,
    int_at_least,
    number_at_least,
    positive_number,
)
from micrograd._signals import interrupts_deferred
from micrograd.engine import Value

__all__ = [
    "Optimizer",
    "StepError",
    "SGD",
    "Adam",
    "AdamW",
    "Schedule",
    "constant",
    "linear_decay",
    "step_decay",
    "cosine",
]

Schedule = Callable[[int], float]


def _check_lr(lr: object, name: str = "lr") -> float:
    """Every learning rate is a finite number > 0 (a schedule's start and end too)."""
    return positive_number(name, lr)


def _check_betas(betas: object) -> tuple[float, float]:
    if not isinstance(betas, (tuple, list)):
        raise TypeError(
            f"betas must be a pair (beta1, beta2), got {type(betas).__name__} {excerpt(betas)}"
        )
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {excerpt(betas)}")
    for i, beta in enumerate(betas):
        if not 0 <= finite_number(f"betas[{i}]", beta) < 1:
            raise ValueError(f"betas[{i}] must be in [0, 1), got {beta!r}")
    return float(betas[0]), float(betas[1])


class StepError(FloatingPointError):
    """`step()` refused to update: a gradient, or a number the update would make, is not
    finite. Nothing changed: every parameter and the optimizer's state are as they were.

    `index` is the parameter's place in `optimizer.params`, `quantity` the number that
    is not finite ("gradient", "parameter", or the name of a buffer such as "v") and
    `value` that number (a gradient may be an int too large for a float: that int);
    `describe(name)` words it for a parameter called `name`.
    """

    def __init__(self, index: int, quantity: str, value: float | Real, optimizer: str) -> None:
        self.index, self.quantity, self.value, self.optimizer = index, quantity, value, optimizer
        super().__init__(self.describe(f"params[{index}]"))

    def __reduce__(self) -> tuple[type[StepError], tuple[int, str, float | Real, str]]:
        # pickle rebuilds an exception as cls(*self.args), and args holds only the message
        return type(self), (self.index, self.quantity, self.value, self.optimizer)

    def describe(self, name: str) -> str:
        """What went wrong, naming the parameter `name` (e.g. "'layers.0.neurons.1.b'")."""
        if self.quantity == "gradient":
            # not str(value): an int of thousands of digits would make a ValueError of it
            shown = (
                self.value if isinstance(self.value, float) else "a number too large for a float"
            )
            return (
                f"the gradient of parameter {name} is {shown}; "
                "stopped before updating, so nothing changed"
            )
        if self.quantity == "parameter":
            what = f"the update made parameter {name} {self.value}"
        else:  # a buffer, such as Adam's running average v of g²
            what = f"the update made {self.optimizer}'s {self.quantity} for parameter {name} {self.value}"
        return f"{what}; stopped before updating, so nothing changed (try a smaller lr)"


class Optimizer:
    """Updates a fixed list of parameters from their gradients, one `step()` at a time.

    Subclasses write their rule in `_update(grads)`, which returns the new data of
    every parameter and the new buffers without setting anything, and list what
    `state_dict()` saves: `_hyperparameters` (numbers set in the constructor) and
    `_buffers` (one float per parameter, carried from step to step). `step()` checks
    all of it before it assigns anything, so a step is whole or not at all.
    """

    _hyperparameters: tuple[str, ...] = ("lr",)
    _buffers: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(
                "params is empty: pass the parameters to train, e.g. model.parameters()"
            )
        seen: dict[int, int] = {}  # id of a parameter -> its first index
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"params[{i}] must be a Value, got {type(p).__name__} {p!r}")
            if id(p) in seen:  # it would be moved twice per step
                raise ValueError(
                    f"params[{i}] is params[{seen[id(p)]}] again: list each parameter once"
                )
            seen[id(p)] = i
        self.lr = lr
        self.step_count = 0  # how many times step() has run

    @property
    def lr(self) -> float:
        """The learning rate of the next step; setting it checks it is a finite number > 0."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _check_lr(value)

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0, ready for the next backward()."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Change every parameter by the update rule, using its current `grad`.

        Every gradient must be a finite plain number (after `backward(create_graph=True)`
        they are Values: a TypeError), and so must every number the update makes (a
        StepError, a FloatingPointError, names the first that is not). All of it is
        checked before anything is assigned, and the assignments cannot be split by
        Ctrl-C: a step that fails, or is interrupted, changes nothing.
        """
        grads = self._checked_gradients()
        data, buffers = self._update(grads)  # sets nothing, so it may raise part way
        kind = type(self).__name__
        for i, x in enumerate(data):
            if not math.isfinite(x):
                raise StepError(i, "parameter", x, kind)
        for name, values in buffers.items():
            for i, x in enumerate(values):
                if not math.isfinite(x):
                    raise StepError(i, name, x, kind)
        with interrupts_deferred():
            for p, x in zip(self.params, data):
                p.data = x
            for name, values in buffers.items():
                setattr(self, name, values)
            self.step_count += 1

    def _checked_gradients(self) -> list[float]:
        grads = []
        for i, p in enumerate(self.params):
            g = p.grad
            if isinstance(g, Value):
                name = f"params[{i}]" + (f" ({p.label!r})" if p.label else "")
                raise TypeError(
                    f"{name}.grad is a Value (backward(create_graph=True) makes gradients "
                    "Values); an optimizer steps with plain numbers: set p.grad = float(p.grad) "
                    "for every parameter, or call backward() without create_graph"
                )
            if isinstance(g, bool) or not isinstance(g, Real):
                raise TypeError(f"params[{i}].grad must be a number, got {type(g).__name__} {g!r}")
            try:
                x = float(g)
            except OverflowError:  # an int too large for a float: not finite either
                raise StepError(i, "gradient", g, type(self).__name__) from None
            if not math.isfinite(x):
                raise StepError(i, "gradient", x, type(self).__name__)
            grads.append(x)
        return grads

    def _update(self, grads: list[float]) -> tuple[list[float], dict[str, list[float]]]:
        """The new data of every parameter and the new buffers, by name; sets nothing."""
        raise NotImplementedError

    def _check(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        """The hyperparameters besides lr (the property checks it), checked."""
        return {}

    # ---- state, so that training resumes exactly ---------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything the next steps depend on, as plain JSON-ready data."""
        hyper = {}
        for name in self._hyperparameters:
            value = getattr(self, name)
            hyper[name] = list(value) if isinstance(value, tuple) else value
        return {
            "type": type(self).__name__,
            "hyperparameters": hyper,
            "step_count": self.step_count,
            "buffers": {name: list(getattr(self, name)) for name in self._buffers},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a `state_dict()`. Checks everything first; on a problem it
        raises ValueError and changes nothing."""
        attributes = self._checked_state(state)
        with interrupts_deferred():
            for name, value in attributes.items():
                setattr(self, name, value)

    def check_state_dict(self, state: object) -> None:
        """Raise ValueError naming the problem if `load_state_dict(state)` would refuse it.

        For loading something else at the same time (a model, from a checkpoint): check
        both, then load both, so that a bad state changes neither.
        """
        self._checked_state(state)

    def _checked_state(self, state: object) -> dict[str, Any]:
        """The attributes to set from `state`, or a ValueError naming what is wrong."""
        kind = type(self).__name__
        if not isinstance(state, dict):
            raise ValueError(f"optimizer state must be a dict, got {type(state).__name__}")
        if state.get("type") != kind:
            raise ValueError(f"optimizer state is for {excerpt(state.get('type'))}, not {kind!r}")
        expected = {"type", "hyperparameters", "step_count", "buffers"}
        if set(state) != expected:
            raise ValueError(
                f"optimizer state must have the keys {sorted(expected)}, "
                f"got {excerpt(sorted(state, key=str))}"
            )
        hyper = state["hyperparameters"]
        if not isinstance(hyper, dict) or set(hyper) != set(self._hyperparameters):
            raise ValueError(
                f"optimizer hyperparameters must be {list(self._hyperparameters)}, "
                f"got {excerpt(hyper)}"
            )
        buffers = state["buffers"]
        if not isinstance(buffers, dict) or set(buffers) != set(self._buffers):
            raise ValueError(
                f"optimizer buffers must be {list(self._buffers)}, got {excerpt(buffers)}"
            )
        try:  # a wrong type in a file is a bad value, like the rest: all ValueErrors
            attributes = {"lr": _check_lr(hyper["lr"]), **self._check(hyper)}
            attributes["step_count"] = int_at_least("step_count", state["step_count"], 0)
            for name in self._buffers:
                attributes[name] = self._checked_buffer(name, buffers[name])
        except (TypeError, ValueError) as error:
            raise ValueError(f"optimizer {error}") from None
        return attributes

    def _checked_buffer(self, name: str, values: object) -> list[float]:
        if not isinstance(values, list) or len(values) != len(self.params):
            raise ValueError(
                f"buffer {name!r} must be a list of {len(self.params)} numbers "
                f"(one per parameter), got {type(values).__name__} of length "
                f"{len(values) if isinstance(values, list) else '?'}"
            )
        return [finite_number(f"buffer {name!r}[{i}]", x) for i, x in enumerate(values)]

    def __repr__(self) -> str:
        hyper = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._hyperparameters)
        return f"{type(self).__name__}({len(self.params)} parameters, {hyper})"


class SGD(Optimizer):
    """Stochastic gradient descent: p -= lr * g, with PyTorch's optional extras.

    With `weight_decay` the gradient gets `weight_decay * p` added (L2 regularisation).
    With `momentum` the step follows a running velocity v = momentum * v + g instead
    of g alone; `nesterov=True` looks ahead along it (g + momentum * v).
    """

    _hyperparameters = ("lr", "momentum", "weight_decay", "nesterov")
    _buffers = ("velocity",)

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr)
        checked = self._check(
            {"momentum": momentum, "weight_decay": weight_decay, "nesterov": nesterov}
        )
        self.momentum = checked["momentum"]
        self.weight_decay = checked["weight_decay"]
        self.nesterov = checked["nesterov"]
        # Starting at 0, the first step's velocity is g itself, as PyTorch's.
        self.velocity = [0.0] * len(self.params)

    def _check(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        checked = {"momentum": number_at_least("momentum", hyperparameters["momentum"], 0)}
        checked["weight_decay"] = number_at_least(
            "weight_decay", hyperparameters["weight_decay"], 0
        )
        nesterov = hyperparameters["nesterov"]
        if not isinstance(nesterov, bool):
            raise TypeError(
                f"nesterov must be True or False, got {type(nesterov).__name__} {excerpt(nesterov)}"
            )
        if nesterov and checked["momentum"] == 0.0:
            raise ValueError("nesterov=True needs a momentum > 0, got momentum=0.0")
        checked["nesterov"] = nesterov
        return checked

    def _update(self, grads: list[float]) -> tuple[list[float], dict[str, list[float]]]:
        lr, mu, wd, v = self.lr, self.momentum, self.weight_decay, list(self.velocity)
        data = []
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if wd:
                g = g + wd * p.data
            if mu:
                v[i] = mu * v[i] + g
                g = g + mu * v[i] if self.nesterov else v[i]
            data.append(p.data - lr * g)
        return data, {"velocity": v}


class Adam(Optimizer):
    """Adam: each parameter's step is scaled by running averages of its gradient.

    m tracks the mean of g and v the mean of g², both as exponential moving
    averages (`betas`) corrected for starting at 0; the step is lr * m / (√v + eps),
    so every parameter moves at about `lr` however large its gradients. `eps` must
    be > 0: it keeps the step finite where a gradient has always been 0.
    `weight_decay` adds `weight_decay * p` to the gradient (as torch.optim.Adam).
    """

    _hyperparameters = ("lr", "betas", "eps", "weight_decay")
    _buffers = ("m", "v")
    _decoupled = False  # AdamW decays the weights directly instead

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        checked = self._check({"betas": betas, "eps": eps, "weight_decay": weight_decay})
        self.betas = checked["betas"]
        self.eps = checked["eps"]
        self.weight_decay = checked["weight_decay"]
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def _check(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        checked: dict[str, Any] = {"betas": _check_betas(hyperparameters["betas"])}
        checked["eps"] = positive_number("eps", hyperparameters["eps"])
        checked["weight_decay"] = number_at_least(
            "weight_decay", hyperparameters["weight_decay"], 0
        )
        return checked

    def _checked_buffer(self, name: str, values: object) -> list[float]:
        checked = super()._checked_buffer(name, values)
        if name == "v":  # its square root divides the step: a negative v has none
            for i, x in enumerate(checked):
                if x < 0:
                    raise ValueError(
                        f"buffer 'v'[{i}] must be >= 0 (a running average of g²), got {x!r}"
                    )
        return checked

    def _update(self, grads: list[float]) -> tuple[list[float], dict[str, list[float]]]:
        lr, (beta1, beta2), eps, wd = self.lr, self.betas, self.eps, self.weight_decay
        t = self.step_count + 1
        correction1 = 1.0 - beta1**t  # m and v start at 0: early averages are too small
        correction2 = 1.0 - beta2**t
        m, v = list(self.m), list(self.v)
        data = []
        for i, (p, g) in enumerate(zip(self.params, grads)):
            x = p.data
            if wd:
                if self._decoupled:
                    x *= 1.0 - lr * wd
                else:
                    g = g + wd * x
            m[i] = beta1 * m[i] + (1.0 - beta1) * g
            v[i] = beta2 * v[i] + (1.0 - beta2) * g * g
            m_hat = m[i] / correction1
            v_hat = v[i] / correction2
            data.append(x - lr * m_hat / (math.sqrt(v_hat) + eps))  # eps > 0: never 0 / 0
        return data, {"m": m, "v": v}


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr * weight_decay before each step.

    Unlike Adam's `weight_decay`, the decay is not rescaled by the running averages,
    so every weight shrinks by the same fraction (torch.optim.AdamW; default 1e-2).
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


# ---- learning-rate schedules: step number -> learning rate -------------------------


def constant(lr: float) -> Schedule:
    """The same learning rate at every step."""
    lr = _check_lr(lr)

    def schedule(step: int) -> float:
        return lr

    return schedule


def linear_decay(start: float, end: float, steps: int) -> Schedule:
    """From `start` at step 0 in a straight line to `end` at `steps`, then `end`.

    micrograd's demo: `linear_decay(1.0, 0.1, 100)` gives 1.0 - 0.9 * k / 100.
    `end` must be > 0, as every learning rate.
    """
    start, end = _check_lr(start, "start"), _check_lr(end, "end")
    steps = int_at_least("steps", steps, 1)

    def schedule(step: int) -> float:
        if step >= steps:  # exactly `end`: start - (start - end) may round to 0
            return end
        drop = (start - end) * step / steps  # micrograd's order: 1.0 - 0.9 * k / 100
        if not math.isfinite(drop):  # (start - end) * step overflowed (a huge start and step)
            drop = (start - end) * (step / steps)
        return _between(start - drop, start, end)

    return schedule


def step_decay(start: float, factor: float, every: int) -> Schedule:
    """`start`, multiplied by `factor` every `every` steps (e.g. halve every 50).

    It never reaches 0: where start * factor ** k would round to 0 (after 1075
    halvings of 1.0, say), the rate stays at the last one that is > 0.
    """
    start = _check_lr(start, "start")
    if not 0 < finite_number("factor", factor) <= 1:
        raise ValueError(f"factor must be in (0, 1], got {factor!r}")
    every = int_at_least("every", every, 1)
    last = _last_positive_power(start, factor)

    def schedule(step: int) -> float:
        return start * factor ** min(step // every, last)

    return schedule


def _last_positive_power(start: float, factor: float) -> float:
    """The largest k with start * factor ** k > 0 (infinity if factor is 1)."""
    if factor == 1.0:
        return math.inf
    low, high = 0, 1  # start * factor ** low > 0; find a high where it is 0
    while start * factor**high > 0:
        low, high = high, 2 * high
    while high - low > 1:  # then halve the gap: low stays > 0, high stays 0
        middle = (low + high) // 2
        if start * factor**middle > 0:
            low = middle
        else:
            high = middle
    return low


def cosine(start: float, end: float | None = None, steps: int = 100) -> Schedule:
    """From `start` to `end` along half a cosine over `steps` steps, then `end`.

    It decays slowly at first and at the end, fastest in the middle. `end` must be
    > 0, as every learning rate (an optimizer saved with lr 0 could not be loaded);
    it defaults to start / 100.
    """
    start = _check_lr(start, "start")
    end = start / 100 if end is None else _check_lr(end, "end")
    steps = int_at_least("steps", steps, 1)

    def schedule(step: int) -> float:
        if step >= steps:
            return end
        share = (1.0 + math.cos(math.pi * step / steps)) / 2.0  # from 1 down to 0
        return _between(end + (start - end) * share, start, end)

    return schedule


def _between(rate: float, start: float, end: float) -> float:
    """`rate`, kept within [start, end] (or [end, start]): rounding may carry a rate
    computed between two numbers > 0 a little past either, and so to 0."""
    return min(max(rate, min(start, end)), max(start, end))
