"""Neural networks built from Values: Module, Neuron, Layer and MLP.

A neuron computes y = σ(Σ w·x + b): a weighted sum of its inputs plus a bias,
passed through an activation function σ. A layer is neurons side by side that
all see the same inputs; an MLP is layers in a row, each feeding the next.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping, Sequence
from os import PathLike
from typing import TYPE_CHECKING, Any, Callable, TypeVar, Union, cast

from micrograd import checkpoint
from micrograd._checks import excerpt, int_at_least
from micrograd._signals import interrupts_deferred
from micrograd.checkpoint import check_state
from micrograd.engine import ACTIVATIONS, LINEAR, Value, fused_layer, parameter_tuple

if TYPE_CHECKING:
    from micrograd.optim import Optimizer

__all__ = ["Module", "Neuron", "Layer", "MLP", "LINEAR", "INITS", "ARCHITECTURES"]

Input = Union[Value, float, int]
Path = Union[str, "PathLike[str]"]
M = TypeVar("M", bound="Module")
# What a module is made of (see Module.children): parameters and modules, or lists of them.
Child = Union[Value, "Module", Sequence[Union[Value, "Module"]]]


class Module:
    """Anything with parameters: it can list, name, zero, save and restore them.

    A subclass says what it is made of in `children()`: its parameters and the modules
    inside it, by attribute name. `named_parameters()` walks that, and `parameters()`,
    `zero_grad()` and the state dicts come from it. (micrograd's way also works: a
    subclass that overrides `parameters()` instead gets the names "0", "1", ...)
    An architecture that can be rebuilt from numbers says so in `config()` and
    `from_config()`, which is what `load` uses; `count_parameters()`, if it is
    written too, lets `load` refuse a file that would build a huge model before it does.
    """

    def __call__(self, x: Sequence[Input]) -> Value | list[Value]:
        """The module's output for one row of inputs: each kind of module computes its own."""
        raise NotImplementedError(f"{type(self).__name__} does not define __call__")

    def children(self) -> dict[str, Child]:
        """What this module is made of, by attribute name: a parameter (a Value), a
        module, or a list of either. Their order is the order of `parameters()`."""
        return {}

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(name, parameter) pairs in `parameters()` order; names are dotted paths, such
        as `layers.0.neurons.3.w.1` for `model.layers[0].neurons[3].w[1]`."""
        if type(self).parameters is not Module.parameters:  # micrograd style: listed by hand
            return [(str(i), p) for i, p in enumerate(self.parameters())]
        named = []
        for attribute, index, part in self._parts():
            name = attribute if index is None else f"{attribute}.{index}"
            if isinstance(part, Value):
                named.append((name, part))
            else:
                named.extend((f"{name}.{inner}", p) for inner, p in part.named_parameters())
        return named

    def parameters(self) -> list[Value]:
        """Every trainable Value, in a fixed order."""
        # _parts()'s walk, written out without names or tuples: zero_grad() runs it every
        # step, where the general walk took 0.08 ms, 7% of the demo's compiled step
        found: list[Value] = []
        for child in self.children().values():
            for part in child if isinstance(child, (list, tuple)) else (child,):
                if isinstance(part, Value):
                    found.append(part)
                elif isinstance(part, Module):
                    found += part.parameters()
                else:
                    list(self._parts())  # raises the TypeError that names the part
        return found

    def _parts(self) -> Iterator[tuple[str, int | None, Value | Module]]:
        """(attribute, index in its list or None, Value or Module) for everything that
        children() lists, in order."""
        for attribute, child in self.children().items():
            many = isinstance(child, (list, tuple))
            parts = cast("Sequence[Value | Module]", child if many else [child])
            for i, part in enumerate(parts):
                if not isinstance(part, (Value, Module)):
                    name = f"{attribute}.{i}" if many else attribute
                    raise TypeError(
                        f"{type(self).__name__}.children() gives {name!r} = "
                        f"{type(part).__name__}; expected Values and Modules (or lists of them)"
                    )
                yield attribute, i if many else None, part

    def num_parameters(self) -> int:
        """How many numbers training adjusts."""
        return len(self.parameters())

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0 (leaves accumulate across backward calls)."""
        for p in self.parameters():
            p.grad = 0.0

    # ---- architecture: what rebuilds this model --------------------------------------

    def config(self) -> dict[str, Any] | None:
        """The constructor arguments that rebuild this architecture, or None if unknown."""
        return None

    @classmethod
    def count_parameters(cls, config: Mapping[str, Any]) -> int | None:
        """How many parameters `from_config(config)` would make, from the sizes alone
        (nothing is built); TypeError or ValueError for sizes that are not ints >= 1.

        None (the default) says this class cannot tell without building: `load` then
        builds the model and checks the file's parameters against it, name by name.
        """
        return None

    @classmethod
    def from_config(cls: type[M], config: Mapping[str, Any], rng: random.Random | None = None) -> M:
        """A new model of the architecture `config()` describes, with initial weights drawn
        from `rng` (by default a Random of its own: the global random state is left alone).

        This is `cls(**config, rng=rng)`, right for Neuron, Layer and MLP, whose
        constructors take `rng`; a module built otherwise overrides it.
        """
        return cls(**config, rng=random.Random(0) if rng is None else rng)  # type: ignore[call-arg]

    # ---- state: every parameter's number, by name ---------------------------------

    def state_dict(self) -> dict[str, float]:
        """Every parameter's number by name, in `parameters()` order (plain floats)."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        """Set every parameter from `state`, a mapping like `state_dict()` returns.

        Everything is checked before anything is set: a missing or extra name, or a
        value that is not a finite number, raises ValueError and leaves the model as it
        was (and Ctrl-C cannot stop it half way).
        """
        values = check_state(self, state)
        with interrupts_deferred():
            for p, x in zip(self.parameters(), values):
                p.data = x

    # ---- checkpoints: micrograd.checkpoint holds the file, its checks and their order ----

    def save(self, path: Path, optimizer: Optimizer | None = None) -> None:
        """Write this model (and the optimizer's state, if given) to a JSON checkpoint."""
        checkpoint.save(self, path, optimizer)

    def restore(self, path: Path, optimizer: Optimizer | None = None) -> None:
        """Set this model's parameters (and the optimizer's state) from a checkpoint.

        The file must hold this architecture. A file that cannot be read raises OSError
        (FileNotFoundError, ...); one that is not a checkpoint of this model, or holds a
        bad number, raises ValueError naming the problem. Either way nothing changes.
        """
        checkpoint.restore(self, path, optimizer)

    @classmethod
    def load(cls: type[M], path: Path) -> M:
        """A new model built and filled from a checkpoint: `MLP.load("model.json")`.

        The file's model must be this class (or, from `Module.load`, any of
        ARCHITECTURES). Its optimizer state, if any, is not used: build the optimizer,
        then call `restore`.
        """
        return checkpoint.load(cls, path, ARCHITECTURES)


# A neuron's activation σ is LINEAR ("linear": none, y = Σ w·x + b) or the name of an
# op in micrograd.engine.ACTIVATIONS ("relu", "tanh", "sigmoid", or one registered with
# `op(..., activation=True)`).

# Weight initialisations, by name: each gives the bound b of the uniform(-b, b) draw
# for a neuron with `nin` inputs. Fan-in scaling keeps the size of the signal roughly
# constant from layer to layer, which deep networks need.
INITS: dict[str, Callable[[int], float]] = {
    "uniform": lambda nin: 1.0,  # micrograd's uniform(-1, 1), whatever the fan-in
    "lecun": lambda nin: math.sqrt(3.0 / nin),  # variance 1/nin: for tanh, sigmoid, linear
    "he": lambda nin: math.sqrt(6.0 / nin),  # variance 2/nin: for relu, which zeroes half
}


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
        nin = int_at_least("Neuron nin", nin, 1)
        if isinstance(nonlin, str):  # Neuron(3, "tanh") would silently be a relu neuron
            raise TypeError(
                f"nonlin must be True or False, got {nonlin!r}: to choose an activation, "
                f"pass it by name, activation={nonlin!r}"
            )
        if activation is None:
            activation = "relu" if nonlin else LINEAR
        elif not nonlin and activation != LINEAR:
            raise ValueError(
                f"Neuron got nonlin=False and activation={activation!r}; give one of them"
            )
        if activation != LINEAR and activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {activation!r}; expected one of "
                f"{sorted([LINEAR, *ACTIVATIONS])}"
            )
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; expected one of {sorted(INITS)}")
        bound = INITS[init](nin)
        uniform = (rng or random).uniform
        self.w = [Value(uniform(-bound, bound)) for _ in range(nin)]
        self.b = Value(0.0)
        self.activation = activation
        self.fused = fused
        # fused_parameters()'s last answer, and the w and b it was made from
        self._kept_parameters: tuple[tuple[tuple[Value, ...], bool], list[Value], Value] | None = (
            None
        )

    def __call__(self, x: Sequence[Input]) -> Value:
        _check_inputs("Neuron", len(self.w), x)
        if self.fused:  # one node: σ(Σ w·x + b)
            return Value.dot(self.w, x, self.b, self.activation)
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act if self.activation == LINEAR else ACTIVATIONS[self.activation](act)

    @property
    def nonlin(self) -> bool:
        """micrograd's name: whether the neuron applies a nonlinear activation."""
        return self.activation != LINEAR

    def fused_parameters(self) -> tuple[tuple[Value, ...], bool]:
        """What its fused nodes keep of it: micrograd.engine.parameter_tuple(w, b), made
        again only when `w` or `b` holds other Values than last time (checked in C)."""
        kept = self._kept_parameters
        if kept is None or kept[2] is not self.b or kept[1] != self.w:
            kept = (parameter_tuple(self.w, self.b), list(self.w), self.b)
            self._kept_parameters = kept
        return kept[0]

    def children(self) -> dict[str, Child]:
        return {"w": self.w, "b": self.b}

    def config(self) -> dict[str, Any]:
        return {"nin": len(self.w), "activation": self.activation}

    @classmethod
    def count_parameters(cls, config: Mapping[str, Any]) -> int:
        return int_at_least("Neuron nin", config.get("nin"), 1) + 1

    def __repr__(self) -> str:
        sigma = ACTIVATIONS.get(self.activation)
        kind = "Linear" if sigma is None else sigma.title
        return f"{kind}Neuron({len(self.w)})"


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
        # the checked ints, kept: a numpy int64 would not go into a JSON checkpoint
        nin = int_at_least("Layer nin", nin, 1)
        nout = int_at_least("Layer nout", nout, 1)
        self.neurons = [
            Neuron(nin, nonlin, activation, init=init, fused=fused, rng=rng) for _ in range(nout)
        ]
        self.nin = nin

    def __call__(self, x: Sequence[Input]) -> Value | list[Value]:
        _check_inputs("Layer", self.nin, x)
        if self.neurons[0].fused:  # one node per neuron, sharing one pass over the inputs
            out = fused_layer(x, self.neurons)
        else:
            out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def children(self) -> dict[str, Child]:
        return {"neurons": self.neurons}

    @classmethod
    def count_parameters(cls, config: Mapping[str, Any]) -> int:
        nin = int_at_least("Layer nin", config.get("nin"), 1)
        return int_at_least("Layer nout", config.get("nout"), 1) * (nin + 1)

    def config(self) -> dict[str, Any]:
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
        sizes = _layer_sizes(nin, nouts)
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
        self.nin = sizes[0]  # the checked int (see Layer)

    def __call__(self, x: Sequence[Input]) -> Value | list[Value]:
        _check_inputs("MLP", self.nin, x)
        for layer in self.layers:
            out = layer(x)
            x = [out] if isinstance(out, Value) else out  # a one-neuron layer feeds a list of one
        return x[0] if len(x) == 1 else x  # type: ignore[return-value]

    def children(self) -> dict[str, Child]:
        return {"layers": self.layers}

    @classmethod
    def count_parameters(cls, config: Mapping[str, Any]) -> int:
        sizes = _layer_sizes(config.get("nin"), config.get("nouts"))
        return sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(sizes, sizes[1:]))

    def config(self) -> dict[str, Any]:
        hidden = self.layers[0].neurons[0].activation if len(self.layers) > 1 else "relu"
        return {
            "nin": self.nin,
            "nouts": [len(layer.neurons) for layer in self.layers],
            "activation": hidden,
            "output_activation": self.layers[-1].neurons[0].activation,
        }

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


