"""The autograd engine: a scalar `Value` that remembers how it was computed.

Every operation on Values makes a new Value that records the op and its operands.
`backward()` walks the graph once, from the result back to the leaves in reverse
topological order, and applies the chain rule at every node: each operand's grad
gains d(result)/d(operand) * result.grad.

The ops are a table, `OPS`: one row per op, each made by the `op` decorator from
its forward rule on floats, with its local derivatives written right beside it
(the math in a comment). Everything else about an op is derived from its row: the
Value method, the step of the backward sweep, second derivatives (the same rule
applied to Values), the symbol in drawings, the activations a neuron can use, the
PyTorch module. A learner adds an op the same way, or builds a node by hand as in
Karpathy's lecture: `Value(data, (a, b), "+")`, then `out._backward = closure`.

How a node is stored (six slots keep it small and fast):

- `data` and `grad`; `_rule`, the row of the op that made it (None for a leaf:
  an input or parameter, whose `_a` is None too).
- An op of one or two operands keeps them in written order in `_a` and `_b` (`_b`
  is None for one), each a Value or a plain number (a constant, kept so that
  drawings can show it). Its local derivatives are not stored: the sweep gets
  them from the op's rule, as micrograd's closures do.
- `Value.sum` keeps the tuple of its parents in `_a`.
- A fused neuron (`Value.dot`, nn's default) keeps its weights and bias in `_a`
  (a tuple its neuron shares among its nodes), its inputs in `_b` (split once per
  layer into numbers and Values, and shared by the layer's neurons), and in `_s`
  the slope of its activation at its weighted sum (None when it passes nothing
  back: a relu that is off). The sweep multiplies the gradient by the slope first
  and then by each d(sum)/d(parent), the order in which the elementary graph of
  *, + and activation nodes multiplies, so a fused neuron's gradients are the
  elementary graph's floats, bit for bit, when each Value appears once among its
  weights and inputs (as in nn's neurons). A Value that appears twice gathers its
  two contributions in another order than the chain's, which can differ in the
  last bit.
- `label` and any attribute a user adds (`p.m = 0.0`) live in the instance
  dict, made only when one is set.

No node made by an op holds a closure or a reference to anything made after it,
so a graph holds no reference cycles and is freed by reference counting alone,
the moment the last reference to its root goes. (Two exceptions, as elsewhere: a
node built by hand with a `_backward` closure, which refers to the node, as in
micrograd; and a leaf whose gradient is a Value after backward(create_graph=True),
as in PyTorch.) `python benchmarks/run.py memory` measures 144 bytes per op node on
CPython 3.11 (the budget is 150).
"""

from __future__ import annotations

import contextvars
import math
import string
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from numbers import Complex, Real
from typing import Any, NamedTuple, Protocol, Union

