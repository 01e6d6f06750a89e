"""op(): registering an op of one's own, and the checks a registration passes.

A registered op is a row of the table like a built-in one: a Value method, an
activation, drawn, stepped through and differentiated twice. A registration that
fails changes nothing; a name or a rule that would break every Value is refused by name.
"""

from __future__ import annotations

import functools
import math
import threading

import pytest
from helpers import numerical_grad

from micrograd import Value, gradcheck, op
from micrograd.engine import ACTIVATIONS, OPS, backward_steps, grad, sigmoid
from micrograd.functional import GradcheckError
from micrograd.nn import MLP, Neuron
from micrograd.viz import draw_dot
from micrograd.viz.text import formula


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


# ---- names that would break every Value (issue 22, item 6) -------------------------------------


@pytest.mark.parametrize(
    "name", ["__del__", "__getattr__", "__bool__", "__len__", "__name__", "_a"]
)
def test_a_name_with_a_leading_underscore_is_refused(op_table, name):
    with pytest.raises(ValueError, match="underscore"):
        op(derivative=lambda x, out: 1.0, name=name)(lambda x: x)
    assert name not in OPS
    assert bool(Value(0.0)) is True and getattr(Value(1.0), "missing", None) is None


@pytest.mark.parametrize("name", ["class", "None", "lambda"])
def test_a_python_keyword_is_refused_as_a_name(op_table, name):
    with pytest.raises(ValueError, match="keyword"):
        op(derivative=lambda x, out: 1.0, name=name)(lambda x: x)
    assert name not in OPS


def test_a_name_python_reads_as_another_is_refused(op_table):
    with pytest.raises(ValueError, match=r"reads the op name 'ｔａｎｈ' as 'tanh'"):
        op(derivative=lambda x, out: 1.0, name="ｔａｎｈ")(lambda x: x)
    assert Value(0.5).tanh().data == math.tanh(0.5)


def test_an_activation_cannot_be_named_linear(op_table):
    with pytest.raises(ValueError, match="'linear' is the name of no activation"):
        op(derivative=lambda x, out: 1.0, name="linear", activation=True)(lambda x: 2.0 * x)
    assert "linear" not in ACTIVATIONS and Neuron(1, activation="linear")([1.0]).op == "dot"


# ---- a failed registration adds nothing (item 7) ---------------------------------------------------


def test_a_refused_special_name_leaves_no_row_behind(op_table):
    before = dict(OPS)
    with pytest.raises(ValueError):
        op(derivative=lambda x, out: 1.0, name="__name__")(lambda x: x)
    assert before == OPS


# ---- what a user's rules return (item 8) -------------------------------------------------------------


def test_a_forward_rule_that_returns_an_int_stores_a_float(op_table):
    @op(derivative=lambda x, out: 0.0)
    def floor(x: float) -> float:
        return math.floor(x)

    y = Value(2.7).floor()
    assert type(y.data) is float and y.data == 2.0
    assert (Value(-2.0) ** y).data == 4.0


@pytest.mark.parametrize("result", ["2.0", None, 1 + 2j])
def test_a_forward_rule_that_returns_no_real_number_is_a_type_error_naming_the_op(op_table, result):
    op(derivative=lambda x, out: 1.0, name="odd")(lambda x: result)
    with pytest.raises(TypeError, match=r"forward rule of op 'odd' must return a real number"):
        Value(1.0).odd()


def test_a_derivative_that_raises_names_the_op_and_changes_no_gradient(op_table):
    op(derivative=lambda x, out: 1.0 / x, name="shaky")(lambda x: x)
    w = Value(3.0)
    w.grad = 5.0
    with pytest.raises(ZeroDivisionError, match=r"derivative rule of op 'shaky' for operand 0"):
        loss = w * 2.0 + Value(0.0).shaky()
        loss.backward()
    assert w.grad == 5.0


@pytest.mark.parametrize("local", ["1.0", 1j, object()])
def test_a_derivative_that_gives_no_number_names_the_op(op_table, local):
    op(derivative=lambda x, out: local, name="wordy")(lambda x: x)
    with pytest.raises(
        TypeError, match=r"derivative rule of op 'wordy' .* must give a real number"
    ):
        Value(1.0).wordy()


def test_a_derivative_may_pass_nothing_back_with_none(op_table):
    op(derivative=lambda x, out: None, name="stop")(lambda x: x)
    x = Value(2.0)
    x.stop().backward()
    assert x.grad == 0.0


# ---- registering again never leaves a gap (item 9) -------------------------------------------------


def test_re_registering_an_activation_never_hides_it_from_another_thread(op_table):
    register_softplus(activation=True)
    misses: list[Exception] = []
    done = threading.Event()

    def use() -> None:
        while not done.is_set():
            try:
                Value.dot([Value(1.0)], [2.0], None, "softplus")
            except ValueError as error:
                misses.append(error)

    reader = threading.Thread(target=use)
    reader.start()
    try:
        for _ in range(3000):
            register_softplus(activation=True)
    finally:
        done.set()
        reader.join()
    assert misses == []


# ---- rules without a name (issue 22, item 11) ------------------------------------------------------


def test_a_forward_rule_without_a_name_needs_name_given(op_table):
    scale = functools.partial(lambda k, x: k * x, 2.0)
    with pytest.raises(TypeError, match="needs name="):
        op(derivative=lambda x, out: 2.0)(scale)
    op(derivative=lambda x, out: 2.0, name="double")(scale)
    assert Value(1.5).double().data == 3.0
