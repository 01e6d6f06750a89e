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
from helpers import numerical_grad

from micrograd import Value, gradcheck, op
from micrograd.engine import (
    ACTIVATIONS,
    OPS,
    backward_steps,
    grad,
    sigmoid,
    topological_order,
)
from micrograd.functional import GradcheckError
from micrograd.nn import MLP, Neuron
from micrograd.viz import draw_dot
from micrograd.viz.text import formula

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


# ---- an op registered through the public API --------------------------------------------------


def register_softplus(**options):
    # d/dx softplus(x) = sigmoid(x): written with an op, so that it works on Values too
    @op(derivative=lambda x, out: sigmoid(x), **options)
    def softplus(x: float) -> float:
        """log(1 + e**x), a smooth relu."""
        return math.log1p(math.exp(-abs(x))) + max(x, 0.0)

    return softplus


def test_a_registered_op_is_a_row_of_the_table_and_a_value_method(op_table):
    softplus = register_softplus()
    assert OPS["softplus"] is softplus
    x = Value(0.5)
    assert x.softplus().data == softplus(x).data == softplus(0.5) == math.log1p(math.exp(0.5))


def test_a_registered_op_has_the_gradient_of_finite_differences(op_table):
    register_softplus()
    for point in (-3.0, -0.2, 0.0, 1.7):
        x = Value(point)
        x.softplus().backward()
        (expected,) = numerical_grad(lambda v: math.log1p(math.exp(v[0])), [point])
        assert x.grad == pytest.approx(expected, rel=1e-7)


def test_a_registered_op_is_differentiated_twice(op_table):
    register_softplus()
    assert gradcheck(lambda x: (x * 2.0).softplus() * x, [0.4], order=2)


def test_a_registered_op_is_drawn_with_its_symbol_and_stepped_through(op_table):
    register_softplus(symbol="softplus")
    x = Value(0.5, label="x")
    y = x.softplus()
    assert "softplus" in draw_dot(y).source
    (step,) = backward_steps(y)
    assert step.updates[0].parent is x
    assert step.updates[0].local_grad == sigmoid(0.5)


def register_bracketed(**options):
    @op(derivatives=(lambda a, b, out: 1.0, lambda a, b, out: 1.0), **options)
    def bracketed(a: float, b: float) -> float:
        return a + b

    return bracketed


@pytest.mark.parametrize("symbol", ["{}", "{0}", "⊕{x}", "}{"])
def test_an_ops_symbol_is_written_as_given_even_with_braces(op_table, symbol):
    register_bracketed(symbol=symbol)
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    y = a.bracketed(b)
    assert formula(y, {a: "a", b: "b"}) == f"a {symbol} b"
    assert draw_dot(y).source  # a drawing of it is made


@pytest.mark.parametrize("bad", ["{x}", "{2}", "{0", "{0!z}", "{0.real}", "{}"])
def test_an_ops_formula_may_name_only_its_operands_by_position(op_table, bad):
    with pytest.raises(ValueError, match=r"formula .* \{0\} and \{1\}"):
        register_bracketed(formula=bad)


def test_an_ops_formula_and_symbol_must_be_text(op_table):
    with pytest.raises(TypeError, match="formula must be a str"):
        register_bracketed(formula=3)
    with pytest.raises(TypeError, match="symbol must be a str"):
        register_bracketed(symbol=3)


def test_a_registered_activation_is_a_neuron_activation_fused_or_not(op_table):
    register_softplus(activation=True)
    assert "softplus" in ACTIVATIONS
    fused = Neuron(3, activation="softplus")
    plain = Neuron(3, activation="softplus", fused=False)
    for p, q in zip(plain.parameters(), fused.parameters()):
        p.data = q.data
    xs = [Value(0.5), Value(-1.0), Value(2.0)]
    ys = [Value(0.5), Value(-1.0), Value(2.0)]
    a, b = fused(xs), plain(ys)
    assert a.op == "dot-softplus" and a.data == b.data
    a.backward()
    b.backward()
    assert [v.grad for v in xs + fused.parameters()] == [v.grad for v in ys + plain.parameters()]
    assert repr(fused) == "SoftplusNeuron(3)"


def test_registering_a_name_again_replaces_the_op(op_table):
    register_softplus()
    twice = op(derivative=lambda x, out: 2.0, name="softplus")(lambda x: 2.0 * x)
    assert OPS["softplus"] is twice and Value(1.5).softplus().data == 3.0