__all__ = [
    "Value",
    "Op",
    "OPS",
    "ACTIVATIONS",
    "LINEAR",
    "op",
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
    "fused_layer",
    "parameter_tuple",
    "NeuronLike",
    "op_row",
    "sum_terms",
    "tracing",
    "ELEMENTARY",
    "ADD",
    "MUL",
    "SUM",
    "FUSED",
    "BY_HAND",
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
        return float(x)
    raise TypeError(f"{what} needs a real number, got {type(x).__name__} {x!r}")


def _describe(x: Value | float) -> str:
    """How error messages name an operand: its number, and its label when set."""
    if isinstance(x, Value):
        return f"{x.data!r} (Value {x.label!r})" if x.label else repr(x.data)
    return repr(x)


def _number_text(x: float) -> str:
    """A plain number as a formula writes it: 2.0 as "2", 0.5 as "0.5"."""
    return f"{x + 0.0:.6g}"


# ---- the op table ---------------------------------------------------------------------

# A local derivative: a function of the operands and the result, (x, out) for an op
# of one operand and (a, b, out) for two. The sweep applies it to floats (the
# operands' data) and, for backward(create_graph=True), to Values, so that the
# gradient has a graph of its own and can be differentiated again; so it is written
# with arithmetic and ops that work on both. It may return None: then that operand
# receives nothing, not even 0 * an infinite gradient (a relu that is off).
Derivative = Callable[..., Any]

# How the backward sweep treats a node of each kind of op (Op.kind).
ELEMENTARY = 0  # one or two operands, local derivatives from the op's rules
ADD = 1  # +, whose rules backward() inlines
MUL = 2  # *, whose rules backward() inlines
SUM = 3  # Value.sum: many operands, each with local derivative 1
FUSED = 4  # a fused neuron: σ(b + Σ w·x)
BY_HAND = 5  # a node built by hand: its `_backward` closure is its rule


class Op:
    """One row of the op table: everything micrograd knows about one operation.

    - name: what `Value.op` says ("+", "tanh"); the key in OPS.
    - forward: the rule on floats, (x) -> y or (a, b) -> y. It raises ValueError
      (or ZeroDivisionError) where the op is undefined; the error that reaches
      the user names the op and its operands.
    - derivatives: the local derivative with respect to each operand (see
      Derivative above).
    - symbol: how drawings write it ("+", "Σ", "relu(w·x+b)").
    - formula: how a step table writes a node of it, with {0}, {1} for the
      operands ("{0} - {1}", "|{0}|"); None for `symbol(operands, ...)`.
    - commutative: its two operands can be swapped, to the last bit: drawings need
      not show their order, and a plain number is kept second (`2 * x` as `x * 2`).
    - spelling: micrograd's `_op` text ("ReLU", "**2"): a string, or a function
      of the operands.
    - activation: a neuron can apply it (nn's `activation=`, `Value.dot`); such an
      op also has `fused`, the op of a whole neuron that applies it.
    - title: its name in a Neuron's repr ("ReLU" in "ReLUNeuron(3)").
    - torch: the name of its module in torch.nn ("ReLU"), or None if it has none.

    A row is also a function: `tanh(x)` is a Value for a Value and a float for a
    float, so a derivative rule can use other ops on either.
    """

    __slots__ = (
        "name", "forward", "derivatives", "kind", "symbol", "formula", "commutative",
        "spelling", "activation", "title", "torch", "doc", "fused", "closure",
    )  # fmt: skip

    def __init__(
        self,
        name: str,
        forward: Callable[..., float] | None,
        derivatives: Sequence[Derivative],
        *,
        kind: int = ELEMENTARY,
        symbol: str | None = None,
        formula: str | None = None,
        commutative: bool = False,
        spelling: str | Callable[..., str] | None = None,
        activation: bool = False,
        title: str | None = None,
        torch: str | None = None,
        doc: str | None = None,
    ) -> None:
        self.name = name
        self.forward = forward
        self.derivatives = tuple(derivatives)
        self.kind = kind
        self.symbol = name if symbol is None else symbol
        if formula is None and len(self.derivatives) == 2 and not self.symbol.isidentifier():
            # an operator is written between its operands (braces in it doubled: they are text)
            formula = "{0} " + self.symbol.replace("{", "{{").replace("}", "}}") + " {1}"
        self.formula = formula
        self.commutative = commutative
        self.spelling: str | Callable[..., str] = name if spelling is None else spelling
        self.activation = activation
        self.title = name.capitalize() if title is None else title
        self.torch = torch
        self.doc = doc or ""
        self.fused: Op | None = None  # for an activation: the op of a whole neuron using it
        self.closure: Callable[[], None] | None = None  # for a node built by hand: its _backward

    @property
    def arity(self) -> int:
        """How many operands it takes: 1 or 2 (0 for the fused ops of many operands)."""
        return len(self.derivatives)

    def __call__(self, *operands: Operand) -> Any:
        """Apply the op: a new Value when an operand is a Value, else a float."""
        if self.forward is None or len(operands) != self.arity:
            raise TypeError(f"{self.name}() takes {self.arity} operand(s), got {len(operands)}")
        if any(isinstance(x, Value) for x in operands):
            return _apply(self, operands)
        return _forward(self, operands, [_as_float(x, f"{self.name}()") for x in operands])

    def spell(self, operands: Sequence[Value | float]) -> str:
        """micrograd's `_op` text for a node of this op with these operands."""
        return self.spelling if isinstance(self.spelling, str) else self.spelling(*operands)

    @property
    def method(self) -> Callable[..., Value]:
        """This op as a Value method: `x.tanh()`, `x - y` (`__sub__`)."""

        def method(self_: Value, *others: Operand) -> Value:
            return _apply(self, (self_, *others))

        method.__name__ = method.__qualname__ = self.name
        method.__doc__ = self.doc
        return method

    @property
    def reflected(self) -> Callable[[Value, Operand], Value]:
        """This op of two operands with a plain number first: `2 - x` (`__rsub__`)."""

        def reflected(self_: Value, other: Operand) -> Value:
            return _apply(self, (other, self_))

        reflected.__name__ = reflected.__qualname__ = f"r{self.name}"
        reflected.__doc__ = self.doc
        return reflected

    def __repr__(self) -> str:
        return f"<op {self.name!r}>"


# Every op by name: the built-in rows below, the fused ones, and any a user registers.
OPS: dict[str, Op] = {}
# The ops a neuron can apply after its weighted sum, by name (rows with activation=True),
# and the name of none: a linear neuron's output is its weighted sum.
ACTIVATIONS: dict[str, Op] = {}
LINEAR = "linear"
# The names of the built-in ops, set once they are registered: a user's op cannot take one.
_BUILT_IN: frozenset[str] = frozenset()


def op(
    *,
    derivative: Derivative | None = None,
    derivatives: Sequence[Derivative] | None = None,
    name: str | None = None,
    symbol: str | None = None,
    formula: str | None = None,
    commutative: bool = False,
    spelling: str | Callable[..., str] | None = None,
    activation: bool = False,
    title: str | None = None,
    torch: str | None = None,
) -> Callable[[Callable[..., float]], Op]:
    """Register a new op: a decorator for its forward rule on floats.

        @op(derivative=lambda x, out: sigmoid(x))  # d/dx softplus(x) = sigmoid(x)
        def softplus(x):
            return math.log1p(math.exp(x))

        Value(1.0).softplus()   # a Value, drawn, stepped through and differentiated like tanh
        softplus(Value(1.0))    # the same
        softplus(1.0)           # a float

    Give `derivative` for an op of one operand, a function of (x, out); or
    `derivatives`, one per operand, each a function of all the operands and out.
    Write them with arithmetic and ops that work on floats and Values alike (the
    rows of this table: exp, log, tanh, sigmoid, ...), so that
    backward(create_graph=True) can differentiate them again. `name` defaults to
    the function's name and becomes a Value method; with `activation=True` a
    neuron can use it (`Neuron(3, activation="softplus")`), and `torch` names the
    torch.nn module that computes the same function, for micrograd.torch.

    Registering a name again replaces the op (so a notebook cell can be re-run);
    the built-in ops and Value's own attributes cannot be replaced.
    """
    if (derivative is None) == (derivatives is None):
        raise TypeError("op() needs derivative= (one operand) or derivatives= (one per operand)")
    # the check above leaves exactly one of the two given; mypy cannot see that
    rules: tuple[Derivative, ...] = (
        (derivative,) if derivatives is None else tuple(derivatives)  # type: ignore[assignment]
    )
    if not 1 <= len(rules) <= 2 or not all(callable(rule) for rule in rules):
        raise TypeError(f"op() derivatives must be one or two functions, got {rules!r}")
    for option, text in (("symbol", symbol), ("formula", formula)):
        if text is not None and not isinstance(text, str):
            raise TypeError(f"op() {option} must be a str, got {type(text).__name__} {text!r}")

    def register(forward: Callable[..., float]) -> Op:
        if not callable(forward):
            raise TypeError(f"op() decorates the forward rule, a function; got {forward!r}")
        row = Op(
            forward.__name__ if name is None else name,
            forward,
            rules,
            symbol=symbol,
            formula=formula,
            commutative=commutative,
            spelling=spelling,
            activation=activation,
            title=title,
            torch=torch,
            doc=forward.__doc__,
        )
        # every check before any change, so that a failed registration (a notebook cell
        # re-run with a mistake) leaves the op it would replace as it was
        if formula is not None:
            _check_formula(row.name, formula, row.arity)
        if row.activation and row.arity != 1:
            raise ValueError(f"an activation takes one operand; {row.name!r} takes {row.arity}")
        if _BUILT_IN:  # a user's op; the built-in ones are listed in Value's class body
            _check_user_op_name(row.name)
        _register(row)
        if _BUILT_IN:
            setattr(Value, row.name, row.method)
        return row

    return register


def _check_user_op_name(name: str) -> None:
    if not name.isidentifier():
        raise ValueError(f"an op's name must be a Python identifier, got {name!r}")
    if name in _BUILT_IN or (name in _VALUE_ATTRIBUTES and name not in OPS):
        raise ValueError(f"{name!r} is already a name of micrograd's Value; choose another")


def _check_formula(name: str, formula: str, arity: int) -> None:
    """A ValueError unless `formula` writes only the operands, as {0} (and {1})."""
    allowed = ("0", "1")[:arity]
    try:
        fields = [
            field for _, field, _, _ in string.Formatter().parse(formula) if field is not None
        ]
        problem = next((f"it names {{{f}}}" for f in fields if f not in allowed), "")
        if not problem:  # a conversion or format spec of its own must work too
            formula.format(*["x"] * arity)
    except (IndexError, KeyError, ValueError, AttributeError) as error:
        problem = f"{type(error).__name__}: {error}"
    if problem:
        fields_text = " and ".join("{" + f + "}" for f in allowed)
        raise ValueError(
            f"the formula of op {name!r} may name only its operands, as {fields_text}; "
            f"got {formula!r} ({problem})"
        )


def _register(row: Op) -> None:
    """Put `row` into OPS, and an activation's fused op into OPS and ACTIVATIONS.
    (op() has checked the row: an activation takes one operand.)"""
    previous = OPS.get(row.name)
    if previous is not None and previous.fused is not None:  # replaced: drop its fused op
        del OPS[previous.fused.name]
    ACTIVATIONS.pop(row.name, None)
    if row.activation:
        row.fused = Op(
            f"dot-{row.name}",
            None,
            (),
            kind=FUSED,
            symbol=f"{row.symbol}(w·x+b)",
            doc=f"A whole neuron, {row.name}(w·x + b), as one node.",
        )
        OPS[row.fused.name] = row.fused
        ACTIVATIONS[row.name] = row
    OPS[row.name] = row


def _forward(row: Op, operands: Sequence[Operand], xs: Sequence[float]) -> float:
    """row.forward(*xs), or the error that names the op and its operands."""
    try:
        return row.forward(*xs)  # type: ignore[misc]  # the ops of many operands have none and never come here
    except (ValueError, ZeroDivisionError, OverflowError) as error:
        reason = f": {error}" if str(error) else ""
        what = "overflows a float" if isinstance(error, OverflowError) else "is undefined"
        # each operand as the op saw it: a Value, or a constant as a float
        shown = [_describe(x if isinstance(x, Value) else c) for x, c in zip(operands, xs)]
        if row.arity == 1:
            message = f"{row.name}() {what} for {shown[0]}{reason}"
        else:
            message = f"{shown[0]} {row.symbol} {shown[1]} {what}{reason}"
        raise type(error)(message) from None


def _apply(row: Op, operands: Sequence[Operand]) -> Value:
    """A new node: row's result on the operands, which it keeps in written order."""
    what = row.name if row.arity == 2 else f"{row.name}()"
    if row.commutative and not isinstance(operands[0], Value):
        operands = (operands[1], operands[0])  # a plain number second, as in `2 * x`
    xs = [x.data if isinstance(x, Value) else _as_float(x, what) for x in operands]
    y = _forward(row, operands, xs)
    # each operand a Value, or a constant kept as a float
    a = operands[0] if isinstance(operands[0], Value) else xs[0]
    if row.arity == 1:
        return _node(y, row, a, None)
    return _node(y, row, a, operands[1] if isinstance(operands[1], Value) else xs[1])


def _node(data: float, rule: Op, a: Any, b: Any, s: Any = None) -> Value:
    """A new node with result `data` of the op `rule` on a (and b); a leaf under no_grad()."""
    out = _new_value(Value)
    out.data = data
    out.grad = 0.0
    if _grad_enabled.get():
        out._rule = rule
        out._a = a
        out._b = b
        out._s = s
    else:
        out._rule = out._a = out._b = out._s = None
    return out


# ---- the built-in ops: each forward rule with its local derivatives beside it ----------


@op(
    name="+",
    derivatives=(lambda a, b, out: 1.0, lambda a, b, out: 1.0),
    commutative=True,
)
def add(a: float, b: float) -> float:
    """a + b."""
    # d(a+b)/da = 1, d(a+b)/db = 1
    return a + b


@op(name="-", derivatives=(lambda a, b, out: 1.0, lambda a, b, out: -1.0))
def sub(a: float, b: float) -> float:
    """a - b."""
    # d(a-b)/da = 1, d(a-b)/db = -1
    return a - b


@op(name="*", derivatives=(lambda a, b, out: b, lambda a, b, out: a), commutative=True)
def mul(a: float, b: float) -> float:
    """a * b."""
    # d(a*b)/da = b, d(a*b)/db = a
    return a * b


@op(name="/", derivatives=(lambda a, b, out: 1.0 / b, lambda a, b, out: -out / b))
def div(a: float, b: float) -> float:
    """a / b, defined for b != 0."""
    # d(a/b)/da = 1/b, d(a/b)/db = -a/b**2 = -(a/b)/b
    if b == 0.0:
        raise ZeroDivisionError("division by zero")
    return a / b


def _pow_slope(x: float, k: float) -> float:
    """d/dx x**k = k * x**(k-1) at x, with the limits Python will not compute."""
    if k == 0.0:
        return 0.0
    if x == 0.0 and k < 1.0:
        return math.inf  # x**(k-1) diverges at 0 for 0 < k < 1 (e.g. sqrt): the slope is infinite
    try:
        return k * x ** (k - 1.0)
    except OverflowError:  # e.g. k = -1 at x = 1e-300: the slope is -1e600, so -inf
        sign = 1.0 if x > 0.0 or (k - 1.0) % 2.0 == 0.0 else -1.0
        return math.copysign(math.inf, sign * k)


def _pow_base_derivative(a: Any, b: Any, out: Any) -> Any:
    # d(a**b)/da = b * a**(b-1)
    slope = _pow_slope(float(a), float(b))
    if not isinstance(a, Value):  # floats: the number itself
        return slope
    # on Values, the same rule as a graph, except where b * a**(b-1) cannot be built:
    # a**-1 at a = 0 when b is 0, and an infinite slope (sqrt's at 0)
    zero_exponent = float(b) == 0.0 and (not isinstance(b, Value) or float(a) == 0.0)
    if zero_exponent or not math.isfinite(slope):
        return slope
    return b * a ** (b - 1)


def _pow_exponent_derivative(a: Any, b: Any, out: Any) -> Any:
    # d(a**b)/db = a**b * ln a, for a > 0 (0 at a = 0 and NaN below, as PyTorch)
    base = float(a)
    if base > 0.0:
        return out * (a.log() if isinstance(a, Value) else math.log(base))
    return 0.0 if base == 0.0 else math.nan


def _pow_spelling(a: Value | float, b: Value | float) -> str:
    return "**" if isinstance(b, Value) else f"**{_number_text(b)}"  # micrograd's x**2: "**2"


@op(
    name="**",
    derivatives=(_pow_base_derivative, _pow_exponent_derivative),
    spelling=_pow_spelling,
)
def pow_(a: float, b: float) -> float:
    """a ** b as a real number; a result too large for a float is ±inf."""
    if a == 0.0 and b < 0.0:
        raise ZeroDivisionError("0 to a negative power divides by zero")
    if a < 0.0 and not b.is_integer():
        raise ValueError("a negative base needs an integer exponent")
    try:
        return a**b
    except OverflowError:  # the one overflow policy: ±inf, as for every other op
        return -math.inf if a < 0.0 and b % 2.0 == 1.0 else math.inf


@op(name="neg", derivative=lambda x, out: -1.0, formula="-{0}")
def neg(x: float) -> float:
    """-x."""
    # d(-x)/dx = -1
    return -x


def _sign(x: float) -> float:
    return 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0 if x == 0.0 else math.nan


@op(name="abs", derivative=lambda x, out: _sign(float(x)), formula="|{0}|")
def abs_(x: float) -> float:
    """|x|."""
    # d|x|/dx = sign(x), taken as 0 at x = 0 (as PyTorch); NaN for NaN. A constant.
    return abs(x)


@op(
    derivative=lambda x, out: None if x <= 0.0 else 1.0,
    spelling="ReLU",
    activation=True,
    title="ReLU",
    torch="ReLU",
)
def relu(x: float) -> float:
    """max(0, x)."""
    # d/dx relu(x) = 1 if x > 0 else 0 (0 at the kink, as PyTorch). The 0 is a switch,
    # not a factor (None above): a relu that is off passes nothing back, not even
    # 0 * an infinite gradient. NaN stays NaN and passes its gradient on.
    return 0.0 if x <= 0.0 else x


@op(derivative=lambda x, out: 1.0 - out * out, activation=True, torch="Tanh")
def tanh(x: float) -> float:
    """Hyperbolic tangent; saturates to ±1, never overflows."""
    # d/dx tanh(x) = 1 - tanh(x)**2
    return math.tanh(x)


@op(derivative=lambda x, out: out * (1.0 - out), activation=True, torch="Sigmoid")
def sigmoid(x: float) -> float:
    """The logistic function 1 / (1 + e**-x), computed without overflow for any x."""
    # d/dx sigmoid(x) = sigmoid(x) * (1 - sigmoid(x))
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)  # e**-x would overflow for x < -709; e**x / (1 + e**x) is the same number
    return e / (1.0 + e)


