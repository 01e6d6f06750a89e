"""The autograd engine: a scalar `Value` that remembers how it was computed.

Every operation on Values makes a new Value that records its parents and the
local derivative d(result)/d(parent) of each. `backward()` walks the graph once
from the result to the leaves, in reverse topological order, and applies the
chain rule: parent.grad += local_derivative * result.grad.

How a node is stored (the layout is what makes the engine small and fast):

- A node made by an op keeps up to two parents directly in slots, each beside
  its local derivative: `_a`/`_da` and `_b`/`_db`. A unary op, or an op with a
  plain number as the other operand, leaves `_b` as None. Plain numbers are not
  wrapped into nodes; a binary op keeps its number operand in `_db` so that
  drawings can show it.
- A fused n-ary node (`Value.sum`, `Value.dot`) keeps a tuple of parents in `_a`
  and a tuple of local derivatives in `_da`. A whole neuron σ(Σ w·x + b) fused
  into one node keeps the slope σ'(s) of its activation in `_db` (1.0 for none),
  and the derivatives of s in `_da`: the chain rule multiplies them in backward()
  in the same order as the elementary graph would, so the gradients are the same
  floats. A dot node also keeps its inputs (Values and numbers) in `_b`.
- A relu that is off passes nothing on, not even an infinite gradient (as in
  PyTorch). It is stored in the fused form with `_da` None, fused or not, and
  backward() skips it.
- A leaf (an input or a parameter) has `_a` None.

No node holds a closure or a reference to anything made after it, so a graph
holds no reference cycles and is freed by reference counting alone, the moment
the last reference to its root goes. ../shared/bench/compare.py measures 120
bytes per op node; a tuple of parents and a tuple of local derivatives in every
node would add 56 more, over its 150-byte budget.
"""

from __future__ import annotations

import contextvars
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from numbers import Complex, Real
from typing import NamedTuple, Union

__all__ = [
    "Value",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "grad",
    "topological_order",
    "forward_steps",
    "backward_steps",
    "ForwardStep",
    "BackwardStep",
    "ParentUpdate",
    "FusedParts",
    "fused_parts",
    "ACTIVATIONS",
]

Number = Union[int, float]
Operand = Union["Value", int, float]

# Whether operations record the graph. A ContextVar keeps no_grad() local to the
# thread (and asyncio task) that entered it; reading it costs about 20 ns.
_grad_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "micrograd_grad_enabled", default=True
)


@contextmanager
def no_grad() -> Iterator[None]:
    """Within this block, operations compute values but record no graph.

    Results are leaves: they have no parents and backward() stops at them. Use it
    for evaluation, and for parameter updates written with Value arithmetic.
    """
    token = _grad_enabled.set(False)
    try:
        yield
    finally:
        _grad_enabled.reset(token)


@contextmanager
def enable_grad() -> Iterator[None]:
    """Within this block, operations record the graph, even inside no_grad()."""
    token = _grad_enabled.set(True)
    try:
        yield
    finally:
        _grad_enabled.reset(token)


def is_grad_enabled() -> bool:
    """True unless inside a no_grad() block."""
    return _grad_enabled.get()


def _as_float(x: object, what: str) -> float:
    """x as a float, or a TypeError that names what was given and what was expected."""
    if type(x) is float:  # the common cases first: the checks below cost ~0.5 µs an op
        return x
    if type(x) is int:
        try:
            return float(x)
        except OverflowError:
            raise OverflowError(
                f"{what} needs a number that fits a float, got an int of {x.bit_length()} bits"
            ) from None
    if isinstance(x, Value):
        raise TypeError(
            f"{what} needs a real number, got {x!r}; use .data for its number "
            "or .detach() for a new leaf with the same data"
        )
    # ints, bools, Fractions, numpy scalars...; not str ("1.5"), complex or None
    if isinstance(x, Real) or (hasattr(x, "__float__") and not isinstance(x, Complex)):
        return float(x)  # type: ignore[arg-type]
    raise TypeError(f"{what} needs a real number, got {type(x).__name__} {x!r}")


def _describe(v: Value) -> str:
    """How error messages name an operand: its number, and its label when set."""
    return f"{v.data!r} (Value {v.label!r})" if v.label else repr(v.data)


def _pow_derivative(base: float, exponent: float) -> float:
    """d/dx x**k at x = base: k * x**(k-1), with the limits Python will not compute."""
    # d/dx x**k = k * x**(k-1)
    if exponent == 0.0:
        return 0.0
    if base == 0.0 and exponent < 1.0:
        # x**(k-1) diverges at 0 for 0 < k < 1 (e.g. sqrt): the slope is infinite.
        return math.inf
    try:
        return exponent * base ** (exponent - 1.0)
    except OverflowError:  # e.g. k = -1 at x = 1e-300: the slope is -1e600, so -inf
        sign = 1.0 if base > 0.0 or (exponent - 1.0) % 2.0 == 0.0 else -1.0
        return math.copysign(math.inf, sign * exponent)


