"""gradcheck: it passes correct derivatives and names the input of a wrong one.

The wrong derivatives are made by monkeypatching the derivative rule of tanh's row
in the op table: wrong on floats (what backward() and grad() use) for first
derivatives, and wrong only on Values (what create_graph=True uses) for second ones.
"""

from __future__ import annotations

import math
import re

import pytest

from micrograd import engine
from micrograd.engine import Value
from micrograd.functional import GradcheckError, gradcheck


def wrong_tanh_slope(monkeypatch):
    """Make tanh's derivative rule 1 - tanh(x) (not 1 - tanh(x)²), on floats and Values."""
    monkeypatch.setattr(engine.tanh, "derivatives", (lambda x, out: 1.0 - out,))


def wrong_tanh_second_derivative(monkeypatch):
    """Keep tanh's slope right, but not the slope of that slope.

    The rule 1 - t * float(t) has the number 1 - tanh(x)² but differentiates as if
    one factor tanh(x) were a constant: to -tanh(x)(1 - tanh(x)²), half the truth.
    """
    monkeypatch.setattr(engine.tanh, "derivatives", (lambda x, out: 1.0 - out * float(out),))


def wrong_tanh_value_rule(monkeypatch):
    """Keep tanh's rule right on floats, but make it 1 - tanh(x) on Values."""

    def rule(x, out):
        return 1.0 - out if isinstance(out, Value) else 1.0 - out * out

    monkeypatch.setattr(engine.tanh, "derivatives", (rule,))


# ---- correct derivatives pass ---------------------------------------------------------------


@pytest.mark.parametrize("order", [1, 2])
def test_gradcheck_passes_a_correct_function_of_several_inputs(order):
    def f(x, y, z):
        return (x * y).tanh() + (z * z + 1.0).log() * y - x.sigmoid() / (y * y + 1.0)

    assert gradcheck(f, [0.3, -1.2, 2.0], order=order) is True


def test_gradcheck_accepts_a_single_number_as_the_point():
    assert gradcheck(lambda x: x.exp(), 0.5)


def test_gradcheck_passes_a_function_of_large_inputs():
    # h = eps * |x|: a step of 1e-6 would be lost in the rounding of x = 1e6
    assert gradcheck(lambda x, y: x * y + y * y, [1e6, -3e5], order=2)


def test_gradcheck_passes_an_input_the_output_does_not_depend_on():
    assert gradcheck(lambda x, y: x * x, [1.5, 2.0], order=2)


def test_gradcheck_leaves_the_grad_of_closed_over_values_untouched():
    weight = Value(2.0)
    gradcheck(lambda x: weight * x.tanh(), [0.7], order=2)
    assert weight.grad == 0.0


# ---- wrong derivatives fail, naming the input -------------------------------------------------


def test_gradcheck_names_the_input_whose_derivative_is_wrong(monkeypatch):
    wrong_tanh_slope(monkeypatch)
    with pytest.raises(GradcheckError, match=r"df/d\(inputs\[1\]\) at inputs \[2.0, 0.5\]"):
        gradcheck(lambda x, y: x * 3.0 + y.tanh(), [2.0, 0.5])


def test_gradcheck_error_shows_both_values_and_their_difference(monkeypatch):
    wrong_tanh_slope(monkeypatch)
    with pytest.raises(GradcheckError) as failure:
        gradcheck(Value.tanh, [0.5])
    shown = re.search(r"analytic (\S+), numerical (\S+), difference (\S+) ", str(failure.value))
    analytic, numerical, difference = (float(x) for x in shown.groups())
    t = math.tanh(0.5)
    assert analytic == 1.0 - t  # the wrong slope
    assert numerical == pytest.approx(1.0 - t * t, rel=1e-8)  # the right one
    assert difference == analytic - numerical