@op(derivative=lambda x, out: out)
def exp(x: float) -> float:
    """e**x; a result too large for a float is inf."""
    # d/dx e**x = e**x
    try:
        return math.exp(x)
    except OverflowError:  # the one overflow policy: ±inf, as for every other op
        return math.inf


@op(derivative=lambda x, out: 1.0 / x)
def log(x: float) -> float:
    """The natural logarithm, defined for x > 0."""
    # d/dx ln x = 1/x
    if x <= 0.0:
        raise ValueError  # the error that reaches the user names the op and the operand
    return math.log(x)


@op(derivative=lambda x, out: math.inf if float(out) == 0.0 else 0.5 / out)
def sqrt(x: float) -> float:
    """The square root, defined for x >= 0."""
    # d/dx sqrt(x) = 1 / (2 sqrt(x)), infinite at 0
    if x < 0.0:
        raise ValueError
    return math.sqrt(x)


_LOG2 = math.log(2.0)


@op(
    derivatives=(lambda a, b, out: sigmoid(a - b), lambda a, b, out: sigmoid(b - a)),
    commutative=True,  # to the last bit: |a - b| and the larger are the same either way
)
def logaddexp(a: float, b: float) -> float:
    """log(e**a + e**b), computed without overflow: the stable core of softmax losses."""
    # d/da log(e**a + e**b) = e**a / (e**a + e**b) = sigmoid(a - b); the same for b
    if a == b:  # also two infinities of one sign, whose difference is NaN
        return a + _LOG2
    larger = a if a > b else b
    return larger + math.log1p(math.exp(-abs(a - b)))


