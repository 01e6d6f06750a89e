"""The autograd engine: a scalar `Value` that remembers how it was computed.

Read it in this order (each file says in its first line when to read it):

1. value.py      what a Value holds, how + and * record the graph, backward(): the story
2. op.py         what a row of the op table is: an op's rules in one place
3. ops.py        the other rows (-, /, **, relu, tanh, exp, log, ...), each rule beside its op
4. register.py   op(): adding an op of your own, and the checks it passes
5. fused.py      Value.sum and Value.dot: many ops as one fast node, and expand(node)
6. gradients.py  grad(), backward(create_graph=True), and the passes one step at a time
7. lecture.py    Karpathy's lecture: nodes built by hand, _backward, _op, _prev
8. tracing.py    why comparing Values is refused while micrograd.compiler traces

Everything a learner uses is importable from here: `from micrograd.engine import Value`.
"""

# Importing the files registers the built-in rows (register.py, then ops.py).
import micrograd.engine.lecture  # noqa: F401  # adds the lecture's _backward, _op, _prev
from micrograd.engine.fused import (
    DOT_OP,
    SUM_OP,
    ElementaryStep,
    FusedParts,
    NeuronLike,
    expand,
    fused_layer,
    fused_parts,
    parameter_tuple,
    sum_terms,
)
from micrograd.engine.gradients import (
    BackwardStep,
    ForwardStep,
    ParentUpdate,
    backward_steps,
    forward_steps,
    grad,
)
from micrograd.engine.op import (
    ADD,
    BY_HAND,
    ELEMENTARY,
    FUSED,
    MUL,
    SUM,
    Op,
    op_row,
)
from micrograd.engine.ops import (
    abs_,
    div,
    exp,
    log,
    logaddexp,
    neg,
    pow_,
    relu,
    sigmoid,
    sqrt,
    sub,
    tanh,
)
from micrograd.engine.register import op, register
from micrograd.engine.tracing import tracing
from micrograd.engine.value import (
    ACTIVATIONS,
    LINEAR,
    OPS,
    Value,
    add,
    enable_grad,
    is_grad_enabled,
    mul,
    no_grad,
    topological_order,
)

__all__ = [
    # what learners use
    "Value",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "op",
    "OPS",
    "ACTIVATIONS",
    "LINEAR",
    "grad",
    "topological_order",
    "forward_steps",
    "backward_steps",
    "ForwardStep",
    "BackwardStep",
    "ParentUpdate",
    # the rows, as functions on floats and Values
    "add", "mul", "sub", "div", "pow_", "neg", "abs_", "relu", "tanh", "sigmoid",
    "exp", "log", "sqrt", "logaddexp",
    # for the library's own readers of the graph (nn, viz, the compiler)
    "Op",
    "op_row",
    "expand",
    "ElementaryStep",
    "FusedParts",
    "fused_parts",
    "fused_layer",
    "parameter_tuple",
    "NeuronLike",
    "sum_terms",
    "register",
    "tracing",
    "SUM_OP",
    "DOT_OP",
    "ELEMENTARY",
    "ADD",
    "MUL",
    "SUM",
    "FUSED",
    "BY_HAND",
]  # fmt: skip
