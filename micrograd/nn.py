"""Neural networks built from Values: Module, Neuron, Layer and MLP.

A neuron computes y = σ(Σ w·x + b): a weighted sum of its inputs plus a bias,
passed through an activation function σ. A layer is neurons side by side that
all see the same inputs; an MLP is layers in a row, each feeding the next.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from os import PathLike
from typing import Callable, TypeVar, Union

from micrograd._checks import finite_number, int_at_least
from micrograd.engine import Value, _dot_node, _split_inputs

__all__ = ["Module", "Neuron", "Layer", "MLP", "ACTIVATIONS", "INITS"]

Input = Union[Value, float, int]
Path = Union[str, "PathLike[str]"]
M = TypeVar("M", bound="Module")

# The activation functions σ a neuron can apply, by name.
ACTIVATIONS = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "linear": None,
}

# The activation a fused neuron node applies itself (Value.dot's `activation`).
_FUSED_ACTIVATION = {name: None if sigma is None else name for name, sigma in ACTIVATIONS.items()}

# Weight initialisations, by name: each gives the bound b of the uniform(-b, b) draw
# for a neuron with `nin` inputs. Fan-in scaling keeps the size of the signal roughly
# constant from layer to layer, which deep networks need.
INITS: dict[str, Callable[[int], float]] = {
    "uniform": lambda nin: 1.0,  # micrograd's uniform(-1, 1), whatever the fan-in
    "lecun": lambda nin: math.sqrt(3.0 / nin),  # variance 1/nin: for tanh, sigmoid, linear
    "he": lambda nin: math.sqrt(6.0 / nin),  # variance 2/nin: for relu, which zeroes half
}


class Module:
    """Anything with parameters: it can list, name, zero, save and restore them.

    Subclasses override `parameters()`; those that also override `named_parameters()`
    and `config()` get readable names in state dicts and can be rebuilt from a file.
    """

    def parameters(self) -> list[Value]:
        """Every trainable Value, in a fixed order."""
        return []

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(name, parameter) pairs in `parameters()` order; names are stable dotted paths."""
        return [(str(i), p) for i, p in enumerate(self.parameters())]

    def num_parameters(self) -> int:
        """How many numbers training adjusts."""
        return len(self.parameters())

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0 (leaves accumulate across backward calls)."""
        for p in self.parameters():
            p.grad = 0.0

    def config(self) -> dict | None:
        """The constructor arguments that rebuild this architecture, or None if unknown."""
        return None

    # ---- state: every parameter's number, by name ---------------------------------

    def state_dict(self) -> dict[str, float]:
        """Every parameter's number by name, in `parameters()` order (plain floats)."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        """Set every parameter from `state`, a mapping like `state_dict()` returns.

        Everything is checked before anything is set: a missing or extra name, or a
        value that is not a finite number, raises ValueError and leaves the model as it was.
        """
        values = check_state(self, state)
        for (_, p), x in zip(self.named_parameters(), values):
            p.data = x

    # ---- checkpoints: see micrograd.checkpoint for the file format -----------------

    def save(self, path: Path, optimizer=None) -> None:
        """Write this model (and the optimizer's state, if given) to a JSON checkpoint."""
        from micrograd import checkpoint

        checkpoint.save(self, path, optimizer)

    def restore(self, path: Path, optimizer=None) -> None:
        """Set this model's parameters (and the optimizer's state) from a checkpoint.

        The file must hold this architecture. On any problem it raises ValueError and
        changes nothing.
        """
        from micrograd import checkpoint

        checkpoint.restore(self, path, optimizer)

    @classmethod
    def load(cls: type[M], path: Path) -> M:
        """A new model built and filled from a checkpoint: `MLP.load("model.json")`."""
        from micrograd import checkpoint

        model = checkpoint.load(path)
        if not isinstance(model, cls):
            raise ValueError(f"{path}: holds model type {type(model).__name__}, not {cls.__name__}")
        return model


def check_state(model: Module, state: Mapping[str, float]) -> list[float]:
    """The numbers of `state` in `model.named_parameters()` order, or a ValueError.

    The error names the first problem: a missing or extra parameter name, or a value
    that is not a finite real number.
    """
    if not isinstance(state, Mapping):
        raise ValueError(f"a state dict must map names to numbers, got {type(state).__name__}")
    names = [name for name, _ in model.named_parameters()]
    known = set(names)
    missing = [n for n in names if n not in state]
    extra = [n for n in state if n not in known]
    if missing or extra:
        problems = []
        if missing:
            problems.append(f"missing {_some(missing)}")
        if extra:
            problems.append(f"unexpected {_some(extra)}")
        raise ValueError(f"state does not fit the model: {'; '.join(problems)}")
    return [_finite_number(state[n], f"parameter {n!r}") for n in names]


def _some(names: list[str], shown: int = 3) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(repr(n) for n in names[:shown]) + more


def _finite_number(x: object, what: str) -> float:
    """x as a float if it is a finite real number, else a ValueError: a state (often
    read from a file) that holds something else is a bad value, whatever its type."""
    try:
        return finite_number(what, x)
    except TypeError as error:
        raise ValueError(str(error)) from None


def _check_size(what: str, n: object) -> None:
    int_at_least(what, n, 1)


def _check_inputs(module: str, expected: int, x: Sequence[Input]) -> None:
    try:
        n = len(x)
    except TypeError:
        raise TypeError(
            f"{module} expects a list of {expected} inputs, got {type(x).__name__}"
        ) from None
    if n != expected:
        raise ValueError(f"{module} expects {expected} inputs, got {n}")


class Neuron(Module):
    """y = σ(Σ w·x + b) over `nin` inputs.

    By default weights start uniform in [-1, 1] and the bias at 0, drawn in
    micrograd's order from the `random` module (or from `rng`), so `random.seed(1337)`
    builds the same network as micrograd's lessons; `init="lecun"` or `"he"` scales
    the draw by the fan-in instead. With `fused=True` (the default) the whole neuron,
    σ(Σ w·x + b), is one graph node (`Value.dot`); with `fused=False` it is one node
    per multiply, add and activation, for seeing every step. Both give the same numbers.
    """

    def __init__(
        self,
        nin: int,
        nonlin: bool = True,
        activation: str | None = None,
        init: str = "uniform",
        fused: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        _check_size("Neuron nin", nin)
        if activation is None:
            activation = "relu" if nonlin else "linear"
        elif not nonlin and activation != "linear":
            raise ValueError(
                f"Neuron got nonlin=False and activation={activation!r}; give one of them"
            )
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {activation!r}; expected one of {sorted(ACTIVATIONS)}"
            )
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; expected one of {sorted(INITS)}")
        bound = INITS[init](nin)
        uniform = (rng or random).uniform
        self.w = [Value(uniform(-bound, bound)) for _ in range(nin)]
        self.b = Value(0.0)
        self.activation = activation
        self.fused = fused

    def __call__(self, x: Sequence[Input]) -> Value:
        _check_inputs("Neuron", len(self.w), x)
        if self.fused:  # one node: σ(Σ w·x + b)
            return Value.dot(self.w, x, self.b, _FUSED_ACTIVATION[self.activation])
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        sigma = ACTIVATIONS[self.activation]
        return act if sigma is None else sigma(act)

    @property
    def nonlin(self) -> bool:
        """micrograd's name: whether the neuron applies a nonlinear activation."""
        return self.activation != "linear"

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [(f"w.{i}", w) for i, w in enumerate(self.w)] + [("b", self.b)]

    def config(self) -> dict:
        return {"nin": len(self.w), "activation": self.activation}

    def __repr__(self) -> str:
        kind = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "linear": "Linear"}
        return f"{kind[self.activation]}Neuron({len(self.w)})"