# The ops of many operands. Their forward rules are Value.sum and _fused_neurons, and
# their local derivatives are written out in _local_derivatives.
SUM_OP = Op("sum", None, (), kind=SUM, symbol="Σ", doc="v0 + v1 + ... as one node.")
DOT_OP = Op("dot", None, (), kind=FUSED, symbol="w·x+b", doc="b + Σ w·x as one node.")
_register(SUM_OP)
_register(DOT_OP)
add.kind = ADD  # the rules backward() inlines (tests pin the inlined code to these rows)
mul.kind = MUL

_BUILT_IN = frozenset(OPS)  # from here on, `op` registers a user's op


# ---- Value ------------------------------------------------------------------------------


class Value:
    """A scalar in a computation graph: its number, its gradient, and where it came from.

    `data` is the number (always a float) and `grad` is d(root)/d(self) after
    `root.backward()`. `label` is an optional name shown in reprs, errors and drawings.

    `Value(data, _children, _op)` builds a node by hand, as in micrograd's lecture;
    it passes nothing back until you give it a `_backward` (`out._backward = closure`).
    """

    # Six slots: 144 bytes a node with its float (see the module docstring). __dict__
    # holds `label` and attributes users add, and is made only when one is set;
    # __weakref__ lets Values be weakly referenced.
    __slots__ = ("data", "grad", "_rule", "_a", "_b", "_s", "__dict__", "__weakref__")

    data: float
    grad: Any  # a float; on a leaf, a Value after backward(create_graph=True)
    _rule: Op | None
    _a: Any  # the operands, by kind of op: see the module docstring
    _b: Any
    _s: Any
    label: str = ""  # stored in the instance dict only when given
    # a leaf built by hand, as micrograd allows: its `_op` text and `_backward` closure
    _op_text: str = ""
    _leaf_closure: Callable[[], None] | None = None

    def __init__(
        self, data: Number, _children: Iterable[Value] = (), _op: str = "", label: str = ""
    ) -> None:
        self.data = _as_float(data, "Value()")
        self.grad = 0.0
        if not isinstance(label, str):
            raise TypeError(f"Value() label must be a str, got {type(label).__name__} {label!r}")
        if label:
            self.label = label
        self._rule = self._a = self._b = self._s = None
        if _children or _op:
            self._build_by_hand(_children, _op)

    def _build_by_hand(self, children: Iterable[Value], op_text: str) -> None:
        """Make this Value a node of an op written by hand: micrograd's lecture style."""
        if isinstance(children, str):
            raise TypeError(
                "Value()'s second argument is _children, the Values it was computed from "
                f"(as in micrograd), got the str {children!r}; give a label by name: label=..."
            )
        if not isinstance(op_text, str):
            raise TypeError(f"Value() _op must be a str, got {type(op_text).__name__} {op_text!r}")
        parents = tuple(children)
        for i, parent in enumerate(parents):
            if not isinstance(parent, Value):
                raise TypeError(
                    f"Value() _children must be Values, got {type(parent).__name__} "
                    f"{parent!r} at position {i}"
                )
        if not parents:  # still a leaf (micrograd's Value(2.0, (), "x")): it keeps the text
            self._op_text = op_text
            return
        # An op of its own, outside the table: its rule is the closure given later.
        self._rule = Op(op_text, None, (), kind=BY_HAND, doc="an op written by hand")
        self._a = parents
        self._b = self._s = None

    # ---- arithmetic -----------------------------------------------------------------------
    # + and * are the commonest ops, so they are written out here (about 2x faster than
    # through _apply); tests pin each to its row, bit for bit. A plain number is kept
    # second: (2 * x).operands == (x, 2.0), since c * x == x * c exactly in floats.

    def __add__(self, other: Operand) -> Value:
        if isinstance(other, Value):
            return _node(self.data + other.data, add, self, other)
        c = _as_float(other, "+")
        return _node(self.data + c, add, self, c)

    def __radd__(self, other: Number) -> Value:
        c = _as_float(other, "+")
        return _node(c + self.data, add, self, c)

    def __mul__(self, other: Operand) -> Value:
        if isinstance(other, Value):
            return _node(self.data * other.data, mul, self, other)
        c = _as_float(other, "*")
        return _node(self.data * c, mul, self, c)

    def __rmul__(self, other: Number) -> Value:
        c = _as_float(other, "*")
        return _node(c * self.data, mul, self, c)

    def relu(self) -> Value:
        """max(0, x)."""
        x = self.data  # relu's row, written out: the hinge of every example in the demo
        return _node(0.0 if x <= 0.0 else x, relu, self, None)

    # The other ops: each the method of its row (`x - y` is sub.method(x, y)).
    __sub__ = sub.method
    __rsub__ = sub.reflected
    __truediv__ = div.method
    __rtruediv__ = div.reflected
    __pow__ = pow_.method
    __rpow__ = pow_.reflected
    __neg__ = neg.method
    __abs__ = abs_.method
    tanh = tanh.method
    sigmoid = sigmoid.method
    exp = exp.method
    log = log.method
    sqrt = sqrt.method
    logaddexp = logaddexp.method

    # ---- ops of many operands, as one node ------------------------------------------------

    @staticmethod
    def sum(values: Iterable[Operand], start: Operand = 0.0) -> Value:
        """start + v0 + v1 + ... as one node with one parent per Value.

        Adds left to right, as the built-in sum() of Values does, so the result is
        the same float, but the graph has one node instead of one per addition.
        """
        total = start.data if isinstance(start, Value) else _as_float(start, "Value.sum()")
        written: list[Value | float] = [start if isinstance(start, Value) else total]
        for v in values:
            if isinstance(v, Value):
                total += v.data
                written.append(v)
            else:
                c = _as_float(v, "Value.sum()")
                total += c
                written.append(c)
        parents = tuple(v for v in written if isinstance(v, Value))
        if not parents:  # only numbers: a constant
            return Value(total)
        # _b keeps the terms as added, numbers included (micrograd.compiler adds them again)
        return _node(total, SUM_OP, parents, tuple(written))

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
        bias are Values. With `activation` (a name in ACTIVATIONS: "relu", "tanh",
        "sigmoid", or an op registered with activation=True) the node is a whole
        neuron, σ(Σ w·x + b): still one node.
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
        sigma = _activation(activation)
        if not weights and bias is None:  # nothing to depend on: a constant
            return Value(0.0 if sigma is None else _forward(sigma, [0.0], [0.0]))
        return _fused_neurons(_split_inputs(inputs), [_Neuron(weights, bias, activation)])[0]

    # ---- backward -------------------------------------------------------------------------

    def backward(self, create_graph: bool = False) -> None:
        """Fill in d(self)/d(node) as `node.grad` for every node self depends on.

        Semantics as PyTorch: leaves (inputs and parameters) accumulate their
        gradient across calls, so call `model.zero_grad()` (or set `.grad = 0.0`)
        between steps; interior nodes are reset on every call and hold the
        gradient of the latest sweep. The sweep visits the interior nodes in
        reverse topological order: `reversed(topological_order(self))`.
        Iterative: any depth works.

        With create_graph=True the gradients are Values with graphs of their own,
        so they can be differentiated again (`x.grad.backward()` gives d²/dx²).
        """
        order = _sweep_order([self], reset_grads=True)
        if create_graph:
            _backward_creating_graph(self, order)
            return
        if not order:  # self is a leaf: d(self)/d(self) = 1
            self.grad += 1.0
            return
        self.grad = 1.0
        # The chain rule at each node (_chain_rule) with the rules of the commonest ops
        # written out: a call per node would cost a third of the sweep. Tests pin this
        # loop to backward_steps, which calls _chain_rule, bit for bit.
        for node in order:
            g = node.grad
            kind = node._rule.kind  # type: ignore[union-attr]  # interior: it has a rule
            if g == 0.0 and kind != BY_HAND:  # nothing reached it: it passes nothing back
                continue
            if kind == FUSED:  # d(out)/d(s) = the slope, then d(s)/dw_i = x_i, d(s)/dx_i = w_i
                slope = node._s
                if slope is None:  # a relu that is off passes nothing back
                    continue
                g *= slope
                parameters = node._a  # the weights, then the bias
                split = node._b
                for w, x in zip(parameters, split.data):
                    w.grad += x * g
                if split.positions is None:  # every input a Value
                    for x, w in zip(split.inputs, parameters):
                        x.grad += w.data * g
                else:
                    for x, i in zip(split.values, split.positions):
                        x.grad += parameters[i].data * g
                if len(parameters) > len(split.data):  # d(s)/dbias = 1
                    parameters[-1].grad += g
            elif kind == MUL:  # d(a*b)/da = b, d(a*b)/db = a
                a = node._a
                b = node._b
                if type(b) is float:  # a constant
                    a.grad += b * g
                else:
                    a.grad += b.data * g
                    b.grad += a.data * g
            elif kind == ADD:  # d(a+b)/da = 1, d(a+b)/db = 1
                node._a.grad += g
                b = node._b
                if type(b) is not float:
                    b.grad += g
            elif kind == SUM:  # d(sum)/d(v_i) = 1
                for parent in node._a:
                    parent.grad += g
            elif kind == BY_HAND:  # its own _backward closure, as micrograd calls it
                closure = node._rule.closure  # type: ignore[union-attr]  # interior: a rule
                if closure is not None:
                    closure()
            else:
                for parent, _, contribution in _chain_rule(node, g):
                    parent.grad += contribution

    @property
    def _backward(self) -> Callable[[], None]:
        """micrograd's per-node step: add this node's contribution to its parents' grads.

        With root.grad = 1.0 and every interior grad at 0,
        `for node in reversed(topological_order(root)): node._backward()` gives
        exactly the gradients of backward(). Assigning a function of no arguments
        (`out._backward = closure`) makes it this node's rule, as in micrograd.
        """
        rule = self._rule
        if rule is None:  # a leaf passes nothing back (unless it was given a closure)
            return self._leaf_closure or self._chain_rule_step
        return rule.closure or self._chain_rule_step

    @_backward.setter
    def _backward(self, closure: Callable[[], None]) -> None:
        if not callable(closure):
            raise TypeError(f"_backward must be a function of no arguments, got {closure!r}")
        if self._rule is None:  # a leaf: backward() never calls it, the lecture's loop does
            self._leaf_closure = closure
            return
        if self._rule.kind != BY_HAND:  # a node made by a row of OPS becomes an op of its own
            self._build_by_hand(self.parents, self._op)
        self._rule.closure = closure

    def _chain_rule_step(self) -> None:
        for parent, _, contribution in _chain_rule(self, self.grad):
            parent.grad += contribution

    # ---- graph structure ------------------------------------------------------------------

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this one was computed from, in operand order (empty for a leaf)."""
        a = self._a
        if a is None:
            return ()
        b = self._b
        if type(a) is tuple:  # many operands
            if type(b) is _SplitInputs:  # a fused neuron: weights, Value inputs, bias
                n = len(b.data)
                return (*a[:n], *b.values, *a[n:])
            return a
        return tuple(x for x in (a, b) if isinstance(x, Value))

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d(self)/d(parent) for each of `parents`, in the same order (0.0 where nothing
        is passed back, as through a relu that is off)."""
        if self._a is None:
            return ()
        if self._rule.kind == BY_HAND:  # type: ignore[union-attr]  # it has parents: a rule
            sent = {id(p): local for p, local, _ in _chain_rule(self, 1.0)}
            return tuple(sent.get(id(p), 0.0) for p in self.parents)
        parents, local_grads, slope = _local_derivatives(self, as_values=False)
        if slope is None:
            return (0.0,) * len(parents)
        return tuple(0.0 if d is None else d if slope == 1.0 else d * slope for d in local_grads)

    @property
    def operands(self) -> tuple[Value | float, ...]:
        """What the op was applied to: Values and plain numbers, in the order written.

        `(x * 2).operands == (x, 2.0)` and `(1 - x).operands == (1.0, x)`; for `+` and
        `*`, which commute, a plain number comes second (`(2 * x).operands == (x, 2.0)`).
        For an op of many operands they are its parents. Drawings use this to show constants.
        """
        a = self._a
        if a is None:
            return ()
        if type(a) is tuple:
            return self.parents
        return (a,) if self._b is None else (a, self._b)

    @property
    def op(self) -> str:
        """The name of the op that made this Value ("" for a leaf): a key of OPS."""
        rule = self._rule
        return "" if rule is None else rule.name

    @property
    def _op(self) -> str:
        """micrograd's text for the op: "+", "*", "**2", "ReLU", "tanh" ("" for a leaf)."""
        rule = self._rule
        return self._op_text if rule is None else rule.spell(self.operands)

    @property
    def _prev(self) -> set[Value]:
        """micrograd's name for the set of parents, kept for existing lessons."""
        return set(self.parents)

    def draw(self, **options: Any) -> Any:
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
        return Value(self.data, label=self.label)

    # ---- conversions and comparisons (on data; no graph) ------------------------------------

    def __float__(self) -> float:
        _check_not_tracing("float(a Value)")
        return self.data

    def __lt__(self, other: Operand) -> bool:
        return _check_not_tracing("<") or self.data < _compare_operand(other, "<")

    def __le__(self, other: Operand) -> bool:
        return _check_not_tracing("<=") or self.data <= _compare_operand(other, "<=")

    def __gt__(self, other: Operand) -> bool:
        return _check_not_tracing(">") or self.data > _compare_operand(other, ">")

    def __ge__(self, other: Operand) -> bool:
        return _check_not_tracing(">=") or self.data >= _compare_operand(other, ">=")

    # == and hash stay by identity (object's), so Values work as set members and dict keys.

    def __repr__(self) -> str:
        if self.label:
            return f"Value(data={self.data}, grad={self.grad}, label={self.label!r})"
        return f"Value(data={self.data}, grad={self.grad})"