def _pow_exponent_derivative(base: float, result: float) -> float:
    """d/dk x**k = x**k * ln x, defined for x > 0 (0 at x = 0, NaN for x < 0, as PyTorch)."""
    if base > 0.0:
        return result * math.log(base)
    return 0.0 if base == 0.0 else math.nan


def _checked_pow(base: float, exponent: float, describe: Callable[[], str]) -> float:
    """base ** exponent as a real number, or a clear error; describe() names the operands."""
    if base == 0.0 and exponent < 0.0:
        raise ZeroDivisionError(f"{describe()} is undefined: 0 to a negative power divides by zero")
    if base < 0.0 and not float(exponent).is_integer():
        raise ValueError(
            f"{describe()} is not a real number: a negative base needs an integer exponent"
        )
    try:
        return base**exponent
    except OverflowError:
        raise OverflowError(f"{describe()} overflows a float") from None


# ---- activation functions: each returns (σ(x), dσ/dx) --------------------------
# Shared by the Value methods of the same name and by fused neuron nodes.


def _relu(x: float) -> tuple[float, float]:
    # d/dx relu(x) = 1 if x > 0 else 0 (0 at the kink, as PyTorch)
    if x > 0.0:
        return x, 1.0
    if x <= 0.0:
        return 0.0, 0.0
    return x, 1.0  # NaN stays NaN and passes its gradient on, as in PyTorch


def _tanh(x: float) -> tuple[float, float]:
    t = math.tanh(x)  # saturates to ±1, never overflows
    # d/dx tanh(x) = 1 - tanh(x)**2
    return t, 1.0 - t * t


def _sigmoid(x: float) -> tuple[float, float]:
    if x >= 0.0:
        s = 1.0 / (1.0 + math.exp(-x))
    else:  # e**-x would overflow for x < -709; e**x / (1 + e**x) is the same number
        e = math.exp(x)
        s = e / (1.0 + e)
    # d/dx sigmoid(x) = sigmoid(x) * (1 - sigmoid(x))
    return s, s * (1.0 - s)


ACTIVATIONS = {"relu": _relu, "tanh": _tanh, "sigmoid": _sigmoid}