@pytest.mark.parametrize(
    "mistake",
    [
        {"derivatives": [lambda a, b, out: 1.0] * 2, "activation": True},  # two operands
        {"derivative": lambda x, out: 1.0, "formula": "{2}"},  # a formula naming no operand
    ],
)
def test_a_failed_registration_leaves_the_op_it_would_replace_as_it_was(op_table, mistake):
    # a notebook cell re-run with a mistake in it
    softplus = register_softplus(activation=True)
    method = Value.softplus
    with pytest.raises(ValueError):
        op(name="softplus", **mistake)(lambda *xs: sum(xs))
    assert OPS["softplus"] is softplus and ACTIVATIONS["softplus"] is softplus
    assert OPS["dot-softplus"] is softplus.fused and Value.softplus is method
    assert Neuron(2, activation="softplus")([1.0, 2.0]).op == "dot-softplus"


def test_a_failed_registration_of_a_new_name_adds_nothing(op_table):
    with pytest.raises(ValueError):
        op(derivatives=[lambda a, b, out: 1.0] * 2, activation=True)(lambda a, b: a + b)
    assert "<lambda>" not in OPS and not hasattr(Value, "<lambda>")
    with pytest.raises(ValueError):
        op(name="twice", derivatives=[lambda a, b, out: 1.0] * 2, activation=True)(max)
    assert "twice" not in OPS and not hasattr(Value, "twice")


@pytest.mark.parametrize("name", ["tanh", "data", "backward", "grad", "not a name"])
def test_a_registered_op_cannot_take_a_name_of_micrograds_own(op_table, name):
    with pytest.raises(ValueError, match="name"):
        op(derivative=lambda x, out: 1.0, name=name)(lambda x: x)


def test_an_op_needs_one_derivative_per_operand(op_table):
    with pytest.raises(TypeError, match="derivative"):
        op()(lambda x: x)
    with pytest.raises(TypeError, match="derivative"):
        op(derivative=lambda x, out: 1.0, derivatives=[lambda x, out: 1.0])(lambda x: x)


def test_a_registered_op_of_two_operands_is_a_method_taking_the_other(op_table):
    @op(derivatives=(lambda a, b, out: a / out, lambda a, b, out: b / out))
    def hypot(a: float, b: float) -> float:
        """sqrt(a² + b²)."""
        # d/da hypot(a, b) = a / hypot(a, b), and the same for b
        return math.hypot(a, b)

    x, y = Value(3.0), Value(4.0)
    h = x.hypot(y)
    h.backward()
    assert (h.data, x.grad, y.grad) == (5.0, 0.6, 0.8)
    assert hypot(x, 4.0).data == 5.0


def test_an_error_in_a_registered_ops_forward_names_the_op_and_operand(op_table):
    @op(derivative=lambda x, out: 1.0 / x)
    def safelog(x: float) -> float:
        return math.log(x)

    with pytest.raises(ValueError, match=r"^safelog\(\) is undefined for -1.0 \(Value 'x'\): "):
        Value(-1.0, label="x").safelog()


def test_a_derivative_written_with_math_is_right_once_and_gradcheck_catches_it_twice(op_table):
    @op(derivative=lambda x, out: math.cos(x))  # math.cos makes a number of a Value
    def sine(x: float) -> float:
        return math.sin(x)

    x = Value(0.3)
    x.sine().backward()
    assert x.grad == math.cos(0.3)
    assert gradcheck(lambda x: x.sine(), [0.3])
    with pytest.raises(GradcheckError, match=r"d²f"):
        gradcheck(lambda x: x.sine(), [0.3], order=2)


def test_a_derivative_that_cannot_take_values_says_how_to_write_it(op_table):
    @op(derivative=lambda x, out: 1.0 / (1.0 + x.real**2))  # .real: floats only
    def arctan(x: float) -> float:
        return math.atan(x)

    x = Value(0.3)
    x.arctan().backward()
    assert x.grad == 1.0 / (1.0 + 0.3**2)
    with pytest.raises(TypeError, match=r"derivative rule of 'arctan' cannot be applied to Values"):
        grad(x.arctan(), [x], create_graph=True)


def test_a_registered_activation_with_a_torch_module_is_exported_to_pytorch(op_table):
    torch = pytest.importorskip("torch")
    from micrograd.torch import from_torch, to_torch

    register_softplus(activation=True, torch="Softplus")
    model = MLP(2, [3, 1], activation="softplus")
    net = to_torch(model)
    assert isinstance(net[1], torch.nn.Softplus)
    x = [0.5, -1.5]
    with torch.no_grad():
        out = net(torch.tensor([x], dtype=torch.float64)).item()
    assert out == pytest.approx(model(x).data, rel=1e-12)
    assert from_torch(net).layers[0].neurons[0].activation == "softplus"


def test_a_registered_activation_without_a_torch_module_is_refused_by_name(op_table):
    pytest.importorskip("torch")
    from micrograd.torch import to_torch

    register_softplus(activation=True)
    with pytest.raises(ValueError, match=r"'softplus', which has no PyTorch module"):
        to_torch(MLP(2, [3, 1], activation="softplus"))