_new_value = object.__new__  # makes a node without running __init__'s checks
_VALUE_ATTRIBUTES = frozenset(dir(Value))  # names a user's op may not take


# While micrograd.compiler traces a function, comparing Values (or making a float of one)
# would let the function choose its graph by the numbers, which a compiled program
# cannot follow: the tracer sets this to say so.
_tracing: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "micrograd_tracing", default=None
)


@contextmanager
def tracing(reason: str) -> Iterator[None]:
    """Within this block, comparing Values or making a float of one raises TypeError,
    saying `reason`: micrograd.compiler traces a function in it, so that the function
    cannot choose its graph by the numbers without the compiler knowing."""
    token = _tracing.set(reason)
    try:
        yield
    finally:
        _tracing.reset(token)


def _check_not_tracing(what: str) -> bool:
    """False, or a TypeError while a function is being traced (see _tracing)."""
    refusal = _tracing.get()
    if refusal is not None:
        raise TypeError(f"{what} on a Value while tracing: {refusal}")
    return False


def _compare_operand(other: Operand, op_text: str) -> float:
    return other.data if isinstance(other, Value) else _as_float(other, op_text)


def _activation(name: str | None) -> Op | None:
    """The activation op called `name` (None for None or LINEAR), or a ValueError listing them."""
    if name is None or name == LINEAR:
        return None
    if name not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {name!r}; expected one of {sorted([LINEAR, *ACTIVATIONS])} or None"
        )
    return ACTIVATIONS[name]


