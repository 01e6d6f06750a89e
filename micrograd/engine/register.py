"""Read when you add an op of your own: `op()` makes a row and puts it into the table.

    @op(derivative=lambda x, out: sigmoid(x))  # d/dx softplus(x) = sigmoid(x)
    def softplus(x):
        return math.log1p(math.exp(x))

The built-in rows of ops.py are registered the same way, so a learner's op is a
Value method, a neuron's activation, drawn, stepped through, compiled and
differentiated twice exactly like tanh. Every check runs before anything changes:
a registration that fails (a notebook cell re-run with a mistake) leaves the table
as it was.
"""

from __future__ import annotations

import keyword
import string
import threading
import unicodedata
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

from micrograd.engine.fused import DOT_OP, SUM_OP, fused_row
from micrograd.engine.op import Derivative, Op, unregistered
from micrograd.engine.value import (
    ACTIVATIONS,
    LINEAR,
    OPS,
    Operand,
    Value,
    add,
    apply,
    chain_rule,
    local_derivatives,
    mul,
)

__all__ = ["op", "register", "seal_built_ins"]

# The names of the built-in ops and of Value's own attributes, once the built-in rows
# are registered (seal_built_ins): a user's op cannot take one.
_BUILT_IN: frozenset[str] = frozenset()
_VALUE_ATTRIBUTES: frozenset[str] = frozenset()
# One registration at a time, so that two threads never see a half-made row.
_LOCK = threading.Lock()


