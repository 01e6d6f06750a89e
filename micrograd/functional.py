"""Derivatives of functions (in the spirit of HIPS/autograd), and gradcheck.

`micrograd.grad` (that is, `micrograd.engine.grad`) differentiates a graph that is
already built: some output Values with respect to some input Values. The helpers
here differentiate a *function* instead. `derivative(f)` is a new function that, at
any point, computes the derivative of f there:

    def f(x, y):
        return x * x * y + 3 * x * y * y

    derivative(f)(1.0, 2.0)                  # df/dx = 2xy + 3y² = 16.0
    derivative(f, argnum=(0, 1))(1.0, 2.0)   # (df/dx, df/dy) = (16.0, 13.0)
    value_and_grad(f)(1.0, 2.0)              # (14.0, 16.0)
    hessian(f)(1.0, 2.0)                     # [[4.0, 14.0], [14.0, 6.0]]

f is a function of a few scalars that returns a Value. Each argument it is
differentiated with respect to is passed to it as a fresh leaf Value, so f may use
Value methods (`x.tanh()`) as well as operators; the other arguments are passed
as given. The results are plain floats, not Values: they are numbers to read,
print or compare. So `derivative(derivative(f))` does not work here; for second derivatives
use `hessian(f)`, or `micrograd.grad(..., create_graph=True)` on Values.

The helpers record the graph even inside `no_grad()`: differentiating f is what
was asked for (as `torch.func.grad` does).

`gradcheck(f, inputs)` tests a derivative rule: it compares the gradient that
backpropagation computes with central differences of f, and raises a
`GradcheckError` that names the input when they disagree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from numbers import Real
from typing import Any, Callable, Union

from micrograd import engine
from micrograd.engine import Value, enable_grad, no_grad

__all__ = ["derivative", "value_and_grad", "hessian", "gradcheck", "GradcheckError"]

Argnum = Union[int, Sequence[int]]


def _check_callable(f: object, caller: str) -> None:
    if not callable(f):
        raise TypeError(f"{caller} f must be a function, got {type(f).__name__} {f!r}")


def _check_argnums(argnum: object, caller: str) -> tuple[int, ...]:
    """argnum (an int, or a non-empty sequence of distinct ints) as a tuple, or an error."""
    argnums = (argnum,) if isinstance(argnum, int) else argnum
    if isinstance(argnums, (str, bytes)) or not isinstance(argnums, Sequence):
        raise TypeError(
            f"{caller} argnum must be an int or a tuple of ints, "
            f"got {type(argnum).__name__} {argnum!r}"
        )
    if not argnums:
        raise ValueError(f"{caller} argnum must name at least one argument, got {argnum!r}")
    for n in argnums:
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"{caller} argnum must hold ints, got {type(n).__name__} {n!r}")
        if n < 0:
            raise ValueError(f"{caller} argnum must be >= 0, got {n}")
    if len(set(argnums)) != len(argnums):
        raise ValueError(f"{caller} argnum must not repeat an argument, got {argnum!r}")
    return tuple(argnums)


def _as_point(x: object, what: str) -> float:
    """A coordinate of the point to differentiate at, as a float, or a TypeError."""
    if isinstance(x, Value):
        raise TypeError(
            f"{what} must be a number, got a Value; pass its .data "
            "(these helpers return floats, so they do not nest)"
        )
    if not isinstance(x, Real):
        raise TypeError(f"{what} must be a real number, got {type(x).__name__} {x!r}")
    return float(x)


def _check_output(out: object, caller: str) -> Value:
    if not isinstance(out, Value):
        raise TypeError(
            f"{caller} f must return a Value, got {type(out).__name__} {out!r}; "
            "build the result from the Values f is given"
        )
    return out


def _evaluate(
    f: Callable[..., Value], args: tuple, kwargs: dict, argnums: Sequence[int], caller: str
) -> tuple[Value, list[Value]]:
    """f(*args, **kwargs) with the arguments at argnums as new leaf Values: (result, leaves)."""
    if max(argnums) >= len(args):
        raise TypeError(
            f"{caller} differentiates with respect to argument {max(argnums)}, "
            f"but was called with {len(args)} argument(s)"
        )
    arguments = list(args)
    leaves = []
    for n in argnums:
        leaf = Value(_as_point(arguments[n], f"{caller} argument {n}"))
        arguments[n] = leaf
        leaves.append(leaf)
    with enable_grad():
        out = f(*arguments, **kwargs)
    return _check_output(out, caller), leaves


def _name(f: Callable) -> str:
    return getattr(f, "__name__", type(f).__name__)


def derivative(f: Callable[..., Value], argnum: Argnum = 0) -> Callable[..., Any]:
    """The function that computes the derivative of f with respect to argument `argnum`.

    `derivative(f)(x, y)` is df/dx at (x, y), a float. With a tuple of argument numbers,
    `derivative(f, argnum=(0, 1))(x, y)` is the tuple (df/dx, df/dy). An argument that
    the result does not depend on has derivative 0.0.
    """
    _check_callable(f, "derivative()")
    value_and_gradient = _value_and_grad(f, argnum, "derivative")

    def gradient(*args: Any, **kwargs: Any) -> Any:
        return value_and_gradient(*args, **kwargs)[1]

    gradient.__name__ = gradient.__qualname__ = f"derivative_of_{_name(f)}"
    gradient.__doc__ = f"The derivative of {_name(f)} with respect to argument(s) {argnum}."
    return gradient


# The name `derivative` had before it was told apart from `micrograd.grad` (which
# differentiates a graph, not a function); notebook 05 and code written then use it.
grad = derivative


def value_and_grad(f: Callable[..., Value], argnum: Argnum = 0) -> Callable[..., tuple[float, Any]]:
    """The function that computes f and its derivative together: (value, derivative).

    Cheaper than calling f and then derivative(f), since f runs once. The derivative is
    a float, or a tuple of floats when `argnum` is a tuple, as for `derivative`.
    """
    _check_callable(f, "value_and_grad()")
    value_and_gradient = _value_and_grad(f, argnum, "value_and_grad")
    value_and_gradient.__name__ = value_and_gradient.__qualname__ = f"value_and_grad_of_{_name(f)}"
    value_and_gradient.__doc__ = (
        f"{_name(f)} and its derivative with respect to argument(s) {argnum}."
    )
    return value_and_gradient


def _value_and_grad(f: Callable[..., Value], argnum: Argnum, helper: str) -> Callable[..., tuple]:
    """What value_and_grad(f, argnum) returns; `helper` names the caller in errors."""
    argnums = _check_argnums(argnum, f"{helper}()")
    caller = f"{helper}({_name(f)}):"  # errors while computing a derivative

    def value_and_gradient(*args: Any, **kwargs: Any) -> tuple[float, Any]:
        out, leaves = _evaluate(f, args, kwargs, argnums, caller)
        gradients = tuple(float(g) for g in engine.grad(out, leaves))
        return out.data, gradients[0] if isinstance(argnum, int) else gradients

    return value_and_gradient


def hessian(f: Callable[..., Value], argnum: Argnum | None = None) -> Callable[..., Any]:
    """The function that computes the matrix of second derivatives of f.

    `hessian(f)(x, y)` is [[d²f/dx², d²f/dxdy], [d²f/dydx, d²f/dy²]], a list of
    rows of floats, over every argument (or over those in the tuple `argnum`).
    With an int `argnum` it is the single second derivative, a float.

    It differentiates twice by backpropagation: once with create_graph=True, so
    that each first derivative is a Value with a graph of its own, then each of
    those again. Row i is the gradient of df/d(argument i); the matrix is
    symmetric in exact arithmetic, and it is returned as computed.
    """
    _check_callable(f, "hessian()")
    argnums = None if argnum is None else _check_argnums(argnum, "hessian()")
    caller = f"hessian({_name(f)}):"

    def second_derivatives(*args: Any, **kwargs: Any) -> Any:
        at = tuple(range(len(args))) if argnums is None else argnums
        if not at:
            raise TypeError(f"{caller} needs at least one argument, got none")
        out, leaves = _evaluate(f, args, kwargs, at, caller)
        rows = _hessian_rows(out, leaves)
        return rows[0][0] if isinstance(argnum, int) else rows

    second_derivatives.__name__ = second_derivatives.__qualname__ = f"hessian_of_{_name(f)}"
    second_derivatives.__doc__ = f"The second derivatives of {_name(f)}."
    return second_derivatives


def _hessian_rows(out: Value, leaves: list[Value]) -> list[list[float]]:
    """d²out / d(leaf i) d(leaf j) as rows of floats, by differentiating twice."""
    return _gradients_of(engine.grad(out, leaves, create_graph=True), leaves)


def _gradients_of(first: list[Value | float], leaves: list[Value]) -> list[list[float]]:
    """Row i: the gradient of first[i] (a derivative made with create_graph=True)."""
    rows = []
    for g in first:
        if isinstance(g, Value):
            rows.append([float(h) for h in engine.grad(g, leaves)])
        else:  # 0.0: the output does not depend on that leaf at all
            rows.append([0.0] * len(leaves))
    return rows


# ---- gradcheck ---------------------------------------------------------------------


class GradcheckError(AssertionError):
    """An analytic derivative disagrees with its finite-difference estimate.

    An AssertionError, so that a failed check inside a test reads as a failed test.
    """


def gradcheck(
    f: Callable[..., Value],
    inputs: Real | Iterable[Real],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    order: int = 1,
) -> bool:
    """Check f's derivatives from backpropagation against central differences.

    f takes one argument per input (it is called with Values) and returns a Value;
    `inputs` is the point to check at, a number or a sequence of numbers. For each
    input i the analytic df/dx_i is compared with (f(x + h) - f(x - h)) / 2h, where
    h = eps * max(1, |x_i|) so that large inputs are perturbed relative to their size.
    With order=2 the second derivatives are checked too: the analytic Hessian
    (by differentiating twice) against central differences of the analytic gradient.

    A derivative passes when |analytic - numerical| <= atol + rtol * |numerical|
    (equal infinities pass; NaN never does). Returns True when all pass; on the
    first that does not, raises GradcheckError naming the input(s), both numbers
    and their difference. Leaves every `.grad` untouched.
    """
    _check_callable(f, "gradcheck()")
    point = _check_inputs(inputs)
    eps = _check_tolerance(eps, "eps", positive=True)
    atol = _check_tolerance(atol, "atol")
    rtol = _check_tolerance(rtol, "rtol")
    if isinstance(order, bool) or order not in (1, 2):
        raise ValueError(f"gradcheck() order must be 1 or 2, got {order!r}")

    def value(at: list[float]) -> list[float]:
        with no_grad():
            return [_check_output(f(*[Value(x) for x in at]), "gradcheck()").data]

    def gradient(at: list[float]) -> list[float]:
        leaves = [Value(x) for x in at]
        with enable_grad():
            out = _check_output(f(*leaves), "gradcheck()")
        return [float(g) for g in engine.grad(out, leaves)]

    at = f"at inputs {point}"
    analytic = gradient(point)
    numerical = _central_differences(value, point, eps)
    for i, a in enumerate(analytic):
        _compare(a, numerical[i][0], atol, rtol, f"df/d(inputs[{i}]) {at}")
    if order == 2:
        leaves = [Value(x) for x in point]
        with enable_grad():
            out = _check_output(f(*leaves), "gradcheck()")
        # The gradient as Values, with graphs of their own: first, the same numbers...
        first = engine.grad(out, leaves, create_graph=True)
        for i, (g, a) in enumerate(zip(first, analytic)):
            what = f"df/d(inputs[{i}]) {at}"
            _compare(float(g), a, atol, rtol, what, ("with create_graph=True", "without"))
        # ...then d²f/dx_i dx_j: those differentiated again, and by differences
        analytic_rows = _gradients_of(first, leaves)
        numerical = _central_differences(gradient, point, eps)
        for i, row in enumerate(analytic_rows):
            for j, a in enumerate(row):
                what = f"d²f/d(inputs[{i}])d(inputs[{j}]) {at}"
                _compare(a, numerical[j][i], atol, rtol, what)
    return True


def _check_inputs(inputs: object) -> list[float]:
    """gradcheck's point as a non-empty list of finite floats, or an error naming the input."""
    if isinstance(inputs, (Real, Value)):
        inputs = [inputs]
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Iterable):
        raise TypeError(
            f"gradcheck() inputs must be a number or a sequence of numbers, "
            f"got {type(inputs).__name__} {inputs!r}"
        )
    inputs = list(inputs)
    if not inputs:
        raise ValueError("gradcheck() inputs must hold at least one number, got none")
    point = [_as_point(x, f"gradcheck() inputs[{i}]") for i, x in enumerate(inputs)]
    for i, x in enumerate(point):
        if not math.isfinite(x):
            raise ValueError(f"gradcheck() inputs[{i}] must be finite, got {x!r}")
    return point


