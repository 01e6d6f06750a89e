"""micrograd.functional: derivative(f), value_and_grad(f) and hessian(f), and the package exports."""

from __future__ import annotations

import pytest

import micrograd
from micrograd import engine, functional
from micrograd.engine import Value, no_grad
from micrograd.functional import derivative, hessian, value_and_grad


def f(x, y):
    """x²y + 3xy²: df/dx = 2xy + 3y², df/dy = x² + 6xy; at (1, 2) f = 14."""
    return x * x * y + 3 * x * y * y


# ---- derivative -------------------------------------------------------------------------


def test_derivative_differentiates_with_respect_to_the_first_argument_by_default():
    assert derivative(f)(1.0, 2.0) == 16.0


def test_derivative_with_an_int_argnum_differentiates_with_respect_to_that_argument():
    assert derivative(f, argnum=1)(1.0, 2.0) == 13.0


def test_derivative_with_a_tuple_of_argnums_returns_a_tuple_of_derivatives():
    assert derivative(f, argnum=(1, 0))(1.0, 2.0) == (13.0, 16.0)


def test_derivative_returns_a_plain_float():
    assert type(derivative(f)(1.0, 2.0)) is float


def test_derivative_accepts_ints_as_the_point():
    assert derivative(lambda x: x**3)(2) == 12.0


def test_derivative_passes_the_other_arguments_as_given():
    def power(x, n, scale=1.0):
        assert type(n) is int  # not turned into a Value: it may be used as an int
        out = x
        for _ in range(n - 1):
            out = out * x
        return out * scale

    assert derivative(power)(2.0, 3, scale=0.5) == 6.0  # 0.5 * 3x²


def test_derivative_of_an_argument_f_does_not_use_is_zero():
    assert derivative(lambda x, y: x * 2.0, argnum=(0, 1))(1.0, 5.0) == (2.0, 0.0)


def test_derivative_leaves_the_grad_of_values_f_closes_over_untouched():
    weight = Value(3.0)
    assert derivative(lambda x: weight * x * x)(2.0) == 12.0
    assert weight.grad == 0.0


def test_derivative_differentiates_inside_no_grad():
    with no_grad():
        assert (
            derivative(lambda x: x.tanh() * x)(0.0) == 0.0
        )  # d/dx x tanh x = tanh x + x (1 - tanh² x)
        assert derivative(lambda x: x * x)(3.0) == 6.0


def test_derivative_of_f_is_named_after_f():
    assert derivative(f).__name__ == "derivative_of_f"


# ---- value_and_grad ---------------------------------------------------------------------


def test_value_and_grad_returns_the_value_and_the_derivative():
    assert value_and_grad(f)(1.0, 2.0) == (14.0, 16.0)


def test_value_and_grad_with_a_tuple_of_argnums_returns_a_tuple_of_derivatives():
    assert value_and_grad(f, argnum=(0, 1))(1.0, 2.0) == (14.0, (16.0, 13.0))


def test_value_and_grad_calls_f_once():
    calls = []

    def counted(x):
        calls.append(x)
        return x * x

    value_and_grad(counted)(3.0)
    assert len(calls) == 1


# ---- hessian ----------------------------------------------------------------------------


def test_hessian_of_x2y_plus_3xy2_at_1_2_is_4_14_14_6():
    assert hessian(f)(1.0, 2.0) == [[4.0, 14.0], [14.0, 6.0]]


def test_hessian_with_an_int_argnum_is_that_second_derivative():
    assert hessian(lambda x: x**3)(2.0) == [[12.0]]
    assert hessian(lambda x: x**3, argnum=0)(2.0) == 12.0


def test_hessian_with_a_tuple_of_argnums_covers_only_those_arguments():
    assert hessian(f, argnum=(1,))(1.0, 2.0) == [[6.0]]


def test_hessian_of_a_function_linear_in_an_argument_has_zeros_for_it():
    # g = 3x + y²: d²g/dx² = d²g/dxdy = 0, d²g/dy² = 2
    assert hessian(lambda x, y: 3 * x + y * y)(1.0, 2.0) == [[0.0, 0.0], [0.0, 2.0]]


def test_hessian_of_an_argument_f_does_not_use_is_zero():
    assert hessian(lambda x, y: x * x)(1.0, 2.0) == [[2.0, 0.0], [0.0, 0.0]]


def test_hessian_returns_plain_floats():
    rows = hessian(f)(1.0, 2.0)
    assert all(type(h) is float for row in rows for h in row)


# ---- bad arguments ----------------------------------------------------------------------


@pytest.mark.parametrize("helper", [derivative, value_and_grad, hessian])
def test_helpers_reject_an_f_that_is_not_callable(helper):
    with pytest.raises(TypeError, match=r"f must be a function, got float 3.0"):
        helper(3.0)


@pytest.mark.parametrize(
    ("argnum", "error", "message"),
    [
        ("0", TypeError, r"argnum must be an int or a tuple of ints, got str '0'"),
        (1.0, TypeError, r"argnum must be an int or a tuple of ints, got float"),
        ((0, 1.0), TypeError, r"argnum must hold ints, got float 1.0"),
        (True, TypeError, r"argnum must hold ints, got bool True"),
        ((), ValueError, r"argnum must name at least one argument"),
        (-1, ValueError, r"argnum must be >= 0, got -1"),
        ((0, 0), ValueError, r"argnum must not repeat an argument"),
    ],
)
def test_derivative_rejects_a_bad_argnum_naming_it(argnum, error, message):
    with pytest.raises(error, match=message):
        derivative(f, argnum=argnum)


def test_derivative_names_the_argument_it_was_not_given():
    message = r"derivative\(f\): differentiates with respect to argument 1, but was called with 1"
    with pytest.raises(TypeError, match=message):
        derivative(f, argnum=1)(1.0)


def test_derivative_rejects_a_value_as_the_point_and_says_to_pass_its_data():
    with pytest.raises(
        TypeError, match=r"argument 0 must be a number, got a Value; pass its .data"
    ):
        derivative(f)(Value(1.0), 2.0)


def test_derivative_rejects_a_point_that_is_not_a_number():
    with pytest.raises(TypeError, match=r"argument 0 must be a real number, got str '1'"):
        derivative(f)("1", 2.0)


@pytest.mark.parametrize("helper", [derivative, value_and_grad, hessian])
def test_helpers_reject_an_f_that_does_not_return_a_value(helper):
    with pytest.raises(TypeError, match=r"f must return a Value, got float 4.0"):
        helper(lambda x: 4.0)(1.0)


# ---- the package exports ------------------------------------------------------------------


def test_the_package_exports_the_engines_grad_and_gradcheck():
    assert micrograd.grad is engine.grad
    assert micrograd.gradcheck is functional.gradcheck
    assert {"grad", "gradcheck"} <= set(micrograd.__all__)


def test_grad_of_a_function_and_grad_of_a_graph_have_a_name_each():
    assert "derivative" in functional.__all__ and "grad" not in functional.__all__
    assert functional.derivative is not micrograd.grad


def test_the_old_name_of_derivative_still_works():
    assert functional.grad is functional.derivative  # notebook 05 imports it by this name
