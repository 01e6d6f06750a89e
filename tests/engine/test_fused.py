"""fused.py: Value.sum and fused neurons (Value.dot), their fast steps and expand(node)."""

from __future__ import annotations

import random
import struct

import pytest
from helpers import (
    assert_all_close,
    chain_sum,
    grads_of,
    numerical_grad,
)

from micrograd import engine
from micrograd.engine import (
    OPS,
    FusedParts,
    Value,
    fused_parts,
)

# ---- fused nodes: Value.sum and Value.dot ----------------------------------------

# Each case is written once against a `fused` function: Value.sum / Value.dot when
# building a graph, the elementary float expression when computing the reference.
SUM_CASES = [
    pytest.param(lambda S, a, b, c: S([a, b, c]), id="values"),
    pytest.param(lambda S, a, b, c: S([a, 2.5, b, -1, c]), id="values-and-numbers"),
    pytest.param(lambda S, a, b, c: S([a, b, a, a]), id="repeated-value"),
    pytest.param(lambda S, a, b, c: S(x * y for x, y in [(a, b), (b, c)]), id="generator"),
    pytest.param(lambda S, a, b, c: S([a, b], c), id="value-start"),
    pytest.param(lambda S, a, b, c: S([a, b, c], 4.5), id="number-start"),
]


def float_sum(values, start=0.0):
    return chain_sum(values, start)


def float_dot(weights, inputs, bias=None):
    return chain_sum((w * x for w, x in zip(weights, inputs)), 0.0 if bias is None else bias)


@pytest.mark.parametrize("make", SUM_CASES)
@pytest.mark.parametrize("xs", [[0.3, -1.7, 2.2], [-4.0, 0.5, 9.25]])
def test_value_sum_matches_finite_differences(make, xs):
    data, grads = grads_of(lambda *v: make(Value.sum, *v), xs)
    assert data == make(float_sum, *xs)
    assert_all_close(grads, numerical_grad(lambda v: make(float_sum, *v), xs))


DOT_CASES = [
    pytest.param(lambda D, w1, w2, x1, x2, b: D([w1, w2], [x1, x2]), id="values"),
    pytest.param(lambda D, w1, w2, x1, x2, b: D([w1, w2], [x1, x2], b), id="values+bias"),
    pytest.param(lambda D, w1, w2, x1, x2, b: D([w1, w2], [1.5, -2]), id="numbers"),
    pytest.param(lambda D, w1, w2, x1, x2, b: D([w1, w2], [1.5, -2], b), id="numbers+bias"),
    pytest.param(lambda D, w1, w2, x1, x2, b: D([w1, w2], [x1, 3.0], b), id="mixed+bias"),
    pytest.param(lambda D, w1, w2, x1, x2, b: D([w1, w1], [w1, x2], b), id="shared"),
]


@pytest.mark.parametrize("make", DOT_CASES)
@pytest.mark.parametrize("xs", [[0.3, -1.7, 2.2, 0.8, -0.4], [-4.0, 0.5, 9.25, -2.5, 1.0]])
def test_value_dot_matches_finite_differences(make, xs):
    data, grads = grads_of(lambda *v: make(Value.dot, *v), xs)
    assert data == make(float_dot, *xs)
    assert_all_close(grads, numerical_grad(lambda v: make(float_dot, *v), xs))


def test_value_dot_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="2 and 3"):
        Value.dot([Value(1.0), Value(2.0)], [1.0, 2.0, 3.0])


@pytest.mark.parametrize("n", [1, 2, 7, 50])
def test_value_sum_is_bit_identical_to_builtin_sum(rng, n):
    xs = [rng.uniform(-1e3, 1e3) for _ in range(n)]
    fused_leaves = [Value(x) for x in xs]
    chain_leaves = [Value(x) for x in xs]
    fused = Value.sum(fused_leaves)
    chain = sum(chain_leaves)
    assert fused.data.hex() == chain.data.hex()
    fused.backward()
    chain.backward()
    assert [v.grad.hex() for v in fused_leaves] == [v.grad.hex() for v in chain_leaves]


@pytest.mark.parametrize("n", [1, 3, 16, 64])
@pytest.mark.parametrize("with_bias", [False, True])
@pytest.mark.parametrize("number_inputs", [False, True])
def test_value_dot_is_bit_identical_to_the_elementary_chain(rng, n, with_bias, number_inputs):
    ws = [rng.uniform(-2, 2) for _ in range(n)]
    xs = [rng.uniform(-5, 5) for _ in range(n)]
    b = rng.uniform(-1, 1)

    def build(fused):
        w = [Value(x) for x in ws]
        x = list(xs) if number_inputs else [Value(v) for v in xs]
        bias = Value(b) if with_bias else None
        if fused:
            out = Value.dot(w, x, bias)
        elif with_bias:
            out = sum((wi * xi for wi, xi in zip(w, x)), bias)
        else:
            out = sum(wi * xi for wi, xi in zip(w, x))
        out.backward()
        leaves = w + ([] if number_inputs else x) + ([bias] if with_bias else [])
        return out.data, [v.grad for v in leaves]

    fused_data, fused_grads = build(fused=True)
    chain_data, chain_grads = build(fused=False)
    assert fused_data.hex() == chain_data.hex()
    assert [g.hex() for g in fused_grads] == [g.hex() for g in chain_grads]