# ---- fused neurons -----------------------------------------------------------------------

_ONLY_VALUES = {Value}


class _SplitInputs:
    """A dot product's inputs, split once and shared by every neuron of a layer."""

    __slots__ = ("inputs", "data", "values", "positions", "leaf_parameters", "searched")

    def __init__(self, inputs: tuple, data: list[float], values: tuple, positions: Any) -> None:
        self.inputs = inputs  # as given: Values and plain numbers
        self.data = data  # their numbers
        self.values = values  # the inputs that are Values: parents of the neurons' nodes
        self.positions: list[int] | None = positions  # where those are; None: every input
        # whether every weight and bias of the neurons on these inputs is a leaf (an
        # nn parameter): then backward()'s search need not look at them
        self.leaf_parameters = False
        self.searched: object = None  # the last search that pushed these inputs


def _split_inputs(inputs: Sequence[Operand]) -> _SplitInputs:
    """Split inputs once: a layer shares the result among its neurons, which halves
    the cost of its forward pass."""
    inputs = tuple(inputs)
    if set(map(type, inputs)) == _ONLY_VALUES:  # the common case, checked in C: 4x faster
        # every input is a Value, as checked, which mypy cannot narrow a tuple by
        return _SplitInputs(inputs, [x.data for x in inputs], inputs, None)  # type: ignore[union-attr]
    positions = [i for i, x in enumerate(inputs) if isinstance(x, Value)]
    data = [x.data if isinstance(x, Value) else _as_float(x, "Value.dot()") for x in inputs]
    return _SplitInputs(inputs, data, tuple(inputs[i] for i in positions), positions)


class NeuronLike(Protocol):
    """What a fused neuron node is made from: an nn.Neuron, or any object with these."""

    @property
    def w(self) -> Sequence[Value]: ...  # its weights

    @property
    def b(self) -> Value | None: ...  # its bias

    @property
    def activation(self) -> str | None: ...  # a name in ACTIVATIONS; None or LINEAR: none

    def fused_parameters(self) -> tuple[tuple[Value, ...], bool]:
        """(its weights then its bias as a tuple, whether each is a leaf): see parameter_tuple."""
        ...


def parameter_tuple(weights: Sequence[Value], bias: Value | None) -> tuple[tuple[Value, ...], bool]:
    """(weights then bias as a tuple, whether all of them are leaves): what a fused
    neuron node keeps of its neuron. nn.Neuron keeps the result while its parameters
    stay the same Values, so that its nodes share one tuple instead of each copying
    it: on the demo step that saves 3,300 tuples, a tenth of the step's time."""
    parameters = tuple(weights) if bias is None else (*weights, bias)
    return parameters, all(p._rule is None for p in parameters)


class _Neuron(NamedTuple):
    w: Sequence[Value]
    b: Value | None
    activation: str | None

    def fused_parameters(self) -> tuple[tuple[Value, ...], bool]:
        return parameter_tuple(self.w, self.b)


def _fused_neurons(split: _SplitInputs, neurons: Iterable[NeuronLike]) -> list[Value]:
    """The node σ(b + Σ w_i x_i) of each neuron, on the same split inputs.

    The forward rules of mul, add and σ, written out (a layer's neurons in one loop,
    read straight from the neurons, cost a third less than a call per neuron); tests
    pin them to those rows, bit for bit.
    """
    data = split.data
    recording = _grad_enabled.get()
    relu_neuron = relu.fused
    sigmas: dict[str | None, Op | None] = {None: None, LINEAR: None, "relu": relu}
    leaf_parameters = True
    outputs: list[Value] = []
    for neuron in neurons:
        bias, name = neuron.b, neuron.activation
        # b + w0*x0 + w1*x1 + ..., added left to right as the elementary chain does
        total = 0.0 if bias is None else bias.data
        for w, x in zip(neuron.w, data):
            total += w.data * x
        sigma = sigmas[name] if name in sigmas else sigmas.setdefault(name, _activation(name))
        rule: Op
        y: float
        slope: float | None
        if sigma is relu:  # relu's rules, written out: d/ds relu(s) = 1 if s > 0, else off
            rule = relu_neuron  # type: ignore[assignment]  # an activation has its fused op
            if total <= 0.0:
                y, slope = 0.0, None
            else:
                y, slope = total, 1.0
        elif sigma is None:
            rule, y, slope = DOT_OP, total, 1.0
        else:
            rule = sigma.fused  # type: ignore[assignment]  # an activation has its fused op
            try:
                y = sigma.forward(total)  # type: ignore[misc]  # an activation has a forward rule
            except (ValueError, ZeroDivisionError, OverflowError):
                y = _forward(sigma, [total], [total])  # raises the error that names the op
            slope = sigma.derivatives[0](total, y)  # d(out)/d(s); None: passes nothing back
        # _node's body, written out: calling it here costs 2.3M more instructions per
        # forward pass of the demo (+5%, callgrind), one call for each of 3,300 neurons
        out = _new_value(Value)
        out.data = y
        out.grad = 0.0
        if recording:
            parameters, leaves = neuron.fused_parameters()
            leaf_parameters = leaf_parameters and leaves
            out._rule = rule
            out._a = parameters
            out._b = split
            out._s = slope
        else:
            out._rule = out._a = out._b = out._s = None
        outputs.append(out)
    split.leaf_parameters = leaf_parameters
    return outputs


