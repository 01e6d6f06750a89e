"""How drawings and step tables write things: op symbols, numbers, formulas, record fields.

Every op-name -> symbol lookup goes through op_symbol(), so that the engine's op
table can take it over in one line.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

import graphviz

from micrograd.engine import Value

__all__ = [
    "OP_LABELS",
    "op_symbol",
    "format_number",
    "format_constant",
    "formula",
    "visible",
    "dot_label",
    "record_label",
]

# How each op is written in its oval. Ops not listed are shown by their name.
OP_LABELS = {
    "+": "+",
    "-": "-",
    "*": "*",
    "/": "/",
    "**": "**",
    "r-": "-",  # c - x
    "r/": "/",  # c / x
    "r**": "**",  # c ** x
    "neg": "neg",
    "abs": "abs",
    "relu": "relu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "exp": "exp",
    "log": "log",
    "sqrt": "sqrt",
    "sum": "Σ",
    "dot": "w·x+b",
    # a whole neuron fused into one node: the activation of its w·x+b
    "dot-relu": "relu(w·x+b)",
    "dot-tanh": "tanh(w·x+b)",
    "dot-sigmoid": "sigmoid(w·x+b)",
}

# Ops whose operand order matters. Graphviz places an op's inputs where the layout
# suits it, so their ovals spell out the order: "#3 - 1", "1 - x", "a / b".
ORDERED_OPS = frozenset({"-", "/", "**", "r-", "r/", "r**"})
_INFIX_OPS = frozenset({"+", "-", "*", "/", "**", "r-", "r/", "r**"})


def op_symbol(op: str) -> str:
    """How a drawing writes the op named `op`: "*", "Σ", "tanh(w·x+b)"... (its name if unknown)."""
    return OP_LABELS.get(op, op)


def format_number(x: float, decimals: int | None = None) -> str:
    """x for display: with `decimals` places ("1.2345"), or compact ("2", "0.1", "1e-07")."""
    x = x + 0.0  # -0.0 shows as 0
    if decimals is None:
        return f"{x:.4g}"
    if x == 0.0 or 10.0**-decimals <= abs(x) < 1e6:
        return f"{x:.{decimals}f}"
    return f"{x:.{decimals}g}"  # tiny, huge, inf and nan: "1.235e-07", "inf"


def format_constant(c: float) -> str:
    """A plain-number operand as written, to 6 significant digits: "2", "0.1", "0.333333"."""
    return f"{c + 0.0:.6g}"


def formula(v: Value, names: Mapping[Value, str]) -> str:
    """How v was computed, in names: "#3 * 2", "tanh(#4)", "Σ(#1, #2, #3)"."""
    parts = [names[o] if isinstance(o, Value) else format_constant(o) for o in v.operands]
    if v.op in _INFIX_OPS and len(parts) == 2:
        return f"{parts[0]} {op_symbol(v.op)} {parts[1]}"
    if v.op == "neg":
        return f"-{parts[0]}"
    if v.op == "abs":
        return f"|{parts[0]}|"
    if len(parts) > 8:
        parts = [*parts[:6], "...", parts[-1]]
    return f"{op_symbol(v.op)}({', '.join(parts)})"


def visible(text: str) -> str:
    """text with tabs and line breaks as spaces, other control characters as escapes (\\x00).

    What is left can be printed, encoded as UTF-8 and laid out on one line.
    """
    return "".join(
        " " if char in "\t\n\r" else _escape_char(char) if _is_control(char) else char
        for char in text
    )


def _is_control(char: str) -> bool:
    # Cc: NUL, bell, escape...; Cs: lone surrogates, which UTF-8 cannot encode
    return unicodedata.category(char) in ("Cc", "Cs")


def _escape_char(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def dot_label(text: str) -> str:
    """text as a plain-text DOT label: shown exactly as written, whatever it holds.

    Backslashes are doubled (so Graphviz's escapes such as \\N or \\n, and a
    trailing backslash before the closing quote, lose their meaning), quotes are
    escaped, and graphviz.nohtml stops a label like `<<B>x</B>>` becoming HTML.
    """
    return graphviz.nohtml(visible(text).replace("\\", "\\\\").replace('"', '\\"'))


def record_label(fields: Sequence[str], across: bool) -> str:
    """A DOT record label of plain-text fields, in one row (`across`) or one column.

    Each field is escaped as dot_label escapes, and the characters that structure
    a record (braces, bars, angle brackets) are escaped too.
    """
    escaped = []
    for field in fields:
        text = visible(field).replace("\\", "\\\\")
        for char in '{}|<>"':
            text = text.replace(char, "\\" + char)
        escaped.append(text)
    label = " | ".join(escaped)
    return graphviz.nohtml(f"{{ {label} }}" if across else label)