def op(
    *,
    derivative: Derivative | None = None,
    derivatives: Sequence[Derivative] | None = None,
    name: str | None = None,
    symbol: str | None = None,
    formula: str | None = None,
    commutative: bool = False,
    spelling: str | Callable[..., str] | None = None,
    operator: str | None = None,
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
    if operator is not None and _BUILT_IN:
        raise ValueError(
            f"op() operator={operator!r} is for micrograd's own rows (x - y, x ** 2); "
            "a user's op is a method named for it (x.softplus())"
        )
    for option, text in (("symbol", symbol), ("formula", formula)):
        if text is not None and not isinstance(text, str):
            raise TypeError(f"op() {option} must be a str, got {type(text).__name__} {text!r}")

    def register_forward(forward: Callable[..., float]) -> Op:
        if not callable(forward):
            raise TypeError(f"op() decorates the forward rule, a function; got {forward!r}")
        op_name = getattr(forward, "__name__", None) if name is None else name
        if not isinstance(op_name, str):
            raise TypeError(
                f"op() needs name= for a forward rule without a __name__, got {forward!r}"
            )
        row = Op(
            op_name,
            forward,
            rules,
            symbol=symbol,
            formula=formula,
            commutative=commutative,
            spelling=spelling,
            operator=operator,
            activation=activation,
            title=title,
            torch=torch,
            doc=getattr(forward, "__doc__", None),
        )
        register(row)
        return row

    return register_forward


def register(row: Op) -> None:
    """Check `row`, then put it into OPS (an activation's fused row too, and into
    ACTIVATIONS) and make it a Value method. Nothing changes unless every check passes."""
    if row.formula is not None:
        _check_formula(row.name, row.formula, row.arity)
    if row.activation and row.arity != 1:
        raise ValueError(f"an activation takes one operand; {row.name!r} takes {row.arity}")
    if _BUILT_IN:  # after seal_built_ins(), every row registered is a user's
        _check_user_op_name(row.name, row.activation)
        _check_user_rules(row)
    if row.forward is not None:  # an op of one or two operands: value.py's ways, or its own
        if row.apply is unregistered:
            row.apply = apply
        if row.step is unregistered:
            row.step = chain_rule
        if row.local_derivatives is unregistered:
            row.local_derivatives = local_derivatives
    fused = fused_row(row) if row.activation else None
    methods = _methods(row)
    with _LOCK:
        previous = OPS.get(row.name)
        row.fused = fused
        # each entry replaced in one assignment: a reader never finds the name missing
        if fused is not None:
            OPS[fused.name] = fused
            ACTIVATIONS[row.name] = row
        elif row.name in ACTIVATIONS:
            del ACTIVATIONS[row.name]
        OPS[row.name] = row
        if previous is not None and previous.fused is not None and fused is None:
            del OPS[previous.fused.name]  # an activation replaced by a plain op
        for attribute, method in methods.items():
            setattr(Value, attribute, method)


def seal_built_ins() -> None:
    """From here on, `op` registers a user's op: the names taken so far are reserved."""
    global _BUILT_IN, _VALUE_ATTRIBUTES
    _BUILT_IN = frozenset(OPS)
    _VALUE_ATTRIBUTES = frozenset(dir(Value))


def _methods(row: Op) -> dict[str, Callable[..., Any]]:
    """The Value methods of a row: `x.tanh()`, or for an operator `x - y` and `2 - x`."""

    def method(self: Value, *others: Operand) -> Value:
        return apply(row, (self, *others))

    def reflected(self: Value, other: Operand) -> Value:
        return apply(row, (other, self))

    if row.forward is None:
        return {}  # an op of many operands: fused.py writes its method (Value.sum, Value.dot)
    if row.operator is None:
        if not row.name.isidentifier():
            return {}  # an operator written out in Value's own class (+ and *)
        method.__name__ = method.__qualname__ = row.name
        method.__doc__ = row.doc
        return {row.name: method}
    method.__name__ = method.__qualname__ = f"__{row.operator}__"
    method.__doc__ = reflected.__doc__ = row.doc
    if row.arity == 1:
        return {method.__name__: method}
    reflected.__name__ = reflected.__qualname__ = f"__r{row.operator}__"
    return {method.__name__: method, reflected.__name__: reflected}


def _check_user_op_name(name: str, activation: bool) -> None:
    """A ValueError unless `name` can be a user's op: a method name of its own."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(
            f"an op's name must be a Python identifier that is not a keyword, got {name!r}"
        )
    if name.startswith("_"):  # __del__, __bool__, _a, ... would change every Value
        raise ValueError(
            f"an op's name may not start with an underscore (Python's special methods "
            f"and micrograd's own fields do), got {name!r}"
        )
    normal = unicodedata.normalize("NFKC", name)
    if normal != name:  # Python reads ｔａｎｈ as tanh: the method would be another's
        raise ValueError(f"Python reads the op name {name!r} as {normal!r}; name it {normal!r}")
    if name in _BUILT_IN or (name in _VALUE_ATTRIBUTES and name not in OPS):
        raise ValueError(f"{name!r} is already a name of micrograd's Value; choose another")
    if activation and name == LINEAR:
        raise ValueError(
            f"{LINEAR!r} is the name of no activation (a linear neuron); choose another"
        )


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


def _check_user_rules(row: Op) -> None:
    """Wrap a user's rules so that what they give is what the engine stores: a forward
    result as a float (an int becomes one; a str, None or complex is a TypeError), and a
    local derivative as a real number or None; a rule that raises or gives anything else
    fails with an error that names the op and where. Registering a row again wraps
    nothing twice."""
    forward = row.forward
    if forward is not None and not hasattr(forward, "__micrograd_rule__"):
        row.forward = _checked_forward(row.name, forward)
    row.derivatives = tuple(
        rule if hasattr(rule, "__micrograd_rule__") else _checked_derivative(row.name, i, rule)
        for i, rule in enumerate(row.derivatives)
    )


def _checked_forward(name: str, forward: Callable[..., Any]) -> Callable[..., float]:
    def checked(*xs: float) -> float:
        y = forward(*xs)
        if type(y) is float:
            return y
        if isinstance(y, Real):  # an int, a Fraction, a numpy float...
            return float(y)
        raise TypeError(
            f"the forward rule of op {name!r} must return a real number, "
            f"got {type(y).__name__} {y!r}"
        )

    return _as_rule(checked, forward)


def _checked_derivative(name: str, i: int, rule: Derivative) -> Derivative:
    def where(args: Sequence[Any]) -> str:
        at = ", ".join(map(repr, args[:-1]))  # the operands; the last argument is out
        return f"the derivative rule of op {name!r} for operand {i}, at ({at}),"

    def checked(*args: Any) -> Any:
        if any(isinstance(x, Value) for x in args):  # on Values (create_graph): as written
            return rule(*args)
        try:
            d = rule(*args)
        except Exception as error:  # any mistake in a user's rule, named
            kind = type(error) if isinstance(error, (ValueError, ArithmeticError)) else TypeError
            raise kind(f"{where(args)} raised {type(error).__name__}: {error}") from error
        if d is not None and not isinstance(d, Real):  # None: passes nothing back
            raise TypeError(
                f"{where(args)} must give a real number or None, got {type(d).__name__} {d!r}"
            )
        return d

    return _as_rule(checked, rule)


def _as_rule(checked: Callable[..., Any], rule: Callable[..., Any]) -> Callable[..., Any]:
    """`checked`, named as the user's `rule` it wraps, and marked as checked."""
    checked.__name__ = getattr(rule, "__name__", "rule")
    checked.__wrapped__ = rule  # type: ignore[attr-defined]
    checked.__micrograd_rule__ = True  # type: ignore[attr-defined]
    return checked


for _row in (add, mul, SUM_OP, DOT_OP):  # the built-in rows written outside ops.py
    register(_row)
