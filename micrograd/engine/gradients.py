"""Read when you want gradients of gradients, or backprop one step at a time.

- `grad(outputs, inputs)`: gradients returned, not stored, as torch.autograd.grad.
- `backward(create_graph=True)`: gradients that are Values with graphs of their own,
  so that they can be differentiated again (the same rules, applied to Values).
- `forward_steps` / `backward_steps`: the passes as records, one node at a time, with
  backward()'s order and arithmetic exactly; drawings and step-through read them.

Each is a sweep over value.py's order that calls value.py's `contributions` at every
node: the one chain-rule step, with a record of what it passed back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from micrograd.engine.value import (
    Operand,
    Value,
    _grad_enabled,
    as_float,
    contributions,
    enable_grad,
    sweep_order,
    topological_order,
)

__all__ = [
    "grad",
    "forward_steps",
    "backward_steps",
    "ForwardStep",
    "BackwardStep",
    "ParentUpdate",
]


def _contributions_on_values(node: Value, g: Any) -> list[tuple[Value, Any, Any]]:
    """contributions() with create_graph: the rules applied to Values, or a clear error."""
    rule = node._rule
    try:
        return contributions(node, g, create_graph=True)
    except (TypeError, AttributeError) as error:
        if rule is None or rule.contributions is not None:  # a node built by hand says why
            raise
        raise TypeError(
            f"the derivative rule of {rule.name!r} cannot be applied to Values ({error}); "
            "to differentiate it twice, write it with arithmetic and ops that work on "
            "Values and floats alike (micrograd.engine's exp, log, tanh, ...)"
        ) from error


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
    create_graph it passes 0 * its local derivatives (see value.contributions).
    """
    step = _contributions_on_values if create_graph else contributions
    for node in order:
        g = grads.get(node, 0.0)
        for parent, _, contribution in step(node, g):
            if create_graph:
                grads[parent] = _accumulate(grads.get(parent, 0.0), contribution)
            else:  # backward()'s arithmetic exactly, so the floats are the same
                grads[parent] = grads.get(parent, 0.0) + contribution
    return grads


def backward_creating_graph(root: Value) -> None:
    """backward() with gradients that are Values, each with a graph of its own.

    Leaves accumulate Values, which can be differentiated again. Interior nodes
    keep only the number: a gradient's graph often refers to the node it belongs
    to (the gradient of x*x is 2*x), and storing it there would make a reference
    cycle. A leaf and its gradient can still form one, as in PyTorch; grad()
    returns the gradients without storing them, and makes none.
    """
    order = sweep_order([root], reset_grads=True)
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
            as_float(v, "grad() outputs")
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
                seed = as_float(seed, "grad() grad_outputs")
                seed = Value(seed) if create_graph else seed
            elif not create_graph:
                seed = seed.data
            if isinstance(out, Value):
                grads[out] = _accumulate(grads.get(out, 0.0), seed)
        order = sweep_order(roots)
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
    order = sweep_order([root], reset_grads=True)  # as backward()
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
        for parent, local, contribution in contributions(node, g):
            parent.grad += contribution
            updates.append(ParentUpdate(parent, local, contribution, parent.grad))
        yield BackwardStep(i, node, g, tuple(updates))


def _check_root(root: object, caller: str) -> None:
    if not isinstance(root, Value):
        hint = "; pass one of them, or Value.sum(outputs)" if isinstance(root, list) else ""
        raise TypeError(f"{caller} expected a Value, got {type(root).__name__}{hint}")


# Value's methods from this file (declared in value.py's class, for type checkers)
Value.backward_steps = backward_steps  # type: ignore[assignment]
Value._backward_creating_graph = backward_creating_graph  # type: ignore[method-assign, assignment]
