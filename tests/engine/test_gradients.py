"""Gradients of gradients: backward(create_graph=True) and micrograd.engine.grad.

The second derivatives are checked against closed forms where there are some, and
otherwise against central differences of the analytic first derivative (gradcheck
with order=2), which trusts nothing but the first-derivative rules, themselves
checked against differences of plain-float functions in test_engine.py.
"""

from __future__ import annotations

import math

import pytest
from helpers import (
    OP_CASES,
    PAIRS,
    OpCase,
    assert_all_close,
    assert_close,
    bits,
    op_case_params,
    ops_exercised,
    random_graph,
)

from micrograd import engine
from micrograd.engine import Value, grad, no_grad
from micrograd.functional import gradcheck


def hessian_of(out: Value, leaves: list[Value]) -> list[list[float]]:
    """d²out / d(leaf i) d(leaf j), by differentiating the gradient graph again."""
    first = grad(out, leaves, create_graph=True)
    return [
        [float(h) for h in grad(g, leaves)] if isinstance(g, Value) else [0.0] * len(leaves)
        for g in first
    ]


# ---- the examples of the issue --------------------------------------------------------


def test_second_derivative_of_x_cubed_at_2_is_12_by_backward_twice():
    x = Value(2.0)
    (x**3).backward(create_graph=True)
    dy_dx = x.grad  # 3x² = 12, a Value with a graph of its own
    x.grad = 0.0  # leaves accumulate: start the second sweep from zero
    dy_dx.backward()
    assert dy_dx.data == 12.0
    assert x.grad == 12.0  # 6x


def test_second_derivative_of_x_cubed_at_2_is_12_by_grad_twice():
    x = Value(2.0)
    (dy_dx,) = grad(x**3, [x], create_graph=True)
    assert grad(dy_dx, [x]) == [12.0]


def test_hessian_of_x2y_plus_3xy2_at_1_2():
    x, y = Value(1.0), Value(2.0)
    f = x**2 * y + 3 * x * y**2
    # [[2y, 2x + 6y], [2x + 6y, 6x]]
    assert hessian_of(f, [x, y]) == [[4.0, 14.0], [14.0, 6.0]]


@pytest.mark.parametrize("x", [-3.0, -0.7, 0.0, 0.4, 1.3, 5.0])
def test_second_derivative_of_tanh_is_minus_2_tanh_times_1_minus_tanh_squared(x):
    leaf = Value(x)
    (slope,) = grad(leaf.tanh(), [leaf], create_graph=True)
    (curvature,) = grad(slope, [leaf])
    t = math.tanh(x)
    assert_close(curvature, -2.0 * t * (1.0 - t * t), rel=1e-14, abs_=1e-300)


# ---- every op, against finite differences of its first derivative ----------------------

# The elementary ops are helpers.OP_CASES (every other point: each case here is slower);
# the ops of many operands, and a chain of several, are added here.
FUSED_CASES = [
    OpCase("sum", lambda a, b: Value.sum([a, 2.0, b, a], start=b), PAIRS[::5]),
    OpCase("dot", lambda a, b: Value.dot([a, b], [b, 0.5], a), PAIRS[::5]),
    *[
        OpCase(f"dot-{name}", lambda a, b, n=name: Value.dot([a, b], [b, -0.5], a, n), PAIRS[::5])
        for name in ("relu", "tanh", "sigmoid")
    ],
    OpCase("chain", lambda a, b: (a * b).tanh() * (b / 3).exp() - (a**2 + 1).log(), PAIRS[::5]),
]


@pytest.mark.parametrize(
    ("f", "point"), op_case_params(OP_CASES, every=2) + op_case_params(FUSED_CASES)
)
def test_second_derivatives_of_every_op_match_differences_of_its_first_derivative(f, point):
    assert gradcheck(f, point, order=2)


