"""Read this first: what a Value holds, how + and * record the graph, and backward().

A Value is one number in a computation. Every operation on Values makes a new
Value that remembers the op and its operands, so the result knows the graph that
computed it. `backward()` walks that graph once, from the result back to the
leaves (the inputs and parameters) in reverse topological order, and at every
node applies the chain rule: each operand's grad gains
d(result)/d(operand) * result.grad.

This file tells that story for + and *, in reading order: grad mode, the Value,
how a node is recorded, backward() and the chain-rule step it calls at each node,
the order of the sweep; then how any other op makes a node, and the rows of + and *.
micrograd/engine/__init__.py lists the other files in the order to read them.

How a node is stored (six slots keep it small and fast; 144 bytes with its float,
`python benchmarks/run.py memory`, CPython 3.11):

- `data` and `grad`; `_rule`, the row of the op that made it (None for a leaf,
  whose `_a` is None too).
- An op of one or two operands keeps them in written order in `_a` and `_b` (`_b`
  is None for one), each a Value or a plain number (a constant, kept so that
  drawings can show it). Its local derivatives are not stored: the sweep gets them
  from the op's rule, as micrograd's closures do.
- An op of many operands (Value.sum, a fused neuron: fused.py) keeps a tuple in `_a`,
  and what else its row needs in `_b` and `_s` (a fused neuron's slope).
- `label` and any attribute a user adds (`p.m = 0.0`) live in the instance dict,
  made only when one is set.

No node made by an op holds a closure or anything made after it: a graph has no
reference cycles and is freed by reference counting alone.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from numbers import Complex, Real
from typing import TYPE_CHECKING, Any, Union

from micrograd.engine.op import ADD, BY_HAND, MUL, Op
from micrograd.engine.tracing import check_not_tracing

if TYPE_CHECKING:
    from micrograd.engine.gradients import BackwardStep

Number = Union[int, float]
Operand = Union["Value", int, float]

# ---- grad mode: whether operations record the graph --------------------------------------

# A ContextVar keeps no_grad() local to the thread (and asyncio task) that entered it;
# reading it costs about 20 ns.
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


# ---- the Value ------------------------------------------------------------------------------


class Value:
    """A scalar in a computation graph: its number, its gradient, and where it came from.

    `data` is the number (always a float) and `grad` is d(root)/d(self) after
    `root.backward()`. `label` is an optional name shown in reprs, errors and drawings.

    `Value(data, _children, _op)` builds a node by hand, as in micrograd's lecture;
    it passes nothing back until you give it a `_backward` (`out._backward = closure`).
    """

    # Six slots (see the module docstring); __dict__ for `label` and users' attributes.
    __slots__ = ("data", "grad", "_rule", "_a", "_b", "_s", "__dict__", "__weakref__")

    data: float
    grad: Any  # a float; on a leaf, a Value after backward(create_graph=True)
    _rule: Op | None  # the row of the op that made it; None for a leaf
    _a: Any  # its operands: see the module docstring
    _b: Any
    _s: Any
    label: str = ""  # stored in the instance dict only when given

    def __init__(
        self, data: Number, _children: Iterable[Value] = (), _op: str = "", label: str = ""
    ) -> None:
        self.data = as_float(data, "Value()")
        self.grad = 0.0
        if not isinstance(label, str):
            raise TypeError(f"Value() label must be a str, got {type(label).__name__} {label!r}")
        if label:
            self.label = label
        self._rule = self._a = self._b = self._s = None
        if _children or _op:  # a node built by hand, as in the lecture: see lecture.py
            self._build_by_hand(_children, _op)

    # ---- + and *: each makes a new node that records its op and operands ----------------------
    # (A plain number is kept second: (2 * x).operands == (x, 2.0), since c * x == x * c
    # exactly in floats. Tests pin these to their rows below, bit for bit.)

    def __add__(self, other: Operand) -> Value:
        if isinstance(other, Value):
            return _node(self.data + other.data, add, self, other)
        c = as_float(other, "+")
        return _node(self.data + c, add, self, c)

    def __radd__(self, other: Number) -> Value:
        c = as_float(other, "+")
        return _node(c + self.data, add, self, c)

    def __mul__(self, other: Operand) -> Value:
        if isinstance(other, Value):
            return _node(self.data * other.data, mul, self, other)
        c = as_float(other, "*")
        return _node(self.data * c, mul, self, c)

    def __rmul__(self, other: Number) -> Value:
        c = as_float(other, "*")
        return _node(c * self.data, mul, self, c)

    # ---- backward: the chain rule at every node, from the root back ---------------------------

    def backward(self, create_graph: bool = False) -> None:
        """Fill in d(self)/d(node) as `node.grad` for every node self depends on.

        Semantics as PyTorch: leaves (inputs and parameters) accumulate their
        gradient across calls, so call `model.zero_grad()` (or set `.grad = 0.0`)
        between steps; interior nodes are reset on every call and hold the
        gradient of the latest sweep. Iterative: any depth works.

        With create_graph=True the gradients are Values with graphs of their own,
        so they can be differentiated again (`x.grad.backward()` gives d²/dx²):
        see gradients.py.
        """
        if create_graph:  # see gradients.py
            self._backward_creating_graph()
            return
        order = sweep_order([self], reset_grads=True)  # self first, each node before its parents
        if not order:  # self is a leaf: d(self)/d(self) = 1
            self.grad += 1.0
            return
        self.grad = 1.0
        for node in order:  # each node's grad is complete: pass it on to its parents
            # a node whose grad is 0 passes nothing back (but a node built by hand runs its
            # _backward all the same, as micrograd does)
            if node.grad or node._rule.kind == BY_HAND:  # type: ignore[union-attr]
                node._rule.step(node)  # type: ignore[union-attr]  # the chain rule at node

    # ---- the graph around a node ---------------------------------------------------------------

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this one was computed from, in operand order (empty for a leaf)."""
        a = self._a
        if a is None:
            return ()
        if type(a) is tuple:  # an op of many operands: its row knows them
            return self._rule.parents(self)  # type: ignore[union-attr, misc]  # it has a row
        return tuple(x for x in (a, self._b) if isinstance(x, Value))

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

    def is_leaf(self) -> bool:
        """True for an input or parameter: a Value with no parents."""
        return self._a is None

    def detach(self) -> Value:
        """A new leaf with the same data (and label), cut from the graph."""
        return Value(self.data, label=self.label)

    def draw(self, **options: Any) -> Any:
        """A drawing of the graph that ends at self: see micrograd.viz.draw_dot."""
        from micrograd.viz import draw_dot  # graphviz is imported only when drawing

        return draw_dot(self, **options)

    # ---- conversions and comparisons (on data; they record no graph) ----------------------------

    def __float__(self) -> float:
        check_not_tracing("float(a Value)")
        return self.data

    def __lt__(self, other: Operand) -> bool:
        return check_not_tracing("<") or self.data < _compared(other, "<")

    def __le__(self, other: Operand) -> bool:
        return check_not_tracing("<=") or self.data <= _compared(other, "<=")

    def __gt__(self, other: Operand) -> bool:
        return check_not_tracing(">") or self.data > _compared(other, ">")

    def __ge__(self, other: Operand) -> bool:
        return check_not_tracing(">=") or self.data >= _compared(other, ">=")

    # == and hash stay by identity (object's), so Values work as set members and dict keys.

    def __repr__(self) -> str:
        if self.label:
            return f"Value(data={self.data}, grad={self.grad}, label={self.label!r})"
        return f"Value(data={self.data}, grad={self.grad})"

    # ---- the rest of Value's methods come from the files that define them ----------------------
    # Every op's row becomes a method when it is registered (register.py): the rows of
    # ops.py (x - y, x ** 2, x.tanh(), ...) and yours. fused.py adds Value.sum and Value.dot;
    # gradients.py local_grads, backward_steps() and create_graph; lecture.py the
    # lecture's _backward, _op and _prev, and nodes built by hand.
    # Declared here for type checkers.
    if TYPE_CHECKING:

        def __sub__(self, other: Operand) -> Value: ...
        def __rsub__(self, other: Operand) -> Value: ...
        def __truediv__(self, other: Operand) -> Value: ...
        def __rtruediv__(self, other: Operand) -> Value: ...
        def __pow__(self, other: Operand) -> Value: ...
        def __rpow__(self, other: Operand) -> Value: ...
        def __neg__(self) -> Value: ...
        def __abs__(self) -> Value: ...
        def relu(self) -> Value: ...
        def tanh(self) -> Value: ...
        def sigmoid(self) -> Value: ...
        def exp(self) -> Value: ...
        def log(self) -> Value: ...
        def sqrt(self) -> Value: ...
        def logaddexp(self, other: Operand) -> Value: ...
        @staticmethod
        def sum(values: Iterable[Operand], start: Operand = 0.0) -> Value: ...
        @staticmethod
        def dot(
            weights: Sequence[Value],
            inputs: Sequence[Operand],
            bias: Value | None = None,
            activation: str | None = None,
        ) -> Value: ...

        def backward_steps(self) -> Iterator[BackwardStep]: ...
        @property
        def local_grads(self) -> tuple[float, ...]: ...
        def _backward_creating_graph(self) -> None: ...
        def _build_by_hand(self, children: Iterable[Value], op_text: str) -> None: ...

        _backward: Callable[[], None]
        _op: str
        _prev: set[Value]