# ---- Value.dot: bad input ---------------------------------------------------------------------


def test_value_dot_rejects_a_plain_number_weight_by_position():
    with pytest.raises(TypeError, match=r"weights\[0\] must be a Value, got 1.0"):
        Value.dot([1.0], [Value(1.0)])


def test_value_dot_rejects_a_plain_number_bias():
    with pytest.raises(TypeError, match="bias must be a Value or None, got 0.5"):
        Value.dot([Value(1.0)], [Value(1.0)], 0.5)


def test_value_dot_rejects_inputs_without_a_length():
    with pytest.raises(TypeError, match="sequences"):
        Value.dot([Value(1.0)], (x for x in [1.0]))


def test_value_dot_of_nothing_is_a_constant_leaf():
    assert Value.dot([], []).is_leaf()


def test_an_int_too_large_for_a_float_is_named():
    with pytest.raises(OverflowError, match="Value\\(\\) needs a number that fits a float"):
        Value(10**400)


def test_fused_parts_gives_a_fused_neurons_weights_inputs_bias_and_activation():
    w = [Value(1.0), Value(2.0)]
    b, x = Value(0.5), Value(3.0)
    parts = fused_parts(Value.dot(w, [x, 4.0], b, activation="tanh"))
    assert parts == FusedParts(tuple(w), (x, 4.0), b, "tanh")
    assert fused_parts(Value.dot(w, [x, 4.0])) == FusedParts(tuple(w), (x, 4.0), None, None)


def test_fused_parts_of_any_other_node_is_none():
    x = Value(2.0)
    assert fused_parts(x * 2) is None
    assert fused_parts(x) is None
    assert fused_parts(Value.sum([x, x])) is None


# ---- expand(node): a fused neuron's elementary steps, from the rows' own rules ------------------

ACTIVATION_NAMES = [None, "relu", "tanh", "sigmoid"]


def random_neuron(rng: random.Random, activation, bias=True, constant=False):
    """A fused neuron node on fresh leaves: (node, weights, inputs, bias)."""
    n = rng.randint(1, 4)
    ws = [Value(rng.uniform(-2, 2)) for _ in range(n)]
    xs: list = [Value(rng.uniform(-2, 2)) for _ in range(n)]
    if constant:
        xs[0] = rng.uniform(-2, 2)
    b = Value(rng.uniform(-2, 2)) if bias else None
    return Value.dot(ws, xs, b, activation), ws, xs, b


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("bias", [True, False])
def test_expand_ends_with_the_fused_nodes_own_number(activation, bias):
    rng = random.Random(3)
    for _ in range(100):
        node, *_ = random_neuron(rng, activation, bias, constant=rng.random() < 0.5)
        assert struct.pack("<d", engine.expand(node)[-1].data) == struct.pack("<d", node.data)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_expand_is_the_products_the_sums_from_the_bias_then_the_activation(activation):
    node, ws, xs, b = random_neuron(random.Random(4), activation)
    steps = engine.expand(node)
    rows = [step.row for step in steps]
    assert rows == [engine.mul, engine.add] * len(ws) + ([OPS[activation]] if activation else [])
    assert [step.operands for step in steps[0::2][: len(ws)]] == [(w, x) for w, x in zip(ws, xs)]
    assert steps[1].operands == (b, steps[0])  # the chain starts at the bias
    if activation:
        assert steps[-1].operands == (steps[-2],)


def test_expand_takes_each_local_derivative_from_its_row():
    node, ws, xs, b = random_neuron(random.Random(5), "tanh")
    for step in engine.expand(node):
        numbers = [x.data if hasattr(x, "data") else x for x in step.operands]
        rules = step.row.derivatives
        assert step.local_grads == tuple(d(*numbers, step.data) for d in rules)


def test_expand_refuses_a_node_that_is_not_a_fused_neuron():
    with pytest.raises(ValueError, match=r"expand\(\) needs a fused neuron node .* got op '\+'"):
        engine.expand(Value(1.0) + Value(2.0))


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_backward_written_out_at_a_fused_neuron_gives_expands_floats(activation):
    # backward() writes a fused neuron's chain rule out; backward_steps reads it from expand()
    rng = random.Random(6)
    for _ in range(100):
        state = rng.getstate()
        runs = []
        for stepwise in (False, True):
            rng.setstate(state)
            node, ws, xs, b = random_neuron(rng, activation, constant=rng.random() < 0.5)
            root = node * rng.uniform(-3, 3)
            if stepwise:
                for _ in engine.backward_steps(root):
                    pass
            else:
                root.backward()
            leaves = [*ws, *(x for x in xs if isinstance(x, Value)), b]
            runs.append([struct.pack("<d", v.grad) for v in leaves])
        assert runs[0] == runs[1]