class Layer(Module):
    """`nout` neurons that each see the same `nin` inputs.

    Returns a single Value when `nout` is 1 (as micrograd), a list otherwise. The
    other arguments are passed to every Neuron.
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        nonlin: bool = True,
        activation: str | None = None,
        init: str = "uniform",
        fused: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        _check_size("Layer nin", nin)
        _check_size("Layer nout", nout)
        self.neurons = [
            Neuron(nin, nonlin, activation, init=init, fused=fused, rng=rng) for _ in range(nout)
        ]
        self.nin = nin

    def __call__(self, x: Sequence[Input]) -> Value | list[Value]:
        _check_inputs("Layer", self.nin, x)
        if self.neurons[0].fused:
            # split once for all neurons, which see the same inputs
            inputs, data, positions = _split_inputs(x)
            out = [
                _dot_node(n.w, n.b, inputs, data, positions, _FUSED_ACTIVATION[n.activation])
                for n in self.neurons
            ]
        else:
            out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [
            (f"neurons.{i}.{name}", p)
            for i, n in enumerate(self.neurons)
            for name, p in n.named_parameters()
        ]

    def config(self) -> dict:
        return {
            "nin": self.nin,
            "nout": len(self.neurons),
            "activation": self.neurons[0].activation,
        }

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """A multi-layer perceptron: `nin` inputs, then one layer per entry of `nouts`.

    Hidden layers use `activation` (relu by default); the output layer uses
    `output_activation` (linear by default, as micrograd). Returns a single Value
    when the last layer has one neuron, a list otherwise.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        output_activation: str = "linear",
        init: str = "uniform",
        fused: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        _check_size("MLP nin", nin)
        if isinstance(nouts, (int, str)) or not nouts:
            raise ValueError(f"MLP nouts must be a non-empty list of layer sizes, got {nouts!r}")
        for i, n in enumerate(nouts):
            _check_size(f"MLP nouts[{i}]", n)
        sizes = [nin, *nouts]
        last = len(nouts) - 1
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                activation=output_activation if i == last else activation,
                init=init,
                fused=fused,
                rng=rng,
            )
            for i in range(len(nouts))
        ]
        self.nin = nin

    def __call__(self, x: Sequence[Input]) -> Value | list[Value]:
        _check_inputs("MLP", self.nin, x)
        for layer in self.layers:
            x = layer(x)
            if isinstance(x, Value):  # a one-neuron layer feeds the next as a list of one
                x = [x]
        return x[0] if len(x) == 1 else x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [
            (f"layers.{i}.{name}", p)
            for i, layer in enumerate(self.layers)
            for name, p in layer.named_parameters()
        ]

    def config(self) -> dict:
        hidden = self.layers[0].neurons[0].activation if len(self.layers) > 1 else "relu"
        return {
            "nin": self.nin,
            "nouts": [len(layer.neurons) for layer in self.layers],
            "activation": hidden,
            "output_activation": self.layers[-1].neurons[0].activation,
        }

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
