"""Per-row writers: the Python the compiler writes for a node of each op row.

Every program the compiler writes (a line per node, or loops) asks `writer(row)`
for the code of a node: its forward expression, from its operands' expressions,
and its chain-rule step, what it adds to each operand's gradient. The generic
writer, `RuleWriter`, binds the row's own forward rule and derivative rules into
the program's namespace and calls them, so any row compiles, a learner's
registered op like a built-in one. A few built-in rows have fast paths that write
their rule inline (`a * b`, `1.0 - y * y`); tests/test_compiler.py pins each to its
row, bit for bit, NaN and inf included, for every row of micrograd.engine.OPS.
"""

from __future__ import annotations

import keyword
import math
import re
import struct
import unicodedata
from collections.abc import Callable
from typing import Any

from micrograd.engine import Op, add, mul, relu, sub, tanh

__all__ = ["Namespace", "RowWriter", "RuleWriter", "writer"]


class Namespace:
    """The globals of one program: the rules it calls and the constants a literal
    cannot write, each under a name that no other global and no variable has."""

    def __init__(self, variable: re.Pattern[str]) -> None:
        self.variable = variable  # the program's own variable names: never a global's
        self.values: dict[str, Any] = {"inf": math.inf}
        self._functions: dict[int, str] = {}  # id(a rule) -> its name here
        self._nans: dict[bytes, str] = {}  # a NaN's bits -> its name here

    def number(self, x: float) -> str:
        """A plain number as the program writes it: the same float (repr round-trips)."""
        if math.isnan(x):  # a name, not `nan`: NaNs differ in sign and payload bits
            key = struct.pack("<d", x)
            if key not in self._nans:
                self._nans[key] = self.name_for("nan")
                self.values[self._nans[key]] = x
            return self._nans[key]
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return repr(float(x))

    def function(self, f: Callable[..., Any], hint: str) -> str:
        """A name for the rule f in the namespace (each rule once), made from `hint`."""
        if id(f) not in self._functions:
            self._functions[id(f)] = self.name_for(hint)
            self.values[self._functions[id(f)]] = f
        return self._functions[id(f)]

    def name_for(self, hint: str) -> str:
        """`hint` as an identifier no other global and no variable of the program has."""
        label = identifier(hint)
        # two rules of one name, or a rule named like a variable (a rule `v1` would be
        # shadowed by the node v1): a trailing _ tells them apart
        while label in self.values or self.variable.fullmatch(label):
            label += "_"
        return label


def identifier(text: str) -> str:
    """Any text as a plain ASCII Python identifier ("_lambda_" for "<lambda>").

    Only ASCII letters, digits and _ are kept: Python reads other letters in names
    through NFKC, so a full-width ｔａｎｈ or a superscript would become another name.
    """
    text = unicodedata.normalize("NFKC", text)
    cleaned = "".join(c if (c.isascii() and (c.isalnum() or c == "_")) else "_" for c in text)
    if not cleaned.isidentifier():  # empty, or starts with a digit
        cleaned = "f_" + cleaned
    return cleaned + "_" if keyword.iskeyword(cleaned) else cleaned


def rule_name(row: Op, rule: Callable[..., Any], fallback: str) -> str:
    """A hint for a rule's name in the program: its __name__, or the row's name (a
    functools.partial or a callable object has no __name__)."""
    name = getattr(rule, "__name__", None)
    return name if isinstance(name, str) and name != "<lambda>" else fallback


class RowWriter:
    """The code of a node of one row, written from its operands' expressions.

    `operands` are the program's expressions for the node's operands (a variable,
    or a literal for a plain number); `grads` the variables of their gradients (None
    for a plain number, which gets none); `out` the node's own variable, `g` its
    gradient's, and `temp` a prefix for any variable the step needs.
    """

    def forward(self, row: Op, ns: Namespace, operands: list[str]) -> str:
        raise NotImplementedError

    def backward(
        self,
        row: Op,
        ns: Namespace,
        operands: list[str],
        out: str,
        g: str,
        grads: list[str | None],
        temp: str,
    ) -> list[str]:
        raise NotImplementedError