def test_gradcheck_error_is_an_assertion_error(monkeypatch):
    wrong_tanh_slope(monkeypatch)
    with pytest.raises(AssertionError):
        gradcheck(Value.tanh, [0.5])


def test_gradcheck_of_order_1_does_not_look_at_second_derivatives(monkeypatch):
    wrong_tanh_second_derivative(monkeypatch)
    assert gradcheck(lambda x, y: x + y.tanh(), [2.0, 0.5], order=1)


def test_gradcheck_of_order_2_names_the_inputs_of_a_wrong_second_derivative(monkeypatch):
    wrong_tanh_second_derivative(monkeypatch)
    with pytest.raises(GradcheckError, match=r"d²f/d\(inputs\[1\]\)d\(inputs\[1\]\)"):
        gradcheck(lambda x, y: x + y.tanh(), [2.0, 0.5], order=2)


def test_gradcheck_of_order_2_checks_the_numbers_of_the_gradient_made_with_create_graph(
    monkeypatch,
):
    wrong_tanh_value_rule(monkeypatch)
    with pytest.raises(GradcheckError, match=r"df/d\(inputs\[1\]\) .*: with create_graph=True"):
        gradcheck(lambda x, y: x + y.tanh(), [2.0, 0.5], order=2)


def test_gradcheck_fails_on_a_nan_derivative():
    # d/dx |x|**0.5 at 0: the engine gives inf * 0 = NaN; the differences give 0
    with pytest.raises(GradcheckError, match=r"analytic nan"):
        gradcheck(lambda x: (x * 0.0).sqrt() + x, [0.0])


def test_gradcheck_tolerances_decide_what_passes():
    # A kink: the differences straddle it, so they give the average slope (0.5), not 1.0
    with pytest.raises(GradcheckError):
        gradcheck(Value.relu, [0.0], eps=1e-3)
    assert gradcheck(Value.relu, [0.0], eps=1e-3, atol=0.6)


# ---- bad arguments -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"f": 3.0}, TypeError, r"gradcheck\(\) f must be a function, got float 3.0"),
        ({"inputs": []}, ValueError, r"gradcheck\(\) inputs must hold at least one number"),
        ({"inputs": "12"}, TypeError, r"gradcheck\(\) inputs must be a number or a sequence"),
        ({"inputs": [1.0, "2"]}, TypeError, r"gradcheck\(\) inputs\[1\] must be a real number"),
        (
            {"inputs": [Value(1.0)]},
            TypeError,
            r"gradcheck\(\) inputs\[0\] must be a number, got a Value",
        ),
        ({"inputs": [math.inf]}, ValueError, r"gradcheck\(\) inputs\[0\] must be finite, got inf"),
        ({"eps": 0.0}, ValueError, r"gradcheck\(\) eps must be a finite number > 0, got 0.0"),
        ({"eps": -1e-6}, ValueError, r"gradcheck\(\) eps must be a finite number > 0"),
        ({"eps": "1e-6"}, TypeError, r"gradcheck\(\) eps must be a number, got str"),
        ({"atol": -1.0}, ValueError, r"gradcheck\(\) atol must be a finite number >= 0"),
        ({"rtol": math.nan}, ValueError, r"gradcheck\(\) rtol must be a finite number >= 0"),
        ({"order": 3}, ValueError, r"gradcheck\(\) order must be 1 or 2, got 3"),
        ({"order": True}, ValueError, r"gradcheck\(\) order must be 1 or 2, got True"),
    ],
)
def test_gradcheck_rejects_bad_arguments_naming_them(kwargs, error, message):
    arguments = {"f": Value.tanh, "inputs": [0.5], **kwargs}
    with pytest.raises(error, match=message):
        gradcheck(**arguments)


def test_gradcheck_rejects_an_f_that_does_not_return_a_value():
    with pytest.raises(TypeError, match=r"gradcheck\(\) f must return a Value, got float 1.0"):
        gradcheck(lambda x: 1.0, [0.5])