new_value = object.__new__  # makes a node without running __init__'s checks


def _node(data: float, rule: Op, a: Any, b: Any, s: Any = None) -> Value:
    """A new node: result `data` of the op `rule` on a (and b). It records the op and its
    operands, which is the graph; under no_grad() it records nothing: it is a leaf."""
    out = new_value(Value)
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


# The chain rule at a node of + and of * (test_ops pins each to its row, at the end)


def _add_step(node: Value) -> None:
    # d(a+b)/da = 1, d(a+b)/db = 1: each operand's grad gains the node's grad
    g = node.grad
    if g == 0.0:  # passes nothing back (also when the lecture's loop calls it: _backward)
        return
    node._a.grad += g
    b = node._b
    if type(b) is not float:  # a Value, not a constant
        b.grad += g


def _mul_step(node: Value) -> None:
    # d(a*b)/da = b, d(a*b)/db = a
    g = node.grad
    if g == 0.0:
        return
    a = node._a
    b = node._b
    if type(b) is float:  # a constant
        a.grad += b * g
    else:
        a.grad += b.data * g
        b.grad += a.data * g


# ---- the chain rule at one node --------------------------------------------------------------


def chain_rule(node: Value) -> None:
    """The chain rule at one node: each parent's grad += d(node)/d(parent) * node.grad.

    This is every row's `step` unless it has one written out for speed: + and *
    (below), Value.sum and fused neurons (fused.py). Tests pin each of those to
    this one, bit for bit.
    """
    for parent, _, contribution in contributions(node, node.grad):
        parent.grad += contribution


