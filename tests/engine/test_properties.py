"""Property-based tests: backward() is right on random expression graphs.

Hypothesis draws a small program: a few leaves, then ops that each read earlier
nodes (so subexpressions are shared and a node may be used twice by one op) or
constants on either side, including fused Value.sum / Value.dot nodes. The same
program runs on Values and on plain floats, so its gradient can be compared with
central finite differences, and it runs fused and elementary, which must agree.

Domains are kept safe by construction: log, sqrt and fractional powers see
x*x + 1 (never below 1), divisions divide by x*x + 1 or by a constant of size at
least 0.5. Examples whose numbers grow large, or whose abs/relu input sits next
to the kink, are rejected with assume(), since finite differences are not valid
there.
"""

from __future__ import annotations

import math

from helpers import assert_all_close, call, chain_sum, numerical_grad
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from micrograd.engine import Value

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True, database=None)

LIMIT = 1e4  # reject examples where any intermediate number exceeds this in size
KINK_MARGIN = 1e-3  # ... or where an abs/relu input is this close to 0


class Reject(Exception):
    """The example leaves the safe domain; the test assumes it away."""


def pos(x):
    """x*x + 1: at least 1, a safe argument for log, sqrt, ** and division."""
    return x * x + 1.0


def kink(x, kinks):
    """Note which side of 0 an abs/relu input is on (and reject one too close to 0)."""
    value = x.data if isinstance(x, Value) else x
    if abs(value) < KINK_MARGIN:
        raise Reject
    kinks.append(value > 0.0)
    return x


# ---- the programs ---------------------------------------------------------------------

# Ops on one node: name -> f(x, kinks)
UNARY = {
    "neg": lambda x, k: -x,
    "abs": lambda x, k: abs(kink(x, k)),
    "relu": lambda x, k: call("relu", kink(x, k)),
    "tanh": lambda x, k: call("tanh", x),
    "sigmoid": lambda x, k: call("sigmoid", x),
    "exp": lambda x, k: call("exp", x),
    "log": lambda x, k: call("log", pos(x)),
    "sqrt": lambda x, k: call("sqrt", pos(x)),
    "square": lambda x, k: x**2,
    "cube": lambda x, k: x**3,
}
# Ops on two nodes (possibly the same node twice): name -> f(x, y)
BINARY = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / pos(y),
    "pow": lambda x, y: pos(x) ** y,
}
# Ops on a node and a constant: name -> f(x, c); "r" ops put the constant first.
WITH_CONSTANT = {
    "add": lambda x, c: x + c,
    "radd": lambda x, c: c + x,
    "sub": lambda x, c: x - c,
    "rsub": lambda x, c: c - x,
    "mul": lambda x, c: x * c,
    "rmul": lambda x, c: c * x,
    "div": lambda x, c: x / c,
    "rdiv": lambda x, c: c / pos(x),
    "pow": lambda x, c: pos(x) ** c,
    "rpow": lambda x, c: abs(c) ** x,
}

constants = st.floats(0.5, 2.0) | st.floats(-2.0, -0.5)
leaf_values = st.floats(-2.0, 2.0)


@st.composite
def programs(draw, max_ops=10):
    """(leaf values, instructions); an instruction's node arguments index earlier nodes."""
    leaves = draw(st.lists(leaf_values, min_size=1, max_size=4))
    program = []
    for k in range(draw(st.integers(1, max_ops))):
        n = len(leaves) + k
        # favour the newest node, so graphs get deep as well as wide
        node = st.just(n - 1) | st.integers(0, n - 1)
        operand = node | constants  # a node index, or a plain float constant
        kind = draw(st.sampled_from(["unary", "binary", "constant", "sum", "dot"]))
        if kind == "unary":
            program.append(("unary", draw(st.sampled_from(sorted(UNARY))), draw(node)))
        elif kind == "binary":
            program.append(
                ("binary", draw(st.sampled_from(sorted(BINARY))), draw(node), draw(node))
            )
        elif kind == "constant":
            name = draw(st.sampled_from(sorted(WITH_CONSTANT)))
            program.append(("constant", name, draw(node), draw(constants)))
        elif kind == "sum":
            items = draw(st.lists(operand, min_size=1, max_size=5))
            program.append(("sum", items, draw(st.none() | operand)))
        else:
            weights = draw(st.lists(node, min_size=1, max_size=4))
            inputs = draw(st.lists(operand, min_size=len(weights), max_size=len(weights)))
            program.append(("dot", weights, inputs, draw(st.none() | node)))
    return leaves, program