def test_the_second_derivative_cases_cover_every_op_of_the_table():
    covered = ops_exercised(OP_CASES + FUSED_CASES)
    assert covered >= set(engine.OPS)  # a row added to the table needs a case


# ---- fused neuron nodes -----------------------------------------------------------------


@pytest.mark.parametrize("activation", [None, "relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("inputs", ["values", "some numbers"])
@pytest.mark.parametrize("bias", [0.8, -0.8], ids=["relu on", "relu off"])
def test_fused_neuron_has_the_second_derivatives_of_the_elementary_graph(
    rng, activation, inputs, bias
):
    ws = [Value(rng.uniform(-0.5, 0.5)) for _ in range(3)]
    xs = [Value(rng.uniform(-0.5, 0.5)) for _ in range(3)]
    if inputs == "some numbers":
        xs[1] = 0.25  # a constant input: not a parent, no gradient
    b = Value(bias)  # |bias| > Σ|w x|: the sign of the pre-activation is the bias's
    leaves = [*ws, *[x for x in xs if isinstance(x, Value)], b]

    fused = Value.dot(ws, xs, b, activation)
    chain = sum((w * x for w, x in zip(ws, xs)), b)
    if activation is not None:
        chain = getattr(chain, activation)()

    assert fused.data == chain.data
    fused_rows, chain_rows = hessian_of(fused, leaves), hessian_of(chain, leaves)
    for i, (fused_row, chain_row) in enumerate(zip(fused_rows, chain_rows)):
        assert_all_close(fused_row, chain_row, rel=1e-12, abs_=1e-15, what=f"hessian row {i}")


# ---- accumulation, and what grad() leaves alone -------------------------------------------


def test_backward_with_create_graph_twice_accumulates_into_leaves():
    x = Value(2.0)
    y = x**3
    y.backward(create_graph=True)
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    assert x.grad.data == 24.0  # 2 * 3x²
    assert grad(x.grad, [x]) == [24.0]  # and it is differentiable: 2 * 6x


def test_backward_with_create_graph_records_the_gradient_graph_inside_no_grad():
    x = Value(2.0)
    y = x**3
    with no_grad():
        y.backward(create_graph=True)
    assert grad(x.grad, [x]) == [12.0]


@pytest.mark.parametrize("create_graph", [False, True])
def test_grad_leaves_every_grad_untouched(create_graph):
    x, y = Value(1.5), Value(-0.5)
    hidden = (x * y).tanh()
    out = hidden * x + y
    for i, v in enumerate((x, y, hidden, out)):
        v.grad = 100.0 + i
    grad(out, [x, y], create_graph=create_graph)
    assert [v.grad for v in (x, y, hidden, out)] == [100.0, 101.0, 102.0, 103.0]


def test_grad_outputs_weight_each_outputs_gradient():
    x, y = Value(1.5), Value(-0.5)
    u, v = x * y, x + y**2
    # 2 du/dx - 3 dv/dx = 2y - 3 and 2 du/dy - 3 dv/dy = 2x - 6y
    assert grad([u, v], [x, y], grad_outputs=[2.0, -3.0]) == [-4.0, 6.0]


def test_grad_gives_zero_for_an_input_the_outputs_do_not_depend_on():
    x, unused = Value(1.5), Value(7.0)
    assert grad(x * x, [x, unused]) == [3.0, 0.0]


def test_grad_with_allow_unused_false_names_the_unused_input():
    x, unused = Value(1.5), Value(7.0, label="unused")
    with pytest.raises(ValueError, match=r"input 1 .*'unused'.* does not influence"):
        grad(x * x, [x, unused], allow_unused=False)


# ---- the same numbers as backward() --------------------------------------------------------


def fresh_random_graph(seed: int) -> tuple[Value, list[Value]]:
    """helpers.random_graph with no gradient left on its leaves: (root, every node)."""
    root, nodes = random_graph(seed)
    for v in nodes:
        v.grad = 0.0
    return root, nodes


def test_grad_gives_bit_for_bit_the_gradients_of_backward_on_random_graphs():
    for seed in range(100):
        root, nodes = fresh_random_graph(seed)
        gradients = grad(root, nodes)
        root.backward()
        assert [bits(g) for g in gradients] == [bits(v.grad) for v in nodes]


def test_grad_with_create_graph_gives_the_floats_of_backward_but_the_sign_of_zero(rng):
    # the same products in the same order; only a zero may keep its sign (see _accumulate)
    for seed in range(100):
        root, nodes = fresh_random_graph(seed)
        gradients = [float(g) + 0.0 for g in grad(root, nodes, create_graph=True)]
        root.backward()
        assert [bits(g) for g in gradients] == [bits(v.grad + 0.0) for v in nodes]


def test_grad_gives_the_sign_of_zero_that_backward_gives():
    a, b = Value(-1.0), Value(2.0)
    out = a.relu() * -3.0 * b  # relu is off: a's gradient is 0.0 * (-3 * 2), i.e. -0.0
    gradients = grad(out, [a, b])
    out.backward()
    assert [bits(g) for g in gradients] == [bits(a.grad), bits(b.grad)]


def test_grad_passes_nothing_through_an_inactive_fused_relu_as_backward_does():
    w, x = Value(-1.0), Value(1.0)
    out = Value.dot([w], [x], None, "relu").sqrt()  # relu(-1) = 0; sqrt's slope at 0 is inf
    gradients = grad(out, [w, x])  # not 0 * inf = NaN
    out.backward()
    assert gradients == [w.grad, x.grad] == [0.0, 0.0]


def test_x_to_the_power_0_at_0_has_slope_0_with_create_graph():
    x = Value(0.0)
    (slope,) = grad(x**0, [x], create_graph=True)  # not k * x**(k-1) = 0 * 0**-1
    assert float(slope) == 0.0


def test_a_to_the_power_b_at_b_0_has_the_mixed_second_derivative_1_over_a():
    assert gradcheck(lambda a, b: a**b, [1.7, 0.0], order=2)


def test_grad_and_backward_leave_what_is_behind_a_relu_that_is_off_unvisited_alike():
    # the relu is off, so nothing reaches sqrt's node: its infinite slope at 0 is never
    # multiplied by 0 (PyTorch, which visits it, gives 0 * inf = NaN for x)
    x, w = Value(0.0), Value(2.0)
    out = Value.dot([w], [x.sqrt()], None, "relu")
    gradients = grad(out, [x, w])
    out.backward()
    assert gradients == [x.grad, w.grad] == [0.0, 0.0]


def test_grad_counts_an_input_behind_a_relu_that_is_off_as_used():
    w, x = Value(-1.0), Value(1.0)
    assert grad(Value.dot([w], [x], None, "relu"), [w], allow_unused=False) == [0.0]


def test_grad_rejects_a_grad_output_that_is_not_a_number():
    x = Value(2.0)
    with pytest.raises(TypeError, match="grad_outputs needs a real number, got str '2'"):
        grad(x * x, [x], grad_outputs=["2"])


def test_backward_with_create_graph_keeps_numbers_on_interior_nodes():
    x = Value(0.5)
    t = x.tanh()
    (t * t).backward(create_graph=True)
    assert type(t.grad) is float
    assert isinstance(x.grad, Value)


def test_backward_with_create_graph_leaves_interior_nodes_free_of_reference_cycles():
    import gc

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        x = Value(0.5)
        t = x.tanh()  # its gradient's graph refers to t: stored on t, it would be a cycle
        out = t * t
        out.backward(create_graph=True)
        x.grad = 0.0  # drop the leaf's gradient graph (a leaf cycle, as in PyTorch)
        del x, t, out
        assert gc.collect() == 0  # nothing was left for the cyclic collector
    finally:
        if was_enabled:
            gc.enable()