class Value:
    """A scalar in a computation graph: its number, its gradient, and where it came from.

    `data` is the number (always a float) and `grad` is d(root)/d(self) after
    `root.backward()`. `label` is an optional name shown in reprs, errors and drawings.
    """

    __slots__ = ("data", "grad", "label", "_op", "_a", "_da", "_b", "_db")

    def __init__(self, data: Number, label: str = "") -> None:
        self.data = _as_float(data, "Value()")
        self.grad = 0.0
        if not isinstance(label, str):
            raise TypeError(f"Value() label must be a str, got {type(label).__name__} {label!r}")
        self.label = label
        self._op = ""
        self._a = None
        self._da = None
        self._b = None
        self._db = None

    # ---- building nodes -------------------------------------------------------

    @staticmethod
    def _node(data, op, a, da, b=None, db=None) -> Value:
        """A new node: result `data` of `op` with parents a (and b) and local derivatives."""
        out = _new_value(Value)
        out.data = data
        out.grad = 0.0
        out.label = ""
        if _grad_enabled.get():
            out._op = op
            out._a = a
            out._da = da
            out._b = b
            out._db = db
        else:  # under no_grad() the result is a leaf
            out._op = ""
            out._a = out._da = out._b = out._db = None
        return out

    # ---- arithmetic: each op's forward rule with its local derivatives ----------

    def __add__(self, other: Operand) -> Value:
        # d(a+b)/da = 1, d(a+b)/db = 1
        if isinstance(other, Value):
            return Value._node(self.data + other.data, "+", self, 1.0, other, 1.0)
        c = _as_float(other, "+")
        return Value._node(self.data + c, "+", self, 1.0, None, c)

    def __radd__(self, other: Number) -> Value:
        # c + a: the same sum, with the number first (c + a == a + c exactly in floats)
        c = _as_float(other, "+")
        return Value._node(c + self.data, "+", self, 1.0, None, c)

    def __sub__(self, other: Operand) -> Value:
        # d(a-b)/da = 1, d(a-b)/db = -1
        if isinstance(other, Value):
            return Value._node(self.data - other.data, "-", self, 1.0, other, -1.0)
        c = _as_float(other, "-")
        return Value._node(self.data - c, "-", self, 1.0, None, c)

    def __rsub__(self, other: Number) -> Value:
        # d(c-a)/da = -1
        c = _as_float(other, "-")
        return Value._node(c - self.data, "r-", self, -1.0, None, c)

    def __mul__(self, other: Operand) -> Value:
        # d(a*b)/da = b, d(a*b)/db = a
        if isinstance(other, Value):
            return Value._node(self.data * other.data, "*", self, other.data, other, self.data)
        c = _as_float(other, "*")
        return Value._node(self.data * c, "*", self, c, None, c)

    def __rmul__(self, other: Number) -> Value:
        # d(c*a)/da = c
        c = _as_float(other, "*")
        return Value._node(c * self.data, "*", self, c, None, c)

    def __truediv__(self, other: Operand) -> Value:
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b**2
        if isinstance(other, Value):
            if other.data == 0.0:
                raise ZeroDivisionError(f"division by zero: {_describe(self)} / {_describe(other)}")
            q = self.data / other.data
            return Value._node(q, "/", self, 1.0 / other.data, other, -q / other.data)
        c = _as_float(other, "/")
        if c == 0.0:
            raise ZeroDivisionError(f"division by zero: {_describe(self)} / {c!r}")
        return Value._node(self.data / c, "/", self, 1.0 / c, None, c)

    def __rtruediv__(self, other: Number) -> Value:
        # d(c/a)/da = -c/a**2
        c = _as_float(other, "/")
        if self.data == 0.0:
            raise ZeroDivisionError(f"division by zero: {c!r} / {_describe(self)}")
        q = c / self.data
        return Value._node(q, "r/", self, -q / self.data, None, c)

    def __pow__(self, other: Operand) -> Value:
        if isinstance(other, Value):
            # d(a**b)/da = b * a**(b-1), d(a**b)/db = a**b * ln a
            p = _checked_pow(
                self.data, other.data, lambda: f"{_describe(self)} ** {_describe(other)}"
            )
            return Value._node(
                p,
                "**",
                self,
                _pow_derivative(self.data, other.data),
                other,
                _pow_exponent_derivative(self.data, p),
            )
        k = _as_float(other, "**")
        # d(a**k)/da = k * a**(k-1)
        p = _checked_pow(self.data, k, lambda: f"{_describe(self)} ** {k!r}")
        return Value._node(p, "**", self, _pow_derivative(self.data, k), None, k)

    def __rpow__(self, other: Number) -> Value:
        # d(c**a)/da = c**a * ln c
        c = _as_float(other, "**")
        p = _checked_pow(c, self.data, lambda: f"{c!r} ** {_describe(self)}")
        return Value._node(p, "r**", self, _pow_exponent_derivative(c, p), None, c)

    def __neg__(self) -> Value:
        # d(-a)/da = -1
        return Value._node(-self.data, "neg", self, -1.0)

    def __abs__(self) -> Value:
        # d|a|/da = sign(a), taken as 0 at a = 0 (as PyTorch); NaN for NaN
        x = self.data
        sign = 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0 if x == 0.0 else math.nan
        return Value._node(abs(x), "abs", self, sign)

    def relu(self) -> Value:
        """max(0, x)."""
        y, slope = _relu(self.data)
        if slope == 0.0:  # off: passes nothing on (see the module docstring)
            return Value._node(y, "relu", (self,), None, None, 0.0)
        return Value._node(y, "relu", self, slope)

    def tanh(self) -> Value:
        """Hyperbolic tangent; saturates to ±1 without overflow."""
        y, slope = _tanh(self.data)
        return Value._node(y, "tanh", self, slope)

    def sigmoid(self) -> Value:
        """The logistic function 1 / (1 + e**-x), computed without overflow for any x."""
        y, slope = _sigmoid(self.data)
        return Value._node(y, "sigmoid", self, slope)

    def exp(self) -> Value:
        """e**x."""
        try:
            e = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"exp() overflows a float for {_describe(self)}") from None
        # d/dx e**x = e**x
        return Value._node(e, "exp", self, e)

    def log(self) -> Value:
        """The natural logarithm, defined for x > 0."""
        x = self.data
        if x <= 0.0:
            raise ValueError(f"log() is undefined for {_describe(self)}")
        # d/dx ln x = 1/x
        return Value._node(math.log(x), "log", self, 1.0 / x)

    def sqrt(self) -> Value:
        """The square root, defined for x >= 0."""
        x = self.data
        if x < 0.0:
            raise ValueError(f"sqrt() is undefined for {_describe(self)}")
        r = math.sqrt(x)
        # d/dx sqrt(x) = 1 / (2 sqrt(x)), infinite at 0
        return Value._node(r, "sqrt", self, math.inf if r == 0.0 else 0.5 / r)

    # ---- fused n-ary nodes ------------------------------------------------------

    @staticmethod
    def sum(values: Iterable[Operand], start: Operand = 0.0) -> Value:
        """start + v0 + v1 + ... as one node with one parent per Value.

        Adds left to right, as the built-in sum() of Values does, so the result is
        the same float, but the graph has one node instead of one per addition.
        """
        total = start.data if isinstance(start, Value) else _as_float(start, "Value.sum()")
        parents = [start] if isinstance(start, Value) else []
        for v in values:
            if isinstance(v, Value):
                total += v.data
                parents.append(v)
            else:
                total += _as_float(v, "Value.sum()")
        if not parents:  # only numbers: a constant
            return Value(total)
        # d(sum)/d(v_i) = 1
        return Value._node(total, "sum", tuple(parents), (1.0,) * len(parents), None, 1.0)

    @staticmethod
    def dot(
        weights: Sequence[Value],
        inputs: Sequence[Operand],
        bias: Value | None = None,
        activation: str | None = None,
    ) -> Value:
        """bias + w0*x0 + w1*x1 + ..., as one node: a neuron's pre-activation.

        Multiplies and adds in the same order as `sum((w*x for w, x in ...), bias)`,
        so the number is the same float as the elementary graph's. Inputs may be
        Values or plain numbers (constants, which get no gradient); weights and
        bias are Values. With `activation` ("relu", "tanh" or "sigmoid") the node
        is a whole neuron, σ(Σ w·x + b): still one node.
        """
        if not (hasattr(weights, "__len__") and hasattr(inputs, "__len__")):
            raise TypeError(
                "Value.dot() needs weights and inputs as sequences (lists, tuples, arrays), "
                f"got {type(weights).__name__} and {type(inputs).__name__}"
            )
        if len(weights) != len(inputs):
            raise ValueError(
                f"Value.dot() needs as many weights as inputs, got {len(weights)} and {len(inputs)}"
            )
        for i, w in enumerate(weights):
            if not isinstance(w, Value):
                raise TypeError(f"Value.dot() weights[{i}] must be a Value, got {w!r}")
        if bias is not None and not isinstance(bias, Value):
            raise TypeError(f"Value.dot() bias must be a Value or None, got {bias!r}")
        if activation is not None and activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {activation!r}; expected one of {sorted(ACTIVATIONS)} or None"
            )
        if not weights and bias is None:  # nothing to depend on: a constant
            return Value(ACTIVATIONS[activation](0.0)[0] if activation else 0.0)
        return _dot_node(weights, bias, *_split_inputs(inputs), activation)

    # ---- backward -------------------------------------------------------------

    def backward(self, create_graph: bool = False) -> None:
        """Fill in d(self)/d(node) as `node.grad` for every node self depends on.

        Semantics as PyTorch: leaves (inputs and parameters) accumulate their
        gradient across calls, so call `model.zero_grad()` (or set `.grad = 0.0`)
        between steps; interior nodes are reset on every call and hold the
        gradient of the latest sweep. Iterative: any depth works.

        With create_graph=True the gradients are Values with graphs of their own,
        so they can be differentiated again (`x.grad.backward()` gives d²/dx²).
        """
        order = _interior_nodes_root_first([self])
        if create_graph:
            _backward_creating_graph(self, order)
            return
        if not order:  # self is a leaf: d(self)/d(self) = 1
            self.grad += 1.0
            return
        self.grad = 1.0
        # The arithmetic of _contributions(), inlined: a call per node would cost 15%.
        for node in order:
            g = node.grad
            a = node._a
            if type(a) is tuple:  # a fused node: σ'(s) in _db, then ds/dparent in _da
                local_grads = node._da
                if local_grads is None:  # a relu that is off passes nothing on
                    continue
                g *= node._db
                for parent, local in zip(a, local_grads):
                    parent.grad += local * g
            else:
                a.grad += node._da * g
                b = node._b
                if b is not None:
                    b.grad += node._db * g

    # ---- graph structure --------------------------------------------------------

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this one was computed from, in operand order (empty for a leaf)."""
        a = self._a
        if a is None:
            return ()
        if type(a) is tuple:
            return a
        return (a,) if self._b is None else (a, self._b)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d(self)/d(parent) for each of `parents`, in the same order."""
        a = self._a
        if a is None:
            return ()
        if type(a) is tuple:  # a fused node: the chain rule through its activation
            if self._da is None:  # a relu that is off
                return (0.0,) * len(a)
            slope = self._db
            return self._da if slope == 1.0 else tuple(d * slope for d in self._da)
        return (self._da,) if self._b is None else (self._da, self._db)

    @property
    def operands(self) -> tuple[Value | float, ...]:
        """What the op was applied to: Values and plain numbers, in the order written.

        `(x * 2).operands == (x, 2.0)` and `(1 - x).operands == (1.0, x)`; for `+` and
        `*`, which commute, a plain number comes second (`(2 * x).operands == (x, 2.0)`).
        For a fused node they are its parents. Drawings use this to show constants.
        """
        a = self._a
        if a is None:
            return ()
        if type(a) is tuple:
            return a
        if self._b is not None:
            return (a, self._b)
        if self._db is None:  # a unary op
            return (a,)
        return (self._db, a) if self._op in _NUMBER_FIRST_OPS else (a, self._db)

    @property
    def op(self) -> str:
        """The name of the op that made this Value ("" for a leaf)."""
        return self._op

    @property
    def _prev(self) -> set[Value]:
        """micrograd's name for the set of parents, kept for existing lessons."""
        return set(self.parents)

    def draw(self, **options):
        """A drawing of the graph that ends at self: see micrograd.viz.draw_dot."""
        from micrograd.viz import draw_dot  # graphviz is imported only when drawing

        return draw_dot(self, **options)

    def backward_steps(self) -> Iterator[BackwardStep]:
        """backward(), one node at a time: see micrograd.engine.backward_steps."""
        return backward_steps(self)

    def is_leaf(self) -> bool:
        """True for an input or parameter: a Value with no parents."""
        return self._a is None

    def detach(self) -> Value:
        """A new leaf with the same data (and label), cut from the graph."""
        return Value(self.data, self.label)

    # ---- conversions and comparisons (on data; no graph) -------------------------

    def __float__(self) -> float:
        return self.data

    def __lt__(self, other: Operand) -> bool:
        return self.data < _compare_operand(other, "<")

    def __le__(self, other: Operand) -> bool:
        return self.data <= _compare_operand(other, "<=")

    def __gt__(self, other: Operand) -> bool:
        return self.data > _compare_operand(other, ">")

    def __ge__(self, other: Operand) -> bool:
        return self.data >= _compare_operand(other, ">=")

    # == and hash stay by identity (object's), so Values work as set members and dict keys.

    def __repr__(self) -> str:
        if self.label:
            return f"Value(data={self.data}, grad={self.grad}, label={self.label!r})"
        return f"Value(data={self.data}, grad={self.grad})"