def contributions(node: Value, g: Any, create_graph: bool = False) -> list[tuple[Value, Any, Any]]:
    """(parent, d(node)/d(parent), the contribution local * g) for each parent that
    node passes something back to when its gradient is g (Values with create_graph).

    A node whose gradient is 0 passes nothing back: what only it connects to the root
    (an example behind a hinge that is off) costs nothing, and 0 * an infinite local
    derivative is not NaN. (Not with create_graph: a 0 can still have a derivative.)
    """
    rule = node._rule
    if rule is None or node._a is None:
        return []
    if rule.contributions is not None:  # a node built by hand runs its closure: lecture.py
        return rule.contributions(node, g, create_graph)
    if not create_graph and g == 0.0:
        return []
    parents, local_grads, slope = rule.local_derivatives(node, create_graph)
    if slope is None:  # nothing passes back (a fused relu that is off)
        return []
    unit_slope = type(slope) is float and slope == 1.0
    if not unit_slope:
        g = g * slope  # first, as the elementary graph's activation node does
    return [
        (parent, local if unit_slope else local * slope, local * g)
        for parent, local in zip(parents, local_grads)
        if local is not None
    ]


def local_derivatives(node: Value, as_values: bool) -> tuple[Sequence[Any], list[Any], Any]:
    """(parents, d(node)/d(parent) for each, slope 1.0) for a node of one or two operands.

    The derivatives come from the op's rules, applied to the operands' numbers, or
    with as_values to the operands themselves (Values), so that they have graphs of
    their own. A derivative of None passes nothing back (a relu that is off).
    """
    rule: Op = node._rule  # type: ignore[assignment]  # interior: it has a rule
    operands = node.operands
    args = operands if as_values else [x.data if isinstance(x, Value) else x for x in operands]
    out: Any = node if as_values else node.data
    parents: list[Value] = []
    local_grads: list[Any] = []
    for i, x in enumerate(operands):
        if isinstance(x, Value):
            parents.append(x)
            local_grads.append(rule.derivatives[i](*args, out))
    return parents, local_grads, 1.0


# ---- the order of the sweep: each node before its parents -----------------------------------


def topological_order(root: Value) -> list[Value]:
    """Every node root depends on, leaves included, each after all of its parents: an
    order in which the forward pass could have computed them, ending with root."""
    return depth_first([root], leaves=True)


def sweep_order(roots: Sequence[Value], reset_grads: bool = False) -> list[Value]:
    """The interior nodes the roots depend on, roots first, each before its parents: the
    order of a backward sweep. With reset_grads each gets grad 0.0 on the way."""
    order = depth_first(roots, leaves=False, reset_grads=reset_grads)
    order.reverse()
    return order