def fused_layer(inputs: Sequence[Operand], neurons: Sequence[NeuronLike]) -> list[Value]:
    """A layer's forward pass: one fused node σ(b + Σ w·x) per neuron, on the same inputs.

    Each neuron has weights `w`, a bias `b` (or None) and an `activation` name, as
    nn.Neuron does. The inputs are split into Values and numbers once, and shared.
    """
    return _fused_neurons(_split_inputs(inputs), neurons)


def op_row(node: Value) -> Op | None:
    """The row of the op that made node (None for a leaf). A node built by hand has a
    row of its own, outside OPS, whose kind is BY_HAND."""
    return node._rule


def sum_terms(node: Value) -> tuple[Value | float, ...]:
    """What a node made by Value.sum added up, in order: its start, then each term,
    Values and plain numbers alike (its parents are only the Values)."""
    if node._rule is not SUM_OP:
        raise ValueError(f"sum_terms() needs a node made by Value.sum, got op {node.op!r}")
    return node._b


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
    rule = node._rule
    if rule is None or rule.kind != FUSED or node._a is None:
        return None
    split: _SplitInputs = node._b
    parameters = node._a  # the weights, then the bias
    n = len(split.data)
    return FusedParts(
        parameters[:n],
        tuple(x if isinstance(x, Value) else float(x) for x in split.inputs),
        parameters[n] if len(parameters) > n else None,
        None if rule is DOT_OP else rule.name[len("dot-") :],
    )


# ---- the graph, in order --------------------------------------------------------------------


def _depth_first(roots: Sequence[Value], leaves: bool, reset_grads: bool = False) -> list[Value]:
    """The nodes the roots depend on, each after all of its parents: the one graph search.

    An iterative depth-first search (no recursion limit) that finishes each node's
    parents in operand order. With leaves=False it skips leaves (they pass nothing
    on, so a backward sweep needs none of them); with reset_grads every node it
    visits gets grad 0.0, so interior gradients never carry over between backward()
    calls (it saves backward() a second pass).
    """
    finished: list[Value] = []
    visited: set[Value] = set()
    search = object()  # marks the split inputs this search has pushed (and refers to nothing)
    stack: list[Any] = [r for r in reversed(roots) if leaves or r._a is not None]
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
        if a is None:  # a leaf
            continue
        b = node._b
        if type(a) is tuple:  # many operands; reversed, so that the first is finished first
            if type(b) is _SplitInputs:  # a fused neuron: parents (*weights, *inputs, bias)
                if leaves or not b.leaf_parameters:  # else all leaves (nn's): nothing to push
                    parameters = reversed(a)
                    if len(a) > len(b.data):  # the bias, last
                        bias = next(parameters)
                        if (bias._rule is not None or leaves) and bias not in visited:
                            stack.append(bias)
                    if b.searched is not search:
                        b.searched = search
                        for x in reversed(b.values):
                            if (x._rule is not None or leaves) and x not in visited:
                                stack.append(x)
                    for w in parameters:
                        if (w._rule is not None or leaves) and w not in visited:
                            stack.append(w)
                # The inputs are shared by a layer's neurons: the first expanded pushes them,
                # and the search has finished them before it reaches the next (all were made
                # in one call), so the others need not look at them (marked with `search`).
                elif b.searched is not search:
                    b.searched = search
                    for x in reversed(b.values):
                        if x._rule is not None and x not in visited:
                            stack.append(x)
                continue
            for parent in reversed(a):
                if (parent._rule is not None or leaves) and parent not in visited:
                    stack.append(parent)
            continue
        # one or two operands, each a Value or a constant (always a float); the second
        # is pushed first, so that the first is finished first
        if (
            b is not None
            and type(b) is not float
            and (b._rule is not None or leaves)
            and b not in visited
        ):
            stack.append(b)
        if type(a) is not float and (a._rule is not None or leaves) and a not in visited:
            stack.append(a)
    return finished


_FINISH = object()  # the stack marker of the search above: "the node below is done"


def topological_order(root: Value) -> list[Value]:
    """Every node root depends on, leaves included, each after all of its parents.

    This is an order in which the forward pass could have computed them, ending
    with root. Iterative, so any depth works; deterministic for a given graph.
    backward() sweeps its interior nodes in reverse.
    """
    return _depth_first([root], leaves=True)


def _sweep_order(roots: Sequence[Value], reset_grads: bool = False) -> list[Value]:
    """The interior nodes the roots depend on in reverse topological order, roots first:
    the order of a backward sweep (a node's gradient is complete before it is passed on)."""
    order = _depth_first(roots, leaves=False, reset_grads=reset_grads)
    order.reverse()
    return order


# ---- the chain rule at one node -----------------------------------------------------------


def _local_derivatives(node: Value, as_values: bool) -> tuple[Sequence[Any], list[Any], Any]:
    """(parents, d(s)/d(parent) for each, slope = d(node)/d(s)) for an interior node.

    s is the node's weighted sum for a fused neuron, and the node itself for any
    other op (slope 1). A local derivative of None, or a slope of None, passes
    nothing back (a relu that is off). The derivatives come from the op's rules,
    applied to the operands' numbers, or with as_values to the operands themselves
    (Values), so that they have graphs of their own.
    """
    rule: Op = node._rule  # type: ignore[assignment]  # interior: it has a rule
    kind = rule.kind
    if kind == SUM:
        return node._a, [1.0] * len(node._a), 1.0  # d(sum)/d(v_i) = 1
    if kind == FUSED:
        return _fused_local_derivatives(node, as_values)
    operands = node.operands
    args = operands if as_values else [x.data if isinstance(x, Value) else x for x in operands]
    out: Any = node if as_values else node.data
    parents: list[Value] = []
    local_grads: list[Any] = []
    for i, x in enumerate(operands):
        if isinstance(x, Value):
            parents.append(x)
            if as_values:
                local_grads.append(_derivative_on_values(rule, i, args, out))
            else:
                local_grads.append(rule.derivatives[i](*args, out))
    return parents, local_grads, 1.0