# Ops whose plain-number operand is written first (c - x, c / x, c ** x); the others
# keep it second. `operands` puts it back in its place.
_NUMBER_FIRST_OPS = frozenset({"r-", "r/", "r**"})

_ONLY_VALUES = {Value}
_new_value = object.__new__  # makes a node without running __init__'s checks


def _split_inputs(inputs: Sequence[Operand]) -> tuple[tuple, list[float], list[int] | None]:
    """A dot product's inputs as (the inputs, their numbers, where the Values are).

    The positions are None when every input is a Value, the common case; plain
    numbers are constants. A layer splits its inputs once and shares the result
    among its neurons: that halves the cost of its forward pass.
    """
    inputs = tuple(inputs)
    if set(map(type, inputs)) == _ONLY_VALUES:  # the common case, checked in C: 4x faster
        return inputs, [x.data for x in inputs], None
    positions = [i for i, x in enumerate(inputs) if isinstance(x, Value)]
    data = [x.data if isinstance(x, Value) else _as_float(x, "Value.dot()") for x in inputs]
    return inputs, data, positions


def _dot_node(weights, bias, inputs, input_data, positions, activation=None) -> Value:
    """The fused node σ(bias + Σ w_i x_i), for inputs already split by _split_inputs.

    Its parents are (*weights, *Value inputs, bias); it keeps `inputs` in `_b`, so
    that the structure can be recovered (for second derivatives).
    """
    w_data = [w.data for w in weights]
    # bias + w0*x0 + w1*x1 + ..., added left to right as the elementary chain does
    total = 0.0 if bias is None else bias.data
    for w, x in zip(w_data, input_data):
        total += w * x
    if activation is None:
        op, y, slope = "dot", total, 1.0
    else:
        op = _FUSED_OP_NAMES[activation]
        y, slope = ACTIVATIONS[activation](total)
    if not _grad_enabled.get():
        return Value._node(y, op, None, None)
    input_nodes = inputs
    if positions is not None:  # only Value inputs are parents
        input_nodes = tuple(inputs[i] for i in positions)
        w_data = [w_data[i] for i in positions]
    parents = (*weights, *input_nodes) if bias is None else (*weights, *input_nodes, bias)
    if slope == 0.0 and activation == "relu":  # off: passes nothing on, needs no locals
        return Value._node(y, op, parents, None, inputs, slope)
    # d/dw_i = x_i, d/dx_i = w_i, d/dbias = 1; times dσ/ds = slope, in backward()
    local = (*input_data, *w_data) if bias is None else (*input_data, *w_data, 1.0)
    return Value._node(y, op, parents, local, inputs, slope)


