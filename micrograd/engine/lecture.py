"""Read when you follow Karpathy's lecture: nodes built by hand, `_backward`, `_op`, `_prev`.

In the lecture a learner builds a node by hand, `out = Value(data, (a, b), "+")`,
gives it a closure, `out._backward = lambda: ...`, and runs the topological loop
himself: `for node in reversed(topo): node._backward()`. All of that works here,
on the same Values: a node built by hand is an op of its own, outside the table,
whose rule is its closure; backward(), drawings and step-through run it like any
other op's rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from micrograd.engine.fused import own_parents, push_each_parent
from micrograd.engine.op import BY_HAND, Op
from micrograd.engine.value import Value, contributions

__all__ = ["build_by_hand"]


def build_by_hand(node: Value, children: Iterable[Value], op_text: str) -> None:
    """Make `node` a node of an op written by hand, as `Value(data, children, op_text)`."""
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
        node._op_text = op_text  # type: ignore[attr-defined]  # a lecture attribute, below
        return
    # An op of its own, outside the table: its rule is the closure given later.
    node._rule = _hand_written_row(op_text)
    node._a = parents
    node._b = node._s = None


def _hand_written_row(op_text: str) -> Op:
    row = Op(
        op_text,
        None,
        (),
        kind=BY_HAND,
        doc="an op written by hand",
        step=_run_closure,
        local_derivatives=_observed_local_derivatives,
        parents=own_parents,
        push_parents=push_each_parent,
    )
    row.contributions = _observed_contributions
    return row


def _run_closure(node: Value) -> None:
    """The sweep's step at a node built by hand: its own `_backward`, as micrograd calls it
    (even when its grad is 0, as micrograd does)."""
    closure = node._rule.closure  # type: ignore[union-attr]  # interior: it has a rule
    if closure is not None:
        closure()


def _observed_contributions(
    node: Value, g: Any, create_graph: bool
) -> list[tuple[Value, Any, Any]]:
    """What a hand-written `_backward` closure adds to each parent, seen by running it.

    Runs it with node.grad = 1 (the local derivatives) and with node.grad = g (the
    contributions), each time on parents' grads set to 0, then puts every grad back.
    """
    closure = node._rule.closure  # type: ignore[union-attr]  # interior: it has a rule
    if closure is None:  # no _backward given yet: it passes nothing back
        return []
    if create_graph:
        raise TypeError(
            f"cannot differentiate the op {node._rule.name!r} twice: "  # type: ignore[union-attr]
            "it was written by hand "
            "with a _backward closure, which computes numbers; register it with "
            "micrograd.op(...) so that its derivative rules can be applied to Values"
        )
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
        sent = run(g)
    finally:
        node.grad = saved[0]
        for p, old in zip(parents, saved[1:]):
            p.grad = old
    return list(zip(parents, local_grads, sent))


def _observed_local_derivatives(
    node: Value, as_values: bool
) -> tuple[Sequence[Any], list[Any], Any]:
    """(parents, what the closure sends each for a gradient of 1, slope 1.0)."""
    sent = {id(p): local for p, local, _ in contributions(node, 1.0)}
    parents = node.parents
    return parents, [sent.get(id(p), 0.0) for p in parents], 1.0


# ---- the lecture's attributes of every Value ----------------------------------------------------


def _get_backward(self: Value) -> Callable[[], None]:
    """micrograd's per-node step: add this node's contribution to its parents' grads.

    With root.grad = 1.0 and every interior grad at 0,
    `for node in reversed(topological_order(root)): node._backward()` gives
    exactly the gradients of backward(). Assigning a function of no arguments
    (`out._backward = closure`) makes it this node's rule, as in micrograd.
    """
    rule = self._rule
    if rule is None:  # a leaf passes nothing back (unless it was given a closure)
        return self._leaf_closure or (lambda: None)  # type: ignore[attr-defined]
    return rule.closure or (lambda: rule.step(self))


def _set_backward(self: Value, closure: Callable[[], None]) -> None:
    if not callable(closure):
        raise TypeError(f"_backward must be a function of no arguments, got {closure!r}")
    if self._rule is None:  # a leaf: backward() never calls it, the lecture's loop does
        self._leaf_closure = closure  # type: ignore[attr-defined]
        return
    if self._rule.kind != BY_HAND:  # a node made by a row of OPS becomes an op of its own
        build_by_hand(self, self.parents, self._op)
    self._rule.closure = closure  # built by hand: it has a rule


def _get_op(self: Value) -> str:
    """micrograd's text for the op: "+", "*", "**2", "ReLU", "tanh" ("" for a leaf)."""
    rule = self._rule
    if rule is None:
        return self._op_text  # type: ignore[attr-defined]  # set below
    return rule.spell(self.operands)


def _get_prev(self: Value) -> set[Value]:
    """micrograd's name for the set of parents, kept for existing lessons."""
    return set(self.parents)


# Value's lecture attributes (declared in value.py's class, for type checkers). A leaf
# built by hand keeps its `_op` text and `_backward` closure in its instance dict.
Value._build_by_hand = build_by_hand  # type: ignore[method-assign, assignment]
Value._op_text = ""  # type: ignore[attr-defined]
Value._leaf_closure = None  # type: ignore[attr-defined]
Value._backward = property(_get_backward, _set_backward)  # type: ignore[assignment]
Value._op = property(_get_op)  # type: ignore[assignment]
Value._prev = property(_get_prev)  # type: ignore[assignment]
