"""The structure that makes the engine fast and small, locked in without timing anything.

Speed and memory are measured in benchmarks/ (python benchmarks/run.py); these
tests pin down the shapes those figures depend on: one node per fused neuron, no
per-instance dict until a label or an attribute needs one, no recursion, no
reference cycles, and fused graphs that give the elementary graph's floats exactly.
"""

from __future__ import annotations

import gc
import random
import subprocess
import sys
import weakref

import pytest

from micrograd.engine import Value, backward_steps, topological_order
from micrograd.nn import MLP, Layer, Neuron

ACTIVATIONS = ["relu", "tanh", "sigmoid", "linear"]


def interior_nodes(root: Value) -> list[Value]:
    return [v for v in topological_order(root) if not v.is_leaf()]


_MEASURE_AN_OP_NODE = """
import tracemalloc
from micrograd.engine import Value
x = Value(0.5)
tracemalloc.start()
y = x
for _ in range(10_000):  # two ops a step, as benchmarks/run.py's memory workload
    y = y * 0.999999 + 0.001
held, _ = tracemalloc.get_traced_memory()
print(held / 20_000)
"""


def test_an_op_node_takes_at_most_150_bytes_with_its_number():
    """The memory budget: slots for the engine's fields, and no dict until one is needed.

    Measured in a fresh interpreter: the size CPython gives a new Value depends on
    the attributes earlier Values were given (the type's shared instance-dict keys),
    so inside the suite it varied with the tests that ran before (144 to 152 bytes).
    """
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE_AN_OP_NODE], capture_output=True, text=True, check=True
    )
    assert float(result.stdout) <= 150


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_a_fused_neuron_forward_pass_makes_one_node(activation):
    neuron = Neuron(3, activation=activation, rng=random.Random(0))
    out = neuron([Value(0.5), Value(-1.0), Value(2.0)])
    assert interior_nodes(out) == [out]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_an_elementary_neuron_makes_a_node_per_multiply_add_and_activation(activation):
    neuron = Neuron(3, activation=activation, fused=False, rng=random.Random(0))
    out = neuron([Value(0.5), Value(-1.0), Value(2.0)])
    activation_nodes = 0 if activation == "linear" else 1
    assert len(interior_nodes(out)) == 3 + 3 + activation_nodes  # 3 *, 3 +, σ


def test_a_fused_mlp_makes_one_node_per_neuron():
    model = MLP(2, [4, 3, 1], rng=random.Random(0))
    out = model([Value(0.5), Value(-1.0)])
    assert len(interior_nodes(out)) == 4 + 3 + 1


def test_a_fused_layer_shares_one_inputs_tuple_among_its_neurons():
    # the layer splits its inputs once; every neuron's node keeps that same tuple
    layer = Layer(3, 4, rng=random.Random(0))
    outs = layer([Value(0.5), Value(-1.0), Value(2.0)])
    assert len({id(out._b) for out in outs}) == 1


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_fused_and_elementary_mlps_give_the_same_floats(activation):
    """Outputs and every gradient, inputs' too, bit for bit (so also to 1e-12)."""
    fused = MLP(3, [5, 4, 2], activation=activation, rng=random.Random(7))
    plain = MLP(3, [5, 4, 2], activation=activation, fused=False, rng=random.Random(7))
    x_fused = [Value(0.3), Value(-1.2), Value(2.0)]
    x_plain = [Value(0.3), Value(-1.2), Value(2.0)]
    a, b = fused(x_fused)
    c, d = plain(x_plain)
    assert (a.data, b.data) == (c.data, d.data)
    (a * b).backward()
    (c * d).backward()
    fused_grads = [v.grad for v in fused.parameters() + x_fused]
    plain_grads = [v.grad for v in plain.parameters() + x_plain]
    assert fused_grads == plain_grads


def test_backward_through_a_million_op_chain_needs_no_recursion():
    x = Value(1.0)
    y = x
    for _ in range(500_000):  # two ops a step
        y = y * 1.0 + 0.0
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(100)  # far below the depth: any recursion would fail
    try:
        y.backward()
    finally:
        sys.setrecursionlimit(limit)
    assert x.grad == 1.0


def test_a_training_steps_graph_is_freed_by_reference_counting_alone():
    model = MLP(2, [8, 8, 1], rng=random.Random(0))
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        x = Value(0.5)
        freed = weakref.ref(x)
        loss = (model([x, -1.0]) - 1.0) ** 2 + Value.sum(p * p for p in model.parameters())
        loss.backward()
        del x, loss
        assert freed() is None
    finally:
        if was_enabled:
            gc.enable()


def test_a_node_that_nothing_reaches_passes_nothing_back():
    x = Value(-1.0)
    behind = x * 3.0  # reachable only through the relu, which is off
    alive = x * 2.0
    out = behind.relu() + alive
    out.backward()
    assert x.grad == 2.0
    steps = {step.node: step for step in backward_steps(out)}
    assert steps[behind].grad == 0.0 and steps[behind].updates == ()
    assert steps[alive].updates[0].contribution == 2.0


def test_backward_sweeps_nothing_of_an_example_whose_hinge_is_off():
    model = MLP(2, [4, 1], rng=random.Random(0))
    score = model([0.5, -1.0])
    label = 2.0 / score.data  # beats the margin: 1 - label * score = -1, so the relu is off
    loss = (1.0 - label * score).relu()
    updates = [step.updates for step in backward_steps(loss) if step.node is not loss]
    assert updates and all(u == () for u in updates)