class FusedParts(NamedTuple):
    """What a fused neuron node computes: activation(bias + Σ weights[i] * inputs[i])."""

    weights: tuple[Value, ...]
    inputs: tuple[Value | float, ...]  # Values and plain numbers, as given
    bias: Value | None
    activation: str | None  # a name in ACTIVATIONS, or None for the plain sum


def fused_parts(node: Value) -> FusedParts | None:
    """The weights, inputs, bias and activation of a node made by Value.dot (None otherwise).

    Drawings use it to show a fused neuron as the elementary chain of *, + and
    activation nodes that `fused=False` would have built.
    """
    if not node._op.startswith("dot"):
        return None
    inputs = node._b
    weights = node._a[: len(inputs)]
    n_value_inputs = sum(1 for x in inputs if isinstance(x, Value))
    rest = node._a[len(inputs) + n_value_inputs :]
    activation = node._op[len("dot-") :] or None
    return FusedParts(
        tuple(weights),
        tuple(x if isinstance(x, Value) else float(x) for x in inputs),
        rest[0] if rest else None,
        activation,
    )


# The op name of a fused neuron node, by activation.
_FUSED_OP_NAMES = {name: f"dot-{name}" for name in ACTIVATIONS}


def _compare_operand(other: Operand, op: str) -> float:
    return other.data if isinstance(other, Value) else _as_float(other, op)


