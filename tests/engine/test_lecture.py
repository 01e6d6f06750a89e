"""What learners do in Karpathy's micrograd lecture, done with this package.

They build Values by hand with `_children` and `_op`, write an op of their own with
a closure `_backward`, run the topological loop by hand, read `_prev` and `_op`,
hang extra attributes on Values, and (beyond the lecture) register an op of their
own through the public API. Each test does one of those things.
"""

from __future__ import annotations

import math
import weakref

import pytest

from micrograd import Value
from micrograd.engine import (
    OPS,
    backward_steps,
    grad,
    topological_order,
)
from micrograd.nn import MLP

# ---- the lecture's own helpers, as a learner writes them ---------------------------------


def build_topo(root: Value) -> list[Value]:
    """The lecture's recursive topological sort over `_prev`."""
    topo: list[Value] = []
    visited: set[Value] = set()

    def build(v: Value) -> None:
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build(child)
            topo.append(v)

    build(root)
    return topo


def manual_backward(root: Value, order=build_topo) -> None:
    """The lecture's loop: seed the root, then each node's _backward in reverse order
    (the lecture's build_topo, or another, such as our topological_order)."""
    root.grad = 1.0
    for node in reversed(order(root)):
        node._backward()


def lecture_tanh(self: Value) -> Value:
    """tanh written as in the lecture: a node built by hand, with a closure for backward."""
    x = self.data
    t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
    out = Value(t, (self,), "tanh")

    def _backward() -> None:
        self.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