def depth_first(roots: Sequence[Value], leaves: bool, reset_grads: bool = False) -> list[Value]:
    """The nodes the roots depend on, each after all of its parents: the one graph search.

    An iterative depth-first search (no recursion limit) that finishes each node's
    parents in operand order. With leaves=False it skips leaves (they pass nothing
    on, so a backward sweep needs none of them).
    """
    finished: list[Value] = []
    visited: set[Value] = set()
    search = object()  # this search's mark, for rows that share operands among nodes
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
        if type(a) is tuple:  # many operands: the row pushes them (first on top)
            b = node._b
            if not leaves and b.__class__ is not tuple and b is not None and b.leaf_parameters:
                # fused.py's push for a neuron of nn's, written out: its parameters are
                # leaves and its layer's inputs are pushed once (-1.4M instructions of a
                # demo backward's 37M, callgrind); pinned by tests/engine/test_fused.py
                if b.searched is not search:
                    b.searched = search
                    for x in reversed(b.values):
                        if x._a is not None and x not in visited:
                            stack.append(x)
                continue
            node._rule.push_parents(node, stack, visited, leaves, search)
            continue
        # one or two operands, each a Value or a constant (a float); the second is
        # pushed first, so that the first is finished first
        b = node._b
        if (
            b is not None
            and type(b) is not float
            and (leaves or b._a is not None)
            and b not in visited
        ):
            stack.append(b)
        if type(a) is not float and (leaves or a._a is not None) and a not in visited:
            stack.append(a)
    return finished


_FINISH = object()  # the stack marker of the search above: "the node below is done"


# ---- how every other op makes a node ---------------------------------------------------------


def apply(row: Op, operands: Sequence[Operand]) -> Any:
    """row's result on the operands: a new node, which keeps them in written order, when
    one is a Value; a float when all are numbers."""
    if row.forward is None or len(operands) != row.arity:
        raise TypeError(f"{row.name}() takes {row.arity} operand(s), got {len(operands)}")
    what = row.name if row.arity == 2 else f"{row.name}()"
    if not any(isinstance(x, Value) for x in operands):
        return compute(row, operands, [as_float(x, what) for x in operands])
    if row.commutative and not isinstance(operands[0], Value):
        operands = (operands[1], operands[0])  # a plain number second, as in `2 * x`
    xs = [x.data if isinstance(x, Value) else as_float(x, what) for x in operands]
    y = compute(row, operands, xs)
    # each operand a Value, or a constant kept as a float
    a = operands[0] if isinstance(operands[0], Value) else xs[0]
    b = None if row.arity == 1 else operands[1] if isinstance(operands[1], Value) else xs[1]
    return _node(y, row, a, b)


def compute(row: Op, operands: Sequence[Operand], xs: Sequence[float]) -> float:
    """row.forward(*xs), or the error that names the op and its operands as given."""
    try:
        return row.forward(*xs)  # type: ignore[misc]  # the ops of many operands never come here
    except (ValueError, ZeroDivisionError, OverflowError) as error:
        reason = f": {error}" if str(error) else ""
        what = "overflows a float" if isinstance(error, OverflowError) else "is undefined"
        # each operand as the op saw it: a Value, or a constant as a float
        shown = [describe(x if isinstance(x, Value) else c) for x, c in zip(operands, xs)]
        if row.arity == 1:
            message = f"{row.name}() {what} for {shown[0]}{reason}"
        else:
            message = f"{shown[0]} {row.symbol} {shown[1]} {what}{reason}"
        raise type(error)(message) from None


# Every op by name (register.py fills it: the rows of + and * below, of ops.py, of the
# fused nodes, and any a user registers), and the ops a neuron can apply after its
# weighted sum (rows with activation=True).
OPS: dict[str, Op] = {}
ACTIVATIONS: dict[str, Op] = {}
LINEAR = "linear"  # the activation of none: a linear neuron's output is its weighted sum


# ---- the rows of + and *: each rule beside its op ---------------------------------------------


def _plus(a: float, b: float) -> float:
    """a + b."""
    return a + b


def _times(a: float, b: float) -> float:
    """a * b."""
    return a * b


add = Op(
    "+",
    _plus,
    (lambda a, b, out: 1.0, lambda a, b, out: 1.0),  # d(a+b)/da = 1, d(a+b)/db = 1
    kind=ADD,
    commutative=True,
    step=_add_step,  # register() gives it value.py's apply and local_derivatives
    doc="a + b.",
)
mul = Op(
    "*",
    _times,
    (lambda a, b, out: b, lambda a, b, out: a),  # d(a*b)/da = b, d(a*b)/db = a
    kind=MUL,
    commutative=True,
    step=_mul_step,
    doc="a * b.",
)


# ---- numbers in, words out ---------------------------------------------------------------------


def as_float(x: object, what: str) -> float:
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


def _compared(other: Operand, op_text: str) -> float:
    return other.data if isinstance(other, Value) else as_float(other, op_text)


def describe(x: Value | float) -> str:
    """How error messages name an operand: its number, and its label when set."""
    if isinstance(x, Value):
        return f"{x.data!r} (Value {x.label!r})" if x.label else repr(x.data)
    return repr(x)


__all__ = [
    "Value", "Op", "OPS", "ACTIVATIONS", "LINEAR", "no_grad", "enable_grad", "is_grad_enabled",
    "topological_order", "add", "mul",
]  # fmt: skip