def topological_order(root: Value) -> list[Value]:
    """Every node root depends on, leaves included, each after all of its parents.

    This is an order in which the forward pass could have computed them, ending
    with root. Iterative, so any depth works; deterministic for a given graph.
    """
    order: list[Value] = []
    visited: set[Value] = set()
    stack: list = [root]
    while stack:
        node = stack.pop()
        if node is _FINISH:
            order.append(stack.pop())
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append(node)
        stack.append(_FINISH)
        # reversed, so that parents are finished in operand order
        stack.extend(p for p in reversed(node.parents) if p not in visited)
    return order


# ---- higher-order gradients ------------------------------------------------------
# backward(create_graph=True) needs each local derivative as a Value, built from the
# node's operands with Value ops, so that the gradient itself has a graph. These are
# the same rules as in the ops above (the float forms there), written with Values.
# Each takes the node and its operands in written order, and returns the derivative
# with respect to each operand; those of plain-number operands are not used.


def _pow_rule(out: Value, base: Operand, exponent: Operand) -> tuple:
    # d(a**b)/da = b * a**(b-1), d(a**b)/db = a**b * ln a
    d_base = d_exponent = None
    if isinstance(base, Value):
        slope = _pow_derivative(base.data, float(exponent))
        # where b * a**(b-1) cannot be built (a**-1 at a = 0 when b is 0, or an
        # infinite slope such as sqrt's at 0), keep the float rule's number
        constant_zero = float(exponent) == 0.0 and (
            not isinstance(exponent, Value) or base.data == 0.0
        )
        if constant_zero or not math.isfinite(slope):
            d_base = slope
        else:
            d_base = exponent * base ** (exponent - 1)
    if isinstance(exponent, Value):
        b = float(base)
        if b > 0.0:
            d_exponent = out * (base.log() if isinstance(base, Value) else math.log(b))
        else:  # ln b is undefined: 0 at b = 0 and NaN below, as the float rule
            d_exponent = 0.0 if b == 0.0 else math.nan
    return d_base, d_exponent


_VALUE_RULES = {
    "+": lambda out, a, b: (1.0, 1.0),  # d(a+b) = (1, 1)
    "-": lambda out, a, b: (1.0, -1.0),  # d(a-b) = (1, -1)
    "r-": lambda out, a, b: (1.0, -1.0),
    "*": lambda out, a, b: (b, a),  # d(a*b) = (b, a)
    "/": lambda out, a, b: (1.0 / b, -out / b),  # d(a/b) = (1/b, -a/b**2)
    "r/": lambda out, a, b: (1.0 / b, -out / b),
    "**": _pow_rule,
    "r**": _pow_rule,
    "neg": lambda out, a: (-1.0,),  # d(-a) = -1
    "abs": lambda out, a: (out._da,),  # sign(a): a constant, as the float rule
    "relu": lambda out, a: (out._da,),  # 1 or 0: a constant, as the float rule
    "tanh": lambda out, a: (1.0 - out * out,),  # 1 - tanh(a)**2
    "sigmoid": lambda out, a: (out * (1.0 - out),),  # σ(a) (1 - σ(a))
    "exp": lambda out, a: (out,),  # e**a
    "log": lambda out, a: (1.0 / a,),  # 1/a
    "sqrt": lambda out, a: (math.inf if out.data == 0.0 else 0.5 / out,),  # 1 / (2 sqrt(a))
}

# dσ/ds of a fused neuron node's activation, from its output y = σ(s).
_ACTIVATION_SLOPE_RULES = {
    "dot": lambda y: 1.0,
    "dot-relu": lambda y: 1.0,  # (0 when off: then the node passes nothing)
    "dot-tanh": lambda y: 1.0 - y * y,
    "dot-sigmoid": lambda y: y * (1.0 - y),
}


def _contributions_as_values(node: Value, g: Value) -> list[tuple[Value, Value | float]]:
    """_contributions() with Values: what node passes to each parent, as a graph.

    The same products in the same order as backward(), so the numbers are the same
    floats (but for the sign of a zero gradient: see _accumulate); each local
    derivative is built with Value ops from the operands.
    """
    a = node._a
    if type(a) is tuple:
        if node._da is None:  # a relu that is off passes nothing on
            return []
        if node._op == "sum":
            return [(parent, local * g) for parent, local in zip(a, node._da)]
        # a dot node: parents (*weights, *Value inputs, bias?); its inputs are in _b
        slope = _ACTIVATION_SLOPE_RULES[node._op](node)
        if slope != 1.0:
            g = g * slope
        inputs = node._b
        weights = a[: len(inputs)]
        # d/dw_i = x_i, d/dx_i = w_i, d/dbias = 1
        local = [*inputs, *(w for w, x in zip(weights, inputs) if isinstance(x, Value))]
        local += [1.0] * (len(a) - len(local))
        return [(parent, d * g) for parent, d in zip(a, local)]
    operands = node.operands
    derivatives = _VALUE_RULES[node._op](node, *operands)
    local = [d for d, x in zip(derivatives, operands) if isinstance(x, Value)]
    return [(parent, d * g) for parent, d in zip(node.parents, local)]


