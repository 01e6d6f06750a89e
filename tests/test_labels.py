"""Anything a user types reaches a drawing as plain text, in every position.

Labels are rendered for real (system dot or graphviz-pure) and read back from the
SVG's <text> elements: what the picture shows must be exactly what was typed, with
control characters shown as escapes. Nothing a label holds may change the DOT
syntax, turn into an HTML-like label, or make the renderer open a file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

import pytest

from micrograd.engine import Value
from micrograd.viz import draw_dot, render, step_through

SVG = "{http://www.w3.org/2000/svg}"

# (what the user typed, what the picture shows)
HOSTILE_LABELS = [
    ("a\\", "a\\"),  # a trailing backslash would escape DOT's closing quote
    ("a\\\\", "a\\\\"),
    ("\\N", "\\N"),  # Graphviz's escape for "the node's name"
    ("\\n", "\\n"),  # and for a line break
    ('say "hi"', 'say "hi"'),
    ('"', '"'),
    ("<<B>pwn</B>>", "<<B>pwn</B>>"),  # an HTML-like label, if it reached DOT bare
    ("{x|<p>y}", "{x|<p>y}"),  # record structure
    ("a\x00b", "a\\x00b"),  # NUL ends a C string
    ("bell\x07", "bell\\x07"),
    ("tab\there", "tab here"),
    ("line\nbreak", "line break"),
    ("σ(w·x) ∑ 🙂", "σ(w·x) ∑ 🙂"),
    ("&amp;", "&amp;"),  # Graphviz decodes entities even in a plain label: "&"
    ("&alpha;", "&alpha;"),  # "α"
    ("&#60;b&#62;", "&#60;b&#62;"),  # "<b>"
    ("AT&T", "AT&T"),
]
IDS = [repr(typed) for typed, _ in HOSTILE_LABELS]


def svg_texts(drawing) -> list[str]:
    """The text of every <text> element of the rendered drawing, in document order."""
    svg = render.render_bytes(drawing.source, "svg")
    root = ElementTree.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


@pytest.mark.usefixtures("renderer")
@pytest.mark.parametrize(("typed", "shown"), HOSTILE_LABELS, ids=IDS)
def test_a_label_is_shown_as_typed_in_a_values_box(typed, shown):
    assert shown in svg_texts(draw_dot(Value(1.0, label=typed)))


@pytest.mark.usefixtures("renderer")
@pytest.mark.parametrize(("typed", "shown"), HOSTILE_LABELS, ids=IDS)
def test_a_label_is_shown_as_typed_in_an_op_oval_as_first_and_last_operand(typed, shown):
    x, other = Value(1.0, label=typed), Value(2.0, label="b")
    assert f"{shown} - b" in svg_texts(draw_dot(x - other))
    assert f"b / {shown}" in svg_texts(draw_dot(other / x))


@pytest.mark.usefixtures("renderer")
@pytest.mark.parametrize(("typed", "shown"), HOSTILE_LABELS, ids=IDS)
def test_an_activation_name_is_shown_as_typed_in_a_neurons_box_title(typed, shown):
    class OddNeuron:  # a neuron-like model from user code, with any activation name
        def __init__(self):
            self.w, self.b, self.activation = [Value(0.5)], Value(0.1), typed

        def parameters(self):
            return [*self.w, self.b]

    neuron = OddNeuron()
    y = Value.dot(neuron.w, [Value(2.0, label="x")], neuron.b)
    assert f"neuron 0 ({shown})" in svg_texts(draw_dot(y, model=neuron, cluster=True))


@pytest.mark.usefixtures("renderer")
def test_labels_that_spell_html_render_as_plain_text_not_bold():
    a, b = Value(1.0, label="<<B>pwn</B>"), Value(2.0, label="<I>x</I>>")
    svg = render.render_bytes(draw_dot(a - b).source, "svg").decode("utf-8")
    assert "<<B>pwn</B> - <I>x</I>>" in svg_texts(draw_dot(a - b))
    assert "font-weight" not in svg and "font-style" not in svg


@pytest.mark.usefixtures("renderer")
def test_labels_cannot_make_the_renderer_include_a_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the-secret-contents")
    picture = tmp_path / "picture.png"  # an image the renderer could embed
    picture.write_bytes(render.render_bytes("digraph { a }", "png"))
    for path in (secret, picture):
        a = Value(1.0, label=f'<<TABLE><TR><TD><IMG SRC="{path}"/></TD></TR></TABLE><!--')
        b = Value(2.0, label="-->>")
        for form in ("svg", "png"):
            out = render.render_bytes(draw_dot(a - b).source, form)
            assert b"the-secret-contents" not in out
            assert str(path).encode() not in out or form == "svg"  # svg shows the text
        svg = render.render_bytes(draw_dot(a - b).source, "svg").decode("utf-8")
        assert "<image" not in svg


def test_no_label_in_the_dot_source_is_html_like():
    a, b = Value(1.0, label="<<B>pwn</B>"), Value(2.0, label="<I>x</I>>")
    source = draw_dot(a - b, show_contributions=True).source
    assert not re.search(r"label=<", source)


def test_a_lone_surrogate_in_a_label_is_shown_as_an_escape_not_an_encoding_error():
    source = draw_dot(Value(1.0, label="a\ud800b")).source
    source.encode("utf-8")  # would raise UnicodeEncodeError
    assert "a\\\\ud800b" in source


def test_step_captions_show_labels_as_typed():
    x = Value(2.0, label="<b>x</b>\\")
    frames = step_through(x * 3)
    assert "<b>x</b>\\.grad += 3.0000" in frames[1].caption