def _fused_local_derivatives(node: Value, as_values: bool) -> tuple[Sequence[Any], list[Any], Any]:
    """_local_derivatives of a fused neuron σ(s), s = b + Σ w·x."""
    parts = fused_parts(node)
    assert parts is not None  # node is a fused neuron
    slope = node._s
    if slope is not None and as_values and parts.activation is not None:
        s = Value.dot(parts.weights, parts.inputs, parts.bias)  # the weighted sum, as a Value
        slope = _derivative_on_values(ACTIVATIONS[parts.activation], 0, (s,), node)
    # d(s)/dw_i = x_i, d(s)/dx_i = w_i, d(s)/dbias = 1, in the order of the parents
    inputs: tuple[Any, ...] = parts.inputs
    weights: tuple[Any, ...] = parts.weights
    if not as_values:
        inputs = tuple(x.data if isinstance(x, Value) else x for x in inputs)
        weights = tuple(w.data for w in weights)
    is_value = [isinstance(x, Value) for x in parts.inputs]
    local_grads = [*inputs, *(w for w, value in zip(weights, is_value) if value)]
    if parts.bias is not None:
        local_grads.append(1.0)
    return node.parents, local_grads, slope


def _derivative_on_values(rule: Op, i: int, operands: Sequence[Any], out: Value) -> Any:
    """rule's derivative with respect to operand i, applied to Values (or a clear error)."""
    try:
        return rule.derivatives[i](*operands, out)
    except (TypeError, AttributeError) as error:
        raise TypeError(
            f"the derivative rule of {rule.name!r} cannot be applied to Values ({error}); "
            "to differentiate it twice, write it with arithmetic and ops that work on "
            "Values and floats alike (micrograd.engine's exp, log, tanh, ...)"
        ) from error


def _chain_rule(node: Value, g: Any, create_graph: bool = False) -> list[tuple[Value, Any, Any]]:
    """What node passes back to each parent when its gradient is g: the chain rule's step.

    Returns (parent, local derivative d(node)/d(parent), contribution) for each
    parent that receives something; the contribution is what is added to the
    parent's gradient. Every sweep uses this: backward() (which writes the
    commonest cases out), grad(), backward(create_graph=True), backward_steps and
    `_backward`. With create_graph, g is a Value and so are the contributions.

    A node whose gradient is 0 passes nothing back: what only it connects to the
    root (the whole example behind a hinge that is off, say) costs the sweep nothing,
    and 0 * an infinite local derivative is not NaN. (Not with create_graph: a
    gradient that is 0 here can still have a derivative.)
    """
    rule = node._rule
    if rule is None or node._a is None:
        return []
    if rule.kind == BY_HAND:
        if rule.closure is None:  # no _backward given yet: it passes nothing back
            return []
        if create_graph:
            raise TypeError(
                f"cannot differentiate the op {rule.name!r} twice: it was written by hand "
                "with a _backward closure, which computes numbers; register it with "
                "micrograd.op(...) so that its derivative rules can be applied to Values"
            )
        return _observe(node, g, rule.closure)
    if not create_graph and g == 0.0:  # nothing reached it: it passes nothing back
        return []
    parents, local_grads, slope = _local_derivatives(node, as_values=create_graph)
    if slope is None:
        return []
    unit_slope = type(slope) is float and slope == 1.0
    if not unit_slope:
        g = g * slope  # first, as the elementary graph's activation node does
    return [
        (parent, local if unit_slope else local * slope, local * g)
        for parent, local in zip(parents, local_grads)
        if local is not None
    ]


def _observe(node: Value, g: float, closure: Callable[[], None]) -> list[tuple[Value, Any, Any]]:
    """What a hand-written `_backward` closure adds to each parent, seen by running it.

    Runs it with node.grad = 1 (the local derivatives) and with node.grad = g (the
    contributions), each time on parents' grads set to 0, then puts every grad back.
    """
    parents = list(dict.fromkeys(node.parents))  # each once, in order
    saved = [node.grad, *(p.grad for p in parents)]

    def run(seed: float) -> list[Any]:
        node.grad = seed
        for p in parents:
            p.grad = 0.0
        closure()
        return [p.grad for p in parents]

    try:
        local_grads = run(1.0)
        contributions = run(g)
    finally:
        node.grad = saved[0]
        for p, old in zip(parents, saved[1:]):
            p.grad = old
    return list(zip(parents, local_grads, contributions))


# ---- sweeps: backward with graphs, grad(), and one step at a time ----------------------------


def _accumulate(total: Any, contribution: Any) -> Any:
    """total + contribution, without a node for adding to a gradient that is still 0.

    (backward() computes 0.0 + c there, which turns a -0.0 into 0.0; this keeps -0.0.)
    """
    if type(total) is float and total == 0.0:
        return contribution
    return total + contribution


def _sweep(order: list[Value], grads: dict[Value, Any], create_graph: bool) -> dict[Value, Any]:
    """The backward sweep over `order` (roots first), from and into the dict `grads`.

    A node that nothing reached passes nothing back, as in backward(); with
    create_graph it passes 0 * its local derivatives (see _chain_rule).
    """
    for node in order:
        g = grads.get(node, 0.0)
        for parent, _, contribution in _chain_rule(node, g, create_graph):
            if create_graph:
                grads[parent] = _accumulate(grads.get(parent, 0.0), contribution)
            else:  # backward()'s arithmetic exactly, so the floats are the same
                grads[parent] = grads.get(parent, 0.0) + contribution
    return grads


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


def grad(
    outputs: Value | Sequence[Value],
    inputs: Value | Sequence[Value],
    grad_outputs: Sequence[Operand] | None = None,
    create_graph: bool = False,
    allow_unused: bool = True,
) -> list[Any]:
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
        grads: dict[Value, Any] = {}
        for out, seed in zip(outputs, grad_outputs):
            if not isinstance(seed, Value):
                seed = _as_float(seed, "grad() grad_outputs")
                seed = Value(seed) if create_graph else seed
            elif not create_graph:
                seed = seed.data
            if isinstance(out, Value):
                grads[out] = _accumulate(grads.get(out, 0.0), seed)
        order = _sweep_order(roots)
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
    updates: tuple[ParentUpdate, ...]  # one per parent that receives something, in order


def forward_steps(root: Value) -> Iterator[ForwardStep]:
    """The forward pass in the order it could have run: leaves first, root last."""
    _check_root(root, "forward_steps()")
    order = topological_order(root)
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
    order = _sweep_order([root], reset_grads=True)  # as backward()
    if not order:  # root is a leaf: d(root)/d(root) = 1
        root.grad += 1.0
        return iter(())
    root.grad = 1.0
    return _recorded_sweep(order)


def _recorded_sweep(order: list[Value]) -> Iterator[BackwardStep]:
    """backward()'s loop, with a record of each step.

    A node that passes nothing back (a relu that is off) has a step with no updates.
    """
    for i, node in enumerate(order):
        g = node.grad
        updates = []
        for parent, local, contribution in _chain_rule(node, g):
            parent.grad += contribution
            updates.append(ParentUpdate(parent, local, contribution, parent.grad))
        yield BackwardStep(i, node, g, tuple(updates))


def _check_root(root: object, caller: str) -> None:
    if not isinstance(root, Value):
        hint = "; pass one of them, or Value.sum(outputs)" if isinstance(root, list) else ""
        raise TypeError(f"{caller} expected a Value, got {type(root).__name__}{hint}")