def _backward_creating_graph(root: Value, order: list[Value]) -> None:
    """backward() with gradients that are Values, each with a graph of its own.

    Leaves accumulate Values, which can be differentiated again. Interior nodes
    keep only the number: a gradient's graph often refers to the node it belongs
    to (the gradient of x*x is 2*x), and storing it there would make a reference
    cycle. A leaf and its gradient can still form one, as in PyTorch; grad()
    returns the gradients without storing them, and makes none.
    """
    with enable_grad():  # the gradient graph is recorded even under no_grad()
        seed = Value(1.0)
        if not order:  # root is a leaf
            root.grad = _accumulate(root.grad, seed)
            return
        grads = _sweep(order, {root: seed}, create_graph=True)
    for node, g in grads.items():
        if node._a is None:  # a leaf: accumulates across calls
            node.grad = _accumulate(node.grad, g)
        else:
            node.grad = float(g)


def _sweep(order: list[Value], grads: dict, create_graph: bool) -> dict:
    """The backward sweep over `order` (roots first), from and into the dict `grads`.

    A node that nothing reached passes on 0 * its local derivatives, as in backward().
    """
    for node in order:
        g = grads.get(node, 0.0)
        if create_graph:
            for parent, contribution in _contributions_as_values(node, g):
                grads[parent] = _accumulate(grads.get(parent, 0.0), contribution)
        else:  # backward()'s arithmetic exactly, so the floats are the same
            for parent, contribution in _contributions(node, g):
                grads[parent] = grads.get(parent, 0.0) + contribution
    return grads


def _contributions(node: Value, g: float) -> list[tuple[Value, float]]:
    """What an interior node passes to each parent when its gradient is g: local * g.

    This is backward()'s arithmetic (which inlines it), for grad() and step-by-step
    sweeps. A fused neuron multiplies g by its activation's slope first, and a relu
    that is off passes nothing on (as in PyTorch: no 0 * inf = NaN).
    """
    a = node._a
    if type(a) is tuple:
        if node._da is None:  # a relu that is off
            return []
        g *= node._db
        return [(parent, local * g) for parent, local in zip(a, node._da)]
    if node._b is None:
        return [(a, node._da * g)]
    return [(a, node._da * g), (node._b, node._db * g)]


def _accumulate(total: float | Value, contribution: Value | float) -> Value | float:
    """total + contribution, without a node for adding to a gradient that is still 0.

    (backward() computes 0.0 + c there, which turns a -0.0 into 0.0; this keeps -0.0.)
    """
    if type(total) is float and total == 0.0:
        return contribution
    return total + contribution


def grad(
    outputs: Value | Sequence[Value],
    inputs: Value | Sequence[Value],
    grad_outputs: Sequence[Operand] | None = None,
    create_graph: bool = False,
    allow_unused: bool = True,
) -> list[float] | list[Value]:
    """The gradients of outputs with respect to inputs, leaving every `.grad` untouched.

    Like torch.autograd.grad: computes Σ_k grad_outputs[k] * d(outputs[k])/d(input)
    for each input (grad_outputs default to 1). An input that the outputs do not
    depend on gets 0.0, or a ValueError with allow_unused=False. With
    create_graph=True the gradients are Values that can be differentiated again.
    Outputs may include plain numbers (such as a gradient that is 0.0 because
    nothing reached it): they are constants and contribute nothing.
    """
    outputs = [outputs] if isinstance(outputs, (Value, int, float)) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Value) else list(inputs)
    for v in outputs:  # a plain number is a constant output: it depends on nothing
        if not isinstance(v, Value):
            _as_float(v, "grad() outputs")
    for v in inputs:
        if not isinstance(v, Value):
            raise TypeError(f"grad() inputs must be Values, got {type(v).__name__} {v!r}")
    grad_outputs = [1.0] * len(outputs) if grad_outputs is None else list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"grad() needs one grad_output per output, got {len(grad_outputs)} for {len(outputs)}"
        )
    roots = [out for out in outputs if isinstance(out, Value)]
    token = _grad_enabled.set(create_graph)  # record the gradient graph only when asked
    try:
        grads: dict[Value, float | Value] = {}
        for out, seed in zip(outputs, grad_outputs):
            if not isinstance(seed, Value):
                seed = _as_float(seed, "grad() grad_outputs")
                seed = Value(seed) if create_graph else seed
            elif not create_graph:
                seed = seed.data
            if isinstance(out, Value):
                grads[out] = _accumulate(grads.get(out, 0.0), seed)
        order = _interior_nodes_root_first(roots, reset_grads=False)
        _sweep(order, grads, create_graph)
    finally:
        _grad_enabled.reset(token)
    if not allow_unused:
        in_graph = {*roots, *order, *(p for node in order for p in node.parents)}
        for i, x in enumerate(inputs):
            if x not in in_graph:
                raise ValueError(
                    f"grad() input {i} ({x!r}) does not influence the outputs; "
                    "pass allow_unused=True to get 0.0 for it"
                )
    return [grads.get(x, 0.0) for x in inputs]