def run(program, leaves, fused=True):
    """Every node of the program, computed from leaves (Values or floats), and the kink sides.

    fused=False builds Value.sum / Value.dot as a chain of + and *.
    Raises Reject when a number leaves the safe range.
    """
    nodes = list(leaves)
    kinks = []

    def get(ref):
        return nodes[ref] if isinstance(ref, int) else ref

    for instruction in program:
        kind = instruction[0]
        try:
            if kind == "unary":
                out = UNARY[instruction[1]](nodes[instruction[2]], kinks)
            elif kind == "binary":
                out = BINARY[instruction[1]](nodes[instruction[2]], nodes[instruction[3]])
            elif kind == "constant":
                out = WITH_CONSTANT[instruction[1]](nodes[instruction[2]], instruction[3])
            elif kind == "sum":
                items = [get(i) for i in instruction[1]]
                start = 0.0 if instruction[2] is None else get(instruction[2])
                has_value = any(isinstance(v, Value) for v in [*items, start])
                out = Value.sum(items, start) if fused and has_value else chain_sum(items, start)
            else:
                weights = [nodes[i] for i in instruction[1]]
                inputs = [get(i) for i in instruction[2]]
                bias = None if instruction[3] is None else nodes[instruction[3]]
                if fused and all(isinstance(w, Value) for w in [*weights, bias] if w is not None):
                    out = Value.dot(weights, inputs, bias)
                else:
                    products = (w * x for w, x in zip(weights, inputs))
                    out = chain_sum(products, 0 if bias is None else bias)
        except OverflowError:
            raise Reject from None
        value = out.data if isinstance(out, Value) else out
        if not abs(value) <= LIMIT:
            raise Reject
        nodes.append(out)
    return nodes, kinks


def run_or_reject(program, leaves, fused=True):
    try:
        return run(program, leaves, fused)
    except Reject:
        assume(False)
        raise  # not reached


@settings(SETTINGS, max_examples=300)
@given(programs())
def test_backward_matches_finite_differences_on_random_graphs(case):
    xs, program = case
    leaves = [Value(x) for x in xs]
    nodes, kinks = run_or_reject(program, leaves)
    root = nodes[-1]
    assume(isinstance(root, Value))
    root.backward()

    # The forward pass on Values computes the same numbers as on floats.
    float_nodes, _ = run(program, xs)
    assert_all_close(
        [v.data if isinstance(v, Value) else v for v in nodes], float_nodes, 1e-14, 0.0, "data"
    )

    sides = []

    def f(perturbed):
        try:
            out, perturbed_kinks = run(program, perturbed)
        except Reject:
            sides.append(None)
            return math.nan
        sides.append(perturbed_kinks)
        return out[-1]

    expected = numerical_grad(f, xs)
    # A perturbation that crossed a kink (or left the range) makes the difference meaningless.
    assume(all(s == kinks for s in sides))
    scale = max(1.0, max(abs(v) for v in float_nodes))
    # Rounding in central differences is ~ 1e-16 * |f| / eps, so the absolute tolerance
    # follows the size of the numbers involved.
    assert_all_close([v.grad for v in leaves], expected, rel=1e-5, abs_=1e-6 * scale)


@SETTINGS
@given(programs())
def test_fused_nodes_backpropagate_like_their_elementary_form(case):
    xs, program = case
    fused_leaves = [Value(x) for x in xs]
    chain_leaves = [Value(x) for x in xs]
    fused, _ = run_or_reject(program, fused_leaves, fused=True)
    chain, _ = run(program, chain_leaves, fused=False)
    assume(isinstance(fused[-1], Value))

    def numbers(nodes):
        return [(v.data if isinstance(v, Value) else v).hex() for v in nodes]

    assert numbers(fused) == numbers(chain)  # bit-identical forward pass
    fused[-1].backward()
    chain[-1].backward()
    fused_grads = [v.grad for v in fused_leaves]
    chain_grads = [v.grad for v in chain_leaves]
    # The two graphs add the same terms in different orders: equal up to rounding.
    scale = max(1.0, *(abs(g) for g in chain_grads))
    assert_all_close(fused_grads, chain_grads, rel=1e-12, abs_=1e-12 * scale)


@SETTINGS
@given(programs(), st.integers(2, 3))
def test_repeated_backward_multiplies_leaf_gradients(case, times):
    xs, program = case
    leaves = [Value(x) for x in xs]
    nodes, _ = run_or_reject(program, leaves)
    root = nodes[-1]
    assume(isinstance(root, Value))
    root.backward()
    once = [v.grad for v in leaves]
    interior = [v.grad for v in nodes[len(xs) :] if isinstance(v, Value) and not v.is_leaf()]
    for _ in range(times - 1):
        root.backward()
    scale = max(1.0, *(abs(g) for g in once))
    assert_all_close(
        [v.grad for v in leaves], [g * times for g in once], rel=1e-12, abs_=1e-12 * scale
    )
    again = [v.grad for v in nodes[len(xs) :] if isinstance(v, Value) and not v.is_leaf()]
    assert again == interior
