"""Rendering drawings: system Graphviz first, then graphviz-pure, else a clear hint.

Each path is forced by replacing the finder functions of micrograd.viz.render, so the
tests for a path run whenever its program is installed, whatever else is.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import stat
import sys
import sysconfig
import time
import xml.etree.ElementTree as ElementTree

import graphviz
import pytest

from micrograd.engine import Value
from micrograd.viz import draw_dot, render

SYSTEM_DOT = shutil.which("dot")
GRAPHVIZ_PURE = render.find_graphviz_pure()
PNG_HEADER = b"\x89PNG\r\n\x1a\n"

needs_dot = pytest.mark.skipif(SYSTEM_DOT is None, reason="system Graphviz (dot) is not installed")
needs_graphviz_pure = pytest.mark.skipif(
    GRAPHVIZ_PURE is None, reason='graphviz-pure is not installed (pip install "micrograd[render]")'
)


@pytest.fixture
def only_dot(monkeypatch):
    """Pretend graphviz-pure is missing: system dot is the only renderer."""
    monkeypatch.setattr(render, "find_graphviz_pure", lambda: None)


@pytest.fixture
def only_graphviz_pure(monkeypatch):
    """Pretend system dot is missing: graphviz-pure is the only renderer."""
    monkeypatch.setattr(render, "find_dot", lambda: None)


@pytest.fixture
def no_renderer(monkeypatch):
    """Pretend neither renderer is installed."""
    monkeypatch.setattr(render, "find_dot", lambda: None)
    monkeypatch.setattr(render, "find_graphviz_pure", lambda: None)


def drawing() -> graphviz.Digraph:
    x = Value(2.0, label="x")
    y = Value.sum([x * 3, x.tanh()])  # Σ: a non-ASCII label
    y.backward()
    return draw_dot(y)


def parse_svg(svg: str) -> ElementTree.Element:
    root = ElementTree.fromstring(svg.encode("utf-8"))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


# ---- choosing a renderer ---------------------------------------------------------------


def test_find_renderer_prefers_system_dot(monkeypatch):
    monkeypatch.setattr(render, "find_dot", lambda: "/usr/bin/dot")
    monkeypatch.setattr(render, "find_graphviz_pure", lambda: "/venv/bin/graphviz-pure")
    assert render.find_renderer() == "/usr/bin/dot"


def test_find_renderer_falls_back_to_graphviz_pure(monkeypatch):
    monkeypatch.setattr(render, "find_dot", lambda: None)
    monkeypatch.setattr(render, "find_graphviz_pure", lambda: "/venv/bin/graphviz-pure")
    assert render.find_renderer() == "/venv/bin/graphviz-pure"


def test_find_renderer_is_none_without_either(no_renderer):
    assert render.find_renderer() is None


def test_dot_is_not_found_when_it_is_not_on_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert render.find_dot() is None


@pytest.mark.skipif(
    not os.path.isfile(os.path.join(sysconfig.get_path("scripts"), "graphviz-pure")),
    reason="graphviz-pure is not installed beside this Python",
)
def test_graphviz_pure_is_found_beside_python_when_not_on_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # as in a kernel started from a venv
    expected = os.path.join(sysconfig.get_path("scripts"), "graphviz-pure")
    assert render.find_graphviz_pure() == expected


# ---- path 1: system Graphviz -----------------------------------------------------------------


@needs_dot
def test_with_system_dot_a_drawing_pipes_svg_that_parses_as_xml(only_dot):
    svg = drawing().pipe(format="svg", encoding="utf-8")
    parse_svg(svg)
    assert "graphviz-pure" not in svg


@needs_dot
def test_with_system_dot_a_drawing_pipes_a_png(only_dot):
    assert drawing().pipe(format="png").startswith(PNG_HEADER)


@needs_dot
def test_with_system_dot_render_bytes_uses_it(only_dot):
    svg = render.render_bytes(drawing().source, "svg").decode("utf-8")
    parse_svg(svg)
    assert "graphviz-pure" not in svg


@needs_dot
def test_with_system_dot_render_writes_the_file(only_dot, tmp_path):
    path = drawing().render(tmp_path / "graph")
    assert path == f"{tmp_path / 'graph'}.svg"
    parse_svg(pathlib.Path(path).read_text(encoding="utf-8"))


@needs_dot
def test_with_system_dot_jupyter_shows_the_svg(only_dot):
    bundle = drawing()._repr_mimebundle_()
    parse_svg(bundle["image/svg+xml"])


# ---- path 2: graphviz-pure ---------------------------------------------------------------------


@needs_graphviz_pure
def test_without_dot_a_drawing_pipes_svg_from_graphviz_pure(only_graphviz_pure):
    svg = drawing().pipe(format="svg", encoding="utf-8")
    parse_svg(svg)
    assert "graphviz-pure" in svg


@pytest.mark.skipif(render.find_renderer() is None, reason="no renderer is installed")
def test_every_text_of_an_svg_names_a_sans_font_and_fallbacks_no_narrower_than_its_layout():
    svg = parse_svg(drawing().pipe(format="svg", encoding="utf-8"))
    fonts = {t.get("font-family") for t in svg.iter("{http://www.w3.org/2000/svg}text")}
    assert fonts == {render.SVG_FONT_FAMILY}
    assert render.SVG_FONT_FAMILY.split(",")[0] == render.FONT == "DejaVu Sans"
    assert render.SVG_FONT_FAMILY.endswith(",sans-serif")


@needs_graphviz_pure
def test_without_dot_a_drawing_pipes_a_png_from_graphviz_pure(only_graphviz_pure):
    assert drawing().pipe(format="png").startswith(PNG_HEADER)


@needs_graphviz_pure
def test_without_dot_render_writes_the_file_beside_the_source(only_graphviz_pure, tmp_path):
    path = drawing().render(tmp_path / "graph")
    assert path == f"{tmp_path / 'graph'}.svg"
    assert (tmp_path / "graph").read_text(encoding="utf-8").startswith("digraph {")
    parse_svg(pathlib.Path(path).read_text(encoding="utf-8"))


@needs_graphviz_pure
def test_without_dot_render_to_an_outfile_takes_the_format_from_its_suffix(
    only_graphviz_pure, tmp_path
):
    path = drawing().render(outfile=tmp_path / "graph.png", cleanup=True)
    assert path == str(tmp_path / "graph.png")
    assert (tmp_path / "graph.png").read_bytes().startswith(PNG_HEADER)
    assert not (tmp_path / "graph.gv").exists()  # cleanup removed the source


@needs_graphviz_pure
def test_without_dot_jupyter_shows_the_svg_from_graphviz_pure(only_graphviz_pure):
    bundle = drawing()._repr_mimebundle_()
    assert "graphviz-pure" in bundle["image/svg+xml"]
    parse_svg(bundle["image/svg+xml"])


@needs_graphviz_pure
def test_graphviz_pure_cannot_write_pdf_and_says_so(only_graphviz_pure):
    with pytest.raises(graphviz.CalledProcessError, match="pdf"):
        drawing().pipe(format="pdf")


# ---- path 3: no renderer ---------------------------------------------------------------------


def test_with_no_renderer_render_bytes_raises_executable_not_found_with_the_hint(no_renderer):
    with pytest.raises(graphviz.ExecutableNotFound) as error:
        render.render_bytes("digraph { a -> b }")
    assert 'pip install "micrograd[render]"' in str(error.value)
    assert "apt-get install graphviz" in str(error.value)


def test_with_no_renderer_pipe_raises_executable_not_found(no_renderer):
    with pytest.raises(graphviz.ExecutableNotFound, match="micrograd"):
        drawing().pipe()


def test_with_no_renderer_render_raises_before_writing_any_file(no_renderer, tmp_path):
    with pytest.raises(graphviz.ExecutableNotFound, match="micrograd"):
        drawing().render(tmp_path / "graph")
    assert list(tmp_path.iterdir()) == []


def test_with_no_renderer_jupyter_shows_the_source_and_the_hint(no_renderer):
    d = drawing()
    bundle = d._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    assert d.source in bundle["text/plain"]
    assert 'pip install "micrograd[render]"' in bundle["text/plain"]
    assert bundle["text/html"].startswith("<pre>No renderer:")


# ---- writing files -------------------------------------------------------------------------------

needs_renderer = pytest.mark.skipif(render.find_renderer() is None, reason="no renderer")


@needs_renderer
def test_an_interrupted_render_leaves_the_old_picture_whole_and_no_source_with_cleanup(
    tmp_path, monkeypatch
):
    picture = tmp_path / "graph.svg"
    picture.write_text("the old picture")

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)  # as if Ctrl-C came while it was written
    with pytest.raises(KeyboardInterrupt):
        drawing().render(tmp_path / "graph", cleanup=True)
    assert picture.read_text() == "the old picture"
    assert [p.name for p in tmp_path.iterdir()] == ["graph.svg"]


@needs_renderer
def test_a_render_whose_picture_cannot_be_written_leaves_no_source_with_cleanup(tmp_path):
    (tmp_path / "graph.svg").mkdir()  # the picture's path is taken by a folder
    with pytest.raises(OSError):
        drawing().render(tmp_path / "graph", cleanup=True)
    assert [p.name for p in tmp_path.iterdir()] == ["graph.svg"]


@needs_renderer
def test_render_writes_through_a_symlink_and_keeps_the_pictures_mode(tmp_path):
    real, link = tmp_path / "real.svg", tmp_path / "graph.svg"
    real.write_text("old")
    real.chmod(0o640)
    link.symlink_to(real)
    drawing().render(tmp_path / "graph", cleanup=True)
    assert link.is_symlink() and stat.S_IMODE(real.stat().st_mode) == 0o640
    parse_svg(real.read_text(encoding="utf-8"))


@pytest.mark.parametrize("option", ["renderer", "formatter"])
@pytest.mark.parametrize("method", ["pipe", "render"])
def test_renderer_and_formatter_are_a_type_error_naming_the_option(tmp_path, option, method):
    call = getattr(drawing(), method)
    with pytest.raises(TypeError, match=rf"{option}='cairo' is not supported"):
        call(**{option: "cairo"}) if method == "pipe" else call(tmp_path / "g", **{option: "cairo"})
    assert list(tmp_path.iterdir()) == []


@needs_renderer
def test_neato_no_op_can_be_given_to_pipe_and_render_as_to_graphviz(tmp_path):
    placed = graphviz.Digraph()
    placed.node("a", pos="10,10")
    placed.node("b", pos="300,10")
    d = render.Drawing(body=placed.body, engine="neato")
    plain = d.pipe(format="plain", encoding="utf-8", neato_no_op=2)
    x = {w[1]: float(w[2]) for w in map(str.split, plain.splitlines()) if w[0] == "node"}
    assert x["b"] - x["a"] == pytest.approx(290 / 72, abs=0.01)  # where they were placed
    path = d.render(tmp_path / "g", format="plain", neato_no_op=2, cleanup=True)
    assert pathlib.Path(path).read_text() == plain


@needs_renderer
def test_raise_if_result_exists_refuses_before_writing_anything(tmp_path):
    (tmp_path / "g.svg").write_text("keep me")
    with pytest.raises(graphviz.FileExistsError, match="g.svg"):
        drawing().render(tmp_path / "g", raise_if_result_exists=True)
    assert [p.name for p in tmp_path.iterdir()] == ["g.svg"]


@needs_renderer
def test_an_outfile_that_is_the_source_file_needs_overwrite_source(tmp_path):
    with pytest.raises(ValueError, match="overwrite_source"):
        drawing().render(tmp_path / "g.svg", outfile=tmp_path / "g.svg")
    path = drawing().render(tmp_path / "g.svg", outfile=tmp_path / "g.svg", overwrite_source=True)
    parse_svg(pathlib.Path(path).read_text(encoding="utf-8"))  # the picture, not the source


# ---- failures of a renderer ---------------------------------------------------------------------


@pytest.mark.skipif(render.find_renderer() is None, reason="no renderer is installed")
def test_invalid_dot_is_a_called_process_error_with_the_renderers_message():
    with pytest.raises(graphviz.CalledProcessError) as error:
        render.render_bytes("digraph { a -> ")
    assert b"syntax error" in error.value.stderr


def test_a_drawings_repr_is_stable_with_no_memory_address():
    # saved notebook outputs show it; an address would change them on every run
    drawing = (Value(1.0, label="x") * 2).draw()
    assert repr(drawing) == repr((Value(1.0, label="x") * 2).draw())
    assert "0x" not in repr(drawing)


# ---- time limits -------------------------------------------------------------------------------


@pytest.fixture
def slow_renderer(monkeypatch, tmp_path):
    """A renderer that never finishes: it writes its process id to a file, then sleeps."""
    pid_file = tmp_path / "renderer.pid"
    program = tmp_path / "slow-dot"
    program.write_text(
        f"#!{sys.executable}\nimport os, time\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n"
    )
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(render, "find_dot", lambda: str(program))
    return pid_file


def test_a_rendering_past_its_time_limit_is_stopped_with_an_error_saying_what_to_do(
    slow_renderer,
):
    start = time.perf_counter()
    with pytest.raises(render.RenderTimeout) as error:
        render.render_bytes("digraph { a }", timeout=0.5)
    assert time.perf_counter() - start < 10
    assert str(error.value) == (
        "rendering took longer than 0.5 s and was stopped: draw a smaller piece (an "
        "intermediate Value, or one example instead of a batch), or allow more time with "
        "drawing.timeout = 2 (None: no limit)"
    )
    with pytest.raises(ProcessLookupError):  # the renderer is gone
        os.kill(int(slow_renderer.read_text()), 0)


def test_a_drawing_renders_within_its_own_time_limit(slow_renderer):
    d = drawing()
    d.timeout = 0.5
    with pytest.raises(render.RenderTimeout):
        d.pipe()


def test_a_render_that_times_out_writes_no_file(slow_renderer, tmp_path):
    d = drawing()
    d.timeout = 0.5
    with pytest.raises(render.RenderTimeout):
        d.render(tmp_path / "out" / "graph")
    assert not (tmp_path / "out").exists()


def test_jupyter_shows_a_timed_out_drawing_as_the_message(slow_renderer):
    d = drawing()
    d.timeout = 0.5
    bundle = d._repr_mimebundle_()
    assert bundle["text/plain"].startswith("rendering took longer than 0.5 s")


def test_the_default_time_limit_is_30_seconds():
    assert drawing().timeout == render.DEFAULT_TIMEOUT == 30.0


def reused_input_chain(length: int) -> Value:
    """y = y * 1.01 + x, `length` times: x feeds every rank, which made dot's layout explode."""
    x = Value(0.5, label="x")
    y = x
    for _ in range(length):
        y = y * 1.01 + x
    return y


@pytest.mark.parametrize(
    "renderer",
    [
        pytest.param("dot", marks=needs_dot),
        pytest.param("graphviz-pure", marks=needs_graphviz_pure),
    ],
)
def test_a_value_reused_across_90_ranks_renders_within_the_default_time_limit(
    renderer, monkeypatch
):
    # 181 Values: this took 582 s with system dot before drawings capped the layout's passes
    if renderer == "dot":
        monkeypatch.setattr(render, "find_graphviz_pure", lambda: None)
    else:
        monkeypatch.setattr(render, "find_dot", lambda: None)
    svg = draw_dot(reused_input_chain(90)).pipe(format="svg", encoding="utf-8")
    assert len(parse_svg(svg).findall(".//{http://www.w3.org/2000/svg}g[@class='node']")) > 181