# The models `Module.load` can build from a checkpoint's "model" entry, by type name.
ARCHITECTURES: dict[str, type[Module]] = {"Neuron": Neuron, "Layer": Layer, "MLP": MLP}


# ---- checks of the constructors' and calls' arguments ----------------------------------


def _layer_sizes(nin: object, nouts: object) -> list[int]:
    """An MLP's [nin, *nouts], each checked to be an int >= 1."""
    if isinstance(nouts, str) or not isinstance(nouts, Sequence):
        raise TypeError(
            "MLP nouts must be a list of layer sizes, e.g. [16, 1], "
            f"got {type(nouts).__name__} {excerpt(nouts)}"
        )
    if not nouts:
        raise ValueError("MLP nouts must be a non-empty list of layer sizes, got []")
    return [int_at_least("MLP nin", nin, 1)] + [
        int_at_least(f"MLP nouts[{i}]", n, 1) for i, n in enumerate(nouts)
    ]


def _check_inputs(module: str, expected: int, x: Sequence[Input]) -> None:
    try:
        n = len(x)
    except TypeError:
        raise TypeError(
            f"{module} expects a list of {expected} inputs, got {type(x).__name__}"
        ) from None
    if n != expected:
        raise ValueError(f"{module} expects {expected} inputs, got {n}")
