"""Read second: what a row of the op table is. Every op is one `Op`, with its rules.

An op's forward rule, its local derivatives, its name and its symbol live in one
row; everything else about the op is derived from the row: the Value method, its
step in the backward sweep, second derivatives (the same rules applied to Values),
the symbol in drawings, the activations a neuron can use, the code the compiler
writes, the PyTorch module. value.py holds the rows of + and *, ops.py the others,
fused.py those of the fused nodes; register.py adds a row to the table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "Op",
    "op_row",
    "Derivative",
    "ELEMENTARY",
    "ADD",
    "MUL",
    "SUM",
    "FUSED",
    "BY_HAND",
]

# A local derivative: a function of the operands and the result, (x, out) for an op of
# one operand and (a, b, out) for two. The sweep applies it to floats (the operands'
# data) and, for backward(create_graph=True), to Values, so that the gradient has a
# graph of its own and can be differentiated again; so it is written with arithmetic
# and ops that work on both. It may return None: then that operand receives nothing,
# not even 0 * an infinite gradient (a relu that is off).
Derivative = Callable[..., Any]

# What kind of node an op makes (Op.kind), for readers that write each kind their own way.
ELEMENTARY = 0  # one or two operands, local derivatives from the op's rules
ADD = 1  # +
MUL = 2  # *
SUM = 3  # Value.sum: many operands, each with local derivative 1
FUSED = 4  # a fused neuron: σ(b + Σ w·x)
BY_HAND = 5  # a node built by hand: its `_backward` closure is its rule

# How the engine treats a node of the op, each a function of the node (value.py's
# chain_rule and local_derivatives serve every op of one or two operands):
Step = Callable[[Any], None]  # the chain rule at the node: its parents' grads gain


class Op:
    """One row of the op table: everything micrograd knows about one operation.

    - name: what `Value.op` says ("+", "tanh"); the key in OPS.
    - forward: the rule on floats, (x) -> y or (a, b) -> y. It raises ValueError
      (or ZeroDivisionError) where the op is undefined; the error that reaches the
      user names the op and its operands.
    - derivatives: the local derivative with respect to each operand (see Derivative).
    - symbol: how drawings write it ("+", "Σ", "relu(w·x+b)").
    - formula: how a step table writes a node of it, with {0}, {1} for the operands
      ("{0} - {1}", "|{0}|"); None for `symbol(operands, ...)`.
    - commutative: its two operands can be swapped, to the last bit: drawings need not
      show their order, and a plain number is kept second (`2 * x` as `x * 2`).
    - spelling: micrograd's `_op` text ("ReLU", "**2"): a string, or a function of
      the operands.
    - operator: the Python operator it is ("sub": `x - y` and `2 - x`), or None for a
      method named for the op (`x.tanh()`).
    - activation: a neuron can apply it (nn's `activation=`, `Value.dot`); such an op
      also has `fused`, the op of a whole neuron that applies it.
    - title: its name in a Neuron's repr ("ReLU" in "ReLUNeuron(3)").
    - torch: the name of its module in torch.nn ("ReLU"), or None if it has none.

    How the sweep treats a node of the op, each a function of the node: `step`, the
    chain rule at the node; `local_derivatives`, (parents, d(node)/d(parent) for
    each, slope); for ops of many operands `parents` and `push_parents` (the graph
    search's step); for nodes built by hand `contributions` (lecture.py).

    A row is also a function: `tanh(x)` is a Value for a Value and a float for a
    float, so a derivative rule can use other ops on either.
    """

    __slots__ = (
        "name", "forward", "derivatives", "kind", "symbol", "formula", "commutative",
        "spelling", "operator", "activation", "title", "torch", "doc", "fused",
        "apply", "step", "local_derivatives", "parents", "push_parents", "contributions", "closure",
        "check",
    )  # fmt: skip

    def __init__(
        self,
        name: str,
        forward: Callable[..., float] | None,
        derivatives: Sequence[Derivative],
        *,
        step: Step,
        local_derivatives: Callable[[Any, bool], tuple[Sequence[Any], list[Any], Any]],
        kind: int = ELEMENTARY,
        symbol: str | None = None,
        formula: str | None = None,
        commutative: bool = False,
        spelling: str | Callable[..., str] | None = None,
        operator: str | None = None,
        activation: bool = False,
        title: str | None = None,
        torch: str | None = None,
        doc: str | None = None,
        parents: Callable[[Any], tuple[Any, ...]] | None = None,
        push_parents: Callable[..., None] | None = None,
        apply: Callable[[Op, Sequence[Any]], Any] | None = None,
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
        self.operator = operator
        self.activation = activation
        self.title = name.capitalize() if title is None else title
        self.torch = torch
        self.doc = doc or ""
        self.fused: Op | None = None  # for an activation: the op of a whole neuron using it
        self.apply = apply  # value.apply for a row with a forward rule: `tanh(x)`
        self.step = step
        self.local_derivatives = local_derivatives
        self.parents = parents
        self.push_parents = push_parents
        self.contributions: Callable[..., list[tuple[Any, Any, Any]]] | None = None
        self.closure: Callable[[], None] | None = None  # for a node built by hand: _backward
        # for a user's op: checks its rules as a node is recorded (register.py)
        self.check: Callable[[Sequence[Any], Sequence[float], float], None] | None = None

    @property
    def arity(self) -> int:
        """How many operands it takes: 1 or 2 (0 for the ops of many operands)."""
        return len(self.derivatives)

    def __call__(self, *operands: Any) -> Any:
        """Apply the op: a new Value when an operand is a Value, else a float."""
        if self.apply is None:  # an op of many operands, or one built by hand
            raise TypeError(f"{self.name}() takes {self.arity} operand(s), got {len(operands)}")
        return self.apply(self, operands)

    def derivative(self, i: int, operands: Sequence[Any], out: Any) -> Any:
        """The local derivative with respect to operand i (on floats, or on Values)."""
        return self.derivatives[i](*operands, out)

    def spell(self, operands: Sequence[Any]) -> str:
        """micrograd's `_op` text for a node of this op with these operands."""
        return self.spelling if isinstance(self.spelling, str) else self.spelling(*operands)

    def __repr__(self) -> str:
        return f"<op {self.name!r}>"


def op_row(node: Any) -> Op | None:
    """The row of the op that made a Value (None for a leaf). A node built by hand has a
    row of its own, outside OPS, whose kind is BY_HAND."""
    return node._rule  # a Value's rule is an Op or None