def _check_tolerance(x: object, name: str, positive: bool = False) -> float:
    """eps (> 0), atol or rtol (>= 0) as a finite float, or an error naming it."""
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(f"gradcheck() {name} must be a number, got {type(x).__name__} {x!r}")
    x = float(x)
    if not math.isfinite(x) or x < 0.0 or (positive and x == 0.0):
        raise ValueError(
            f"gradcheck() {name} must be a finite number {'> 0' if positive else '>= 0'}, got {x!r}"
        )
    return x


def _central_differences(
    func: Callable[[list[float]], list[float]], point: list[float], eps: float
) -> list[list[float]]:
    """Row j: d func(x)[k] / d x_j for each k, by (func(x + h) - func(x - h)) / 2h."""
    rows = []
    for j, x in enumerate(point):
        h = eps * max(1.0, abs(x))
        up, down = list(point), list(point)
        up[j], down[j] = x + h, x - h
        step = up[j] - down[j]  # the step actually taken: x + h and x - h are rounded
        rows.append([(u - d) / step for u, d in zip(func(up), func(down))])
    return rows


def _compare(
    analytic: float,
    reference: float,
    atol: float,
    rtol: float,
    what: str,
    names: tuple[str, str] = ("analytic", "numerical"),
) -> None:
    """Raise GradcheckError unless analytic is within atol + rtol * |reference| of reference.

    `names` says what the two numbers are, for the message.
    """
    if analytic == reference:  # also equal infinities, whose difference is NaN
        return
    difference = analytic - reference
    tolerance = atol + rtol * abs(reference)
    if abs(difference) <= tolerance:  # False for NaN
        return
    mine, theirs = names
    raise GradcheckError(
        f"gradcheck failed for {what}: {mine} {analytic!r}, {theirs} {reference!r}, "
        f"difference {difference!r} (allowed {tolerance:.3g} = atol + rtol * |{theirs}|)"
    )