def _interior_nodes_root_first(roots: Sequence[Value], reset_grads: bool = True) -> list[Value]:
    """The non-leaf nodes that roots depend on, roots first, each before its parents.

    This is the reverse topological order a backward sweep needs: a node's
    gradient is complete before it is passed on. An iterative depth-first search
    (no recursion limit); leaves are skipped, since they pass nothing on. With
    reset_grads, every node it visits gets grad 0.0, so that interior gradients
    never carry over between backward() calls (it saves backward() a second pass).
    """
    finished: list[Value] = []  # parents before children
    visited: set[Value] = set()
    stack: list = [r for r in reversed(roots) if r._a is not None]
    while stack:
        node = stack.pop()
        if node is _FINISH:  # all parents of the node below the marker are finished
            finished.append(stack.pop())
            continue
        if node in visited:  # pushed twice, by two children; already done
            continue
        visited.add(node)
        if reset_grads:
            node.grad = 0.0
        stack.append(node)
        stack.append(_FINISH)
        a = node._a
        if type(a) is tuple:
            for parent in a:
                if parent._a is not None and parent not in visited:
                    stack.append(parent)
        else:
            if a._a is not None and a not in visited:
                stack.append(a)
            b = node._b
            if b is not None and b._a is not None and b not in visited:
                stack.append(b)
    finished.reverse()
    return finished


# ---- the passes, one step at a time -------------------------------------------------


@dataclass(frozen=True)
class ForwardStep:
    """One node of the forward pass: `node` = op(operands), whose result is `data`."""

    index: int  # its position in the order of computation (its name #index if unlabelled)
    node: Value
    op: str  # "" for a leaf (an input or parameter), which is given, not computed
    operands: tuple  # Values and plain numbers, in the order written
    data: float


@dataclass(frozen=True)
class ParentUpdate:
    """What one step of the backward pass adds to one parent's gradient."""

    parent: Value
    local_grad: float  # d(node)/d(parent)
    contribution: float  # local_grad * the node's grad: the amount added
    total: float  # parent.grad after the addition


@dataclass(frozen=True)
class BackwardStep:
    """One node of the backward pass: its gradient is complete and passed on to its parents."""

    index: int  # 0 for the root, then in the order backward() visits nodes
    node: Value
    grad: float  # d(root)/d(node)
    updates: tuple[ParentUpdate, ...]  # one per parent, in operand order


def forward_steps(root: Value) -> Iterator[ForwardStep]:
    """The forward pass in the order it could have run: leaves first, root last."""
    _check_root(root, "forward_steps()")
    order = topological_order(root)  # iterative: any depth works
    return (ForwardStep(i, v, v.op, v.operands, v.data) for i, v in enumerate(order))


def backward_steps(root: Value) -> Iterator[BackwardStep]:
    """root.backward(), one node at a time: the same order and the same arithmetic.

    Like backward(), calling it at once resets every interior node's grad to 0
    and sets root.grad = 1; each step then adds `local * grad` into each parent's
    grad (leaves accumulate, as with backward()). Exhausting the iterator leaves
    exactly the gradients backward() gives, bit for bit; stopping early leaves
    them part-way. For a leaf root there are no steps: its grad just gains 1.
    """
    _check_root(root, "backward_steps()")
    order = _interior_nodes_root_first([root])  # resets interior grads to 0, as backward()
    if not order:  # root is a leaf: d(root)/d(root) = 1
        root.grad += 1.0
        return iter(())
    root.grad = 1.0
    return _recorded_sweep(order)


def _recorded_sweep(order: list[Value]) -> Iterator[BackwardStep]:
    """backward()'s loop, with a record of each step.

    A fused neuron whose relu is off passes nothing on: its step has no updates.
    """
    for i, node in enumerate(order):
        g = node.grad
        updates = []
        contributions = _contributions(node, g)  # backward()'s own arithmetic
        for (parent, contribution), local in zip(contributions, node.local_grads):
            parent.grad += contribution
            updates.append(ParentUpdate(parent, local, contribution, parent.grad))
        yield BackwardStep(i, node, g, tuple(updates))


def _check_root(root: object, caller: str) -> None:
    if not isinstance(root, Value):
        hint = "; pass one of them, or Value.sum(outputs)" if isinstance(root, list) else ""
        raise TypeError(f"{caller} expected a Value, got {type(root).__name__}{hint}")


_FINISH = object()  # the stack marker of the depth-first searches above: "the node below is done"
