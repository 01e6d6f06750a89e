"""Read third: the op table's other rows, each forward rule with its local derivatives beside it.

Each row is registered with `op()` (register.py), as your own op would be, which
makes it a Value method (`x - y`, `x ** 2`, `x.tanh()`) and, for relu, tanh and
sigmoid, an activation a neuron can use. The math of each derivative is in a
comment in its rule; + and * are in value.py, Value.sum and fused neurons in fused.py.
"""

from __future__ import annotations

import math
from typing import Any

from micrograd.engine.register import op, seal_built_ins
from micrograd.engine.value import Value, _node

__all__ = [
    "sub",
    "div",
    "pow_",
    "neg",
    "abs_",
    "relu",
    "tanh",
    "sigmoid",
    "exp",
    "log",
    "sqrt",
    "logaddexp",
]


@op(name="-", operator="sub", derivatives=(lambda a, b, out: 1.0, lambda a, b, out: -1.0))
def sub(a: float, b: float) -> float:
    """a - b."""
    # d(a-b)/da = 1, d(a-b)/db = -1
    return a - b


@op(
    name="/",
    operator="truediv",
    derivatives=(lambda a, b, out: 1.0 / b, lambda a, b, out: -out / b),
)
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


def _number_text(x: float) -> str:
    """A plain number as a formula writes it: 2.0 as "2", 0.5 as "0.5"."""
    return f"{x + 0.0:.6g}"


def _pow_spelling(a: Value | float, b: Value | float) -> str:
    return "**" if isinstance(b, Value) else f"**{_number_text(b)}"  # micrograd's x**2: "**2"


@op(
    name="**",
    operator="pow",
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


@op(name="neg", operator="neg", derivative=lambda x, out: -1.0, formula="-{0}")
def neg(x: float) -> float:
    """-x."""
    # d(-x)/dx = -1
    return -x


def _sign(x: float) -> float:
    return 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0 if x == 0.0 else math.nan


@op(name="abs", operator="abs", derivative=lambda x, out: _sign(float(x)), formula="|{0}|")
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


def _relu_written_out(self: Value) -> Value:
    """max(0, x)."""
    x = self.data  # relu's row, written out: the hinge of every example in the demo
    return _node(0.0 if x <= 0.0 else x, relu, self, None)


# 2x faster than relu's generic method (test_op_table pins it to the row, bit for bit)
Value.relu = _relu_written_out  # type: ignore[method-assign]

seal_built_ins()  # the built-in rows end here: from now on, op() registers a user's op
