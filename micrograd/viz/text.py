"""How drawings and step tables write things: op symbols, numbers, formulas, record fields.

Every op-name -> symbol lookup reads the engine's op table (micrograd.engine.OPS).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import graphviz

from micrograd.engine import OPS, Value

__all__ = [
    "op_symbol",
    "order_matters",
    "format_number",
    "format_constant",
    "formula",
    "op_formula",
    "visible",
    "dot_label",
    "dot_tooltip",
    "dot_lines",
    "record_label",
]


def op_symbol(op: str) -> str:
    """How a drawing writes the op named `op`: "*", "Σ", "tanh(w·x+b)"... (its name if unknown)."""
    row = OPS.get(op)
    return op if row is None else row.symbol


def order_matters(op: str) -> bool:
    """Whether the op's operands cannot be swapped (-, /, **). Graphviz places an op's
    inputs where the layout suits it, so their ovals spell the order out: "1 - x"."""
    row = OPS.get(op)
    return row is not None and row.arity == 2 and not row.commutative


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


def formula(v: Value, names: Mapping[Any, str]) -> str:
    """How v was computed, in names: "#3 * 2", "tanh(#4)", "Σ(#1, #2, #3)"."""
    return op_formula(v.op, v.operands, names)


def op_formula(op: str, operands: Sequence, names: Mapping[Any, str]) -> str:
    """op applied to operands (nodes, named by `names`, and plain numbers), as written."""
    parts = [format_constant(o) if isinstance(o, (int, float)) else names[o] for o in operands]
    row = OPS.get(op)
    if row is not None and row.formula is not None and len(parts) == row.arity:
        return row.formula.format(*parts)
    if len(parts) > 8:
        parts = [*parts[:6], "...", parts[-1]]
    return f"{op_symbol(op)}({', '.join(parts)})"


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


def _escape_plain(text: str, structure: str = "", backslash: str = "\\\\") -> str:
    """text for a plain-text DOT label or record field: shown exactly as written.

    Every label and tooltip a drawing makes goes through here. Control characters
    become visible escapes (see visible); each backslash is written as `backslash`
    (two of them in a label), so Graphviz's escapes such as \\N or \\n, and a
    trailing backslash before the closing quote, lose their meaning; `&` becomes
    `&amp;`, because Graphviz decodes entities such as `&alpha;` even in a plain
    label; quotes, and the characters in `structure` (a record's braces, bars and
    angle brackets), get a backslash.
    """
    text = visible(text).replace("\\", backslash).replace("&", "&amp;")
    for char in '"' + structure:
        text = text.replace(char, "\\" + char)
    return text


def dot_label(text: str) -> str:
    """text as a plain-text DOT label (_escape_plain), which graphviz.nohtml keeps from
    becoming an HTML-like label such as `<<B>x</B>>`."""
    return graphviz.nohtml(_escape_plain(text))


def dot_tooltip(text: str) -> str:
    """text as a DOT tooltip, shown exactly as written (and never an HTML-like string).
    Graphviz reads a tooltip's escapes twice (\\N, then \\\\), so each backslash is
    written as four."""
    return graphviz.nohtml(_escape_plain(text, backslash="\\" * 4))


def dot_lines(*lines: str) -> str:
    """Lines of plain text as one DOT label, each escaped as dot_label escapes it."""
    return graphviz.nohtml("\\n".join(_escape_plain(line) for line in lines))


def record_label(fields: Sequence[str], across: bool) -> str:
    """A DOT record label of plain-text fields, in one row (`across`) or one column.

    Each field is escaped as dot_label escapes, and the characters that structure
    a record (braces, bars, angle brackets) are escaped too.
    """
    label = " | ".join(_escape_plain(field, structure="{}|<>") for field in fields)
    return graphviz.nohtml(f"{{ {label} }}" if across else label)
