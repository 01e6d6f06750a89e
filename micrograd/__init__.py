"""micrograd: a scalar-valued autograd engine and a small neural-network library on top.

from micrograd import Value
x = Value(2.0, label="x")
y = x * x + 3 * x
y.backward()          # x.grad == 2*x + 3 == 7.0
"""

from micrograd.engine import Value, enable_grad, grad, is_grad_enabled, no_grad, op
from micrograd.functional import gradcheck

__all__ = ["Value", "op", "no_grad", "enable_grad", "is_grad_enabled", "grad", "gradcheck"]
__version__ = "0.1.0"