def lecture_neuron(tanh=Value.tanh):
    """The lecture's neuron: o = tanh(x1*w1 + x2*w2 + b), every Value labelled."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = tanh(n)
    o.label = "o"
    return o, {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b, "n": n}


# ---- building a Value by hand --------------------------------------------------------------


def test_a_value_takes_children_and_op_positionally_as_in_micrograd():
    a, b = Value(2.0), Value(-3.0)
    c = Value(a.data + b.data, (a, b), "+")
    assert c._prev == {a, b}
    assert c._op == "+" and c.op == "+"
    assert c.parents == (a, b) and not c.is_leaf()


def test_a_value_takes_children_op_and_label_by_keyword():
    a = Value(2.0, label="a")
    c = Value(4.0, _children=(a,), _op="**2", label="c")
    assert (c._prev, c._op, c.label) == ({a}, "**2", "c")


def test_a_node_built_by_hand_passes_nothing_back_until_it_has_a_backward():
    a = Value(2.0)
    c = Value(2.0 * a.data, (a,), "*2")
    c.backward()
    assert a.grad == 0.0 and c.grad == 1.0


def test_a_str_as_second_argument_is_refused_with_a_hint_to_pass_the_label_by_name():
    with pytest.raises(TypeError, match=r"_children.*label="):
        Value(2.0, "x")


def test_children_must_be_values():
    with pytest.raises(TypeError, match=r"_children must be Values, got float 1.0 at position 1"):
        Value(2.0, (Value(1.0), 1.0), "+")


# ---- an op of one's own, with a closure -------------------------------------------------------


def test_a_closure_backward_is_the_rule_of_a_node_built_by_hand():
    o, v = lecture_neuron(tanh=lecture_tanh)
    o.backward()
    # the lecture's numbers: o = 0.7071, and the gradients it derives by hand
    assert f"{o.data:.4f}" == "0.7071"
    assert [round(v[k].grad, 4) for k in ("x1", "w1", "x2", "w2")] == [-1.5, 1.0, 0.5, 0.0]


def test_a_closure_op_gives_the_gradients_of_the_built_in_op():
    o_closure, hand = lecture_neuron(tanh=lecture_tanh)
    o_builtin, table = lecture_neuron()
    o_closure.backward()
    o_builtin.backward()
    for name in hand:
        assert hand[name].grad == pytest.approx(table[name].grad, rel=1e-15, abs=1e-15), name


def test_assigning_a_backward_to_a_node_of_the_table_makes_the_closure_its_rule():
    x = Value(3.0)
    y = x * 2.0

    def double_backward() -> None:
        x.grad += 4.0 * y.grad  # deliberately not the true derivative 2

    y._backward = double_backward
    y.backward()
    assert x.grad == 4.0
    assert y._op == "*"  # it keeps its op's text


def test_backward_steps_record_what_a_closure_sends():
    o, v = lecture_neuron(tanh=lecture_tanh)
    steps = list(backward_steps(o))
    first = steps[0]  # the hand-built tanh node
    (update,) = first.updates
    assert update.parent is v["n"]
    assert update.local_grad == pytest.approx(1 - o.data**2, rel=1e-12)
    assert update.contribution == update.local_grad * 1.0


def test_differentiating_a_closure_twice_is_a_clear_error():
    x = Value(0.3)
    with pytest.raises(TypeError, match=r"written by hand with a _backward closure.*micrograd.op"):
        grad(lecture_tanh(x), [x], create_graph=True)


def test_a_backward_must_be_a_function():
    with pytest.raises(TypeError, match="_backward must be a function"):
        Value(1.0)._backward = 3.0


# ---- the topological loop by hand -----------------------------------------------------------


@pytest.mark.parametrize("tanh", [Value.tanh, lecture_tanh], ids=["table op", "closure op"])
def test_the_manual_topological_loop_gives_exactly_the_gradients_of_backward(tanh):
    o, by_hand = lecture_neuron(tanh)
    manual_backward(o)
    o2, by_backward = lecture_neuron(tanh)
    o2.backward()
    assert [v.grad for v in by_hand.values()] == [v.grad for v in by_backward.values()]


def test_the_loop_over_our_topological_order_gives_backward_bit_for_bit_on_a_shared_graph():
    # x is used three times, so the order of its contributions matters to the last bit
    def graph():
        x, y = Value(0.7, label="x"), Value(-1.3, label="y")
        h = (x * y).tanh()
        return (h * x + (x.exp() * y) ** 2 - x / (y * y + 1.0)).sigmoid(), x, y

    out, x, y = graph()
    manual_backward(out, topological_order)
    out2, x2, y2 = graph()
    out2.backward()
    assert (x.grad, y.grad) == (x2.grad, y2.grad)


def test_the_loop_gives_backward_bit_for_bit_behind_a_relu_that_is_off():
    # behind the relu: sqrt's infinite slope at 0, so 0 * inf would be NaN if it ran
    def graph():
        x, z = Value(0.8, label="x"), Value(0.0, label="z")
        off = (z.sqrt() - x).relu()
        return off * 3.0 + x * x, x, z

    out, x, z = graph()
    manual_backward(out, topological_order)
    out2, x2, z2 = graph()
    out2.backward()
    assert (x.grad, z.grad) == (x2.grad, z2.grad) == (1.6, 0.0)


def test_a_leaf_backward_does_nothing():
    x = Value(1.0)
    x._backward()
    assert x.grad == 0.0


# ---- _prev and _op, as micrograd spells them -------------------------------------------------


@pytest.mark.parametrize(
    ("make", "spelling"),
    [
        (lambda x, y: x + y, "+"),
        (lambda x, y: x * y, "*"),
        (lambda x, y: x**2, "**2"),
        (lambda x, y: x**-1, "**-1"),
        (lambda x, y: x**0.5, "**0.5"),
        (lambda x, y: x.relu(), "ReLU"),
        (lambda x, y: x.tanh(), "tanh"),
        (lambda x, y: x.exp(), "exp"),
        # ops micrograd builds from others are one node here, with their own text
        (lambda x, y: x - y, "-"),
        (lambda x, y: x / y, "/"),
        (lambda x, y: -x, "neg"),
        (lambda x, y: x**y, "**"),
        (lambda x, y: x.sigmoid(), "sigmoid"),
        (lambda x, y: x.log(), "log"),
        (lambda x, y: Value.sum([x, y]), "sum"),
        (lambda x, y: Value.dot([x], [y], activation="relu"), "dot-relu"),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_op_is_spelled_as_micrograd_spells_it(make, spelling):
    x, y = Value(2.0), Value(3.0)
    assert make(x, y)._op == spelling


def test_every_op_of_the_table_has_a_spelling():
    x, y = Value(2.0), Value(3.0)
    for row in OPS.values():
        if row.arity:
            node = row(x) if row.arity == 1 else row(x, y)
            assert isinstance(node._op, str) and node._op, row


def test_prev_is_the_set_of_parent_values_and_constants_are_not_among_them():
    x, y = Value(2.0), Value(3.0)
    z = x * 2 + y
    assert z._prev == set(z.parents)
    assert (x * 2)._prev == {x}  # micrograd makes a leaf of the 2; here it is a constant
    assert x._prev == set() and x._op == ""


def test_a_trace_over_prev_draws_the_graph_micrograd_draws_for_an_elementary_expression():
    # the lecture's trace(): every node and edge reachable through _prev
    x, w, b = Value(2.0), Value(-3.0), Value(1.0)
    out = (x * w + b).relu()
    nodes, edges = set(), set()

    def build(v: Value) -> None:
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                build(child)

    build(out)
    ops = sorted(n._op for n in nodes if n._op)
    assert ops == ["*", "+", "ReLU"]  # micrograd's three op nodes
    assert len(nodes) == 6 and len(edges) == 5  # x, w, b, x*w, x*w + b, relu


# ---- weak references and attributes of one's own ----------------------------------------------


def test_a_value_can_be_weakly_referenced():
    x = Value(1.0)
    ref = weakref.ref(x)
    assert ref() is x
    del x
    assert ref() is None


def test_a_parameter_can_carry_optimizer_state_as_an_attribute():
    model = MLP(2, [3, 1])
    for p in model.parameters():
        p.m = 0.0  # EurekaLabs' micrograd keeps Adam's moments on each parameter
        p.v = 0.0
    p = model.parameters()[0]
    p.m = 0.9 * p.m + 0.1 * 2.0
    assert p.m == pytest.approx(0.2)


def test_any_value_can_carry_an_attribute_of_ones_own():
    y = Value(2.0) * Value(3.0)
    y.color = "red"
    assert y.color == "red"
    with pytest.raises(AttributeError):
        _ = Value(1.0).color


# ---- compatibility with Karpathy's micrograd ------------------------------------------


def test_karpathy_imports_work():
    from micrograd.engine import Value as EngineValue
    from micrograd.nn import MLP, Layer, Module, Neuron

    assert EngineValue is Value
    assert issubclass(Neuron, Module) and issubclass(Layer, Module) and issubclass(MLP, Module)


def test_karpathy_prev_is_the_set_of_parents():
    x, y = Value(1.0), Value(2.0)
    assert (x * y)._prev == {x, y}
    assert (x * x)._prev == {x}
    assert (x + 1)._prev == {x}
    assert x._prev == set()


def test_karpathy_op_is_a_string():
    x = Value(1.0)
    assert isinstance((x + x)._op, str)
    assert isinstance(x._op, str)


def test_data_and_grad_are_assignable():
    x = Value(1.0)
    x.data = 4.0
    x.grad = 2.0
    (x * x).backward()
    assert x.data == 4.0
    assert x.grad == 2.0 + 8.0


def test_karpathy_mlp_call_returns_a_value():
    out = MLP(3, [4, 4, 1])([2.0, 3.0, -1.0])
    assert isinstance(out, Value)
    out.backward()