class RuleWriter(RowWriter):
    """Any row: its forward rule and its derivative rules, called from the namespace.

    The row's own functions, so the same floats as the Value path, whatever they do.
    A derivative of None passes nothing back (a relu that is off), as in backward().
    """

    def forward(self, row: Op, ns: Namespace, operands: list[str]) -> str:
        assert row.forward is not None, f"the op {row.name!r} has no forward rule"
        f = ns.function(row.forward, rule_name(row, row.forward, row.name))
        return f"{f}({', '.join(operands)})"

    def backward(self, row, ns, operands, out, g, grads, temp):
        assert row.forward is not None
        base = rule_name(row, row.forward, row.name)
        args = ", ".join([*operands, out])
        lines = []
        for i, grad in enumerate(grads):
            if grad is None:
                continue
            which = "" if row.arity == 1 else f"_{'ab'[i]}"  # d_div_a, d_div_b
            derivative = ns.function(row.derivatives[i], f"d_{base}{which}")
            d = f"{temp}_{i}"
            lines += [
                f"{d} = {derivative}({args})",
                f"if {d} is not None:  # None: it passes nothing back",
                f"    {grad} += {d} * {g}",
            ]
        return lines


class _Add(RowWriter):
    """a + b; d(a+b)/da = d(a+b)/db = 1."""

    def forward(self, row, ns, operands):
        return f"{operands[0]} + {operands[1]}"

    def backward(self, row, ns, operands, out, g, grads, temp):
        return [f"{grad} += {g}" for grad in grads if grad is not None]


class _Sub(RowWriter):
    """a - b; d(a-b)/da = 1, d(a-b)/db = -1: -1.0 * g, as backward() multiplies (-g
    would flip the sign bit of a NaN, which -1.0 * NaN keeps)."""

    def forward(self, row, ns, operands):
        return f"{operands[0]} - {operands[1]}"

    def backward(self, row, ns, operands, out, g, grads, temp):
        a, b = grads
        return ([] if a is None else [f"{a} += {g}"]) + (  # 1.0 * g is g
            [] if b is None else [f"{b} += -1.0 * {g}"]
        )


class _Mul(RowWriter):
    """a * b; d(a*b)/da = b, d(a*b)/db = a. Times the number 1.0 is written as nothing:
    x * 1.0 is x, to the last bit (-0.0 and NaN included)."""

    def forward(self, row, ns, operands):
        a, b = operands
        return a if b == "1.0" else b if a == "1.0" else f"{a} * {b}"

    def backward(self, row, ns, operands, out, g, grads, temp):
        (a, b), (ga, gb) = operands, grads
        return ([] if ga is None else [f"{ga} += {_times(b, g)}"]) + (
            [] if gb is None else [f"{gb} += {_times(a, g)}"]
        )


def _times(factor: str, g: str) -> str:
    return g if factor == "1.0" else f"{factor} * {g}"


class _Relu(RowWriter):
    """relu(x) = 0 if x <= 0 else x; it passes g back only where it is on (not even
    0 * an infinite gradient where it is off). NaN stays NaN and passes g on."""

    def forward(self, row, ns, operands):
        return f"0.0 if {operands[0]} <= 0.0 else {operands[0]}"

    def backward(self, row, ns, operands, out, g, grads, temp):
        if grads[0] is None:
            return []
        return [f"if not {operands[0]} <= 0.0:", f"    {grads[0]} += {g}"]  # 1.0 * g is g


class _Tanh(RowWriter):
    """tanh(x) by math.tanh; d/dx tanh(x) = 1 - tanh(x)**2, from the node's own number."""

    def forward(self, row, ns, operands):
        return f"{ns.function(math.tanh, 'tanh')}({operands[0]})"

    def backward(self, row, ns, operands, out, g, grads, temp):
        if grads[0] is None:
            return []
        return [f"{grads[0]} += (1.0 - {out} * {out}) * {g}"]


# The fast paths, by row; every other row gets the generic writer.
_FAST: dict[Op, RowWriter] = {add: _Add(), sub: _Sub(), mul: _Mul(), relu: _Relu(), tanh: _Tanh()}
_GENERIC = RuleWriter()


def writer(row: Op) -> RowWriter:
    """The writer of a row's nodes: its fast path, or the generic one."""
    return _FAST.get(row, _GENERIC)
