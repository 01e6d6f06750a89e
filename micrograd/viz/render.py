"""Turning DOT source into pictures, with or without the Graphviz `dot` program.

A drawing is DOT text (see micrograd.viz); a *renderer* lays it out and writes
SVG or PNG. The first choice is system Graphviz (`dot`). When it is absent, the
fallback is `graphviz-pure` from PyPI (`pip install "micrograd[render]"`): one
self-contained executable that takes dot's flags, so nothing else on the machine
is needed. When neither exists, rendering raises graphviz's own
`ExecutableNotFound` with a one-line install hint, and Jupyter shows the DOT
source and that hint instead of a traceback.

Everything that chooses a renderer goes through `find_renderer()`, and every
rendering through `render_bytes()`, which stops a renderer that runs longer than
its time limit (a drawing that takes that long is too big to read anyway).
"""

from __future__ import annotations

import html
import os
import pathlib
import re
import shutil
import subprocess
import sysconfig
from collections.abc import Iterable, Mapping
from typing import overload

import graphviz

from micrograd.files import write_atomically

__all__ = [
    "FONT",
    "SVG_FONT_FAMILY",
    "INSTALL_HINT",
    "Drawing",
    "find_dot",
    "find_graphviz_pure",
    "find_renderer",
    "render_bytes",
    "DEFAULT_TIMEOUT",
    "RenderTimeout",
    "inline_svg",
    "message_bundle",
    "source_with_hint",
]

INSTALL_HINT = (
    "to render drawings, install Graphviz (e.g. `apt-get install graphviz`, "
    "`brew install graphviz`, https://graphviz.org/download/) "
    'or run `pip install "micrograd[render]"`'
)


# Every drawing's text is laid out in DejaVu Sans: the widest of the common sans fonts
# (Graphviz and graphviz-pure know its widths), so that whichever of them a program
# that shows an SVG has, the text fits its box. An SVG names it and, after it, fonts
# no wider, for machines without it; Graphviz alone would name one font, and a
# program lacking it falls back to a wider one, running the text into its neighbours.
FONT = "DejaVu Sans"
SVG_FONT_FAMILY = "DejaVu Sans,Verdana,Arial,Helvetica,sans-serif"
_SVG_FONT = re.compile(rb'font-family="DejaVu Sans[^"]*"')


def find_dot() -> str | None:
    """The path of system Graphviz's `dot` program, or None when it is not on PATH."""
    return shutil.which("dot")


def find_graphviz_pure() -> str | None:
    """The path of the `graphviz-pure` program (micrograd's [render] extra), or None.

    It is looked for on PATH and then beside this Python's own scripts, because a
    Jupyter kernel started from a virtual environment often runs without that
    environment's bin/ (Scripts\\ on Windows) on its PATH.
    """
    found = shutil.which("graphviz-pure")
    if found:
        return found
    name = "graphviz-pure.exe" if os.name == "nt" else "graphviz-pure"
    beside_python = os.path.join(sysconfig.get_path("scripts"), name)
    if os.path.isfile(beside_python) and os.access(beside_python, os.X_OK):
        return beside_python
    return None


def find_renderer() -> str | None:
    """The program that will render: system `dot` first, then graphviz-pure, else None."""
    return find_dot() or find_graphviz_pure()


def _not_found() -> graphviz.ExecutableNotFound:
    """graphviz's own 'executable not found' error, with micrograd's install hint."""
    error = graphviz.ExecutableNotFound(["dot"])
    error.args = (f"{error.args[0]}; {INSTALL_HINT}",)
    return error


# How long a rendering may take before it is stopped. A drawing a learner can read
# renders in a second or two; one that takes longer is too big to read anyway.
DEFAULT_TIMEOUT = 30.0


class RenderTimeout(TimeoutError):
    """A rendering took longer than its time limit and was stopped."""


def render_bytes(
    source: str,
    format: str = "svg",
    engine: str = "dot",
    timeout: float | None = DEFAULT_TIMEOUT,
    neato_no_op: int | None = None,
) -> bytes:
    """Render DOT `source` to `format` ("svg", "png", ...) with find_renderer()'s program.

    Raises graphviz.ExecutableNotFound (with the install hint) when there is no
    renderer, graphviz.CalledProcessError (with the renderer's message) when it
    fails, e.g. on a format it cannot write (graphviz-pure writes no PDF), and
    RenderTimeout when it runs longer than `timeout` seconds (None: no limit);
    the renderer is then stopped. An SVG's fonts are SVG_FONT_FAMILY. neato_no_op=2 (with engine "neato") draws nodes
    and edges where their `pos` attributes put them, as graphviz's option of that name.
    """
    program = find_renderer()
    if program is None:
        raise _not_found()
    command = [program, f"-K{engine}", f"-T{format}"]
    if neato_no_op:
        command.append(f"-n{neato_no_op:d}")
    try:
        result = subprocess.run(
            command, input=source.encode("utf-8"), capture_output=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as expired:  # subprocess.run has killed the renderer
        limit = expired.timeout  # `timeout`, known here not to be None
        raise RenderTimeout(
            f"rendering took longer than {limit:g} s and was stopped: draw a smaller "
            "piece (an intermediate Value, or one example instead of a batch), or allow "
            f"more time with drawing.timeout = {4 * limit:g} (None: no limit)"
        ) from None
    if result.returncode != 0:
        raise graphviz.CalledProcessError(
            result.returncode, command, output=result.stdout, stderr=result.stderr
        )
    if format == "svg":
        return _SVG_FONT.sub(f'font-family="{SVG_FONT_FAMILY}"'.encode(), result.stdout)
    return result.stdout


class Drawing(graphviz.Digraph):
    """A graphviz.Digraph that renders with system `dot` or graphviz-pure, within a time limit.

    pipe(), render() and Jupyter's inline display all go through render_bytes(),
    whichever program renders; with no renderer at all, Jupyter shows the DOT
    source and the install hint. `timeout` is the time limit in seconds (None:
    no limit); `neato_no_op` = 2 (with engine "neato") draws a drawing whose
    nodes and edges have positions already.
    """

    timeout: float | None = DEFAULT_TIMEOUT
    neato_no_op: int | None = None

    def __init__(self, *args, **kwargs) -> None:
        # FONT for the drawing's, its nodes' and its edges' text, unless given otherwise
        for attrs in ("graph_attr", "node_attr", "edge_attr"):
            kwargs[attrs] = {"fontname": FONT, **(kwargs.get(attrs) or {})}
        super().__init__(*args, **kwargs)

    def __repr__(self) -> str:
        # graphviz's default repr shows a memory address, which would make saved
        # notebook outputs change on every run
        return f"<micrograd Drawing: {len(self.body)} DOT statements; display, .pipe() or .render() it>"

    # pipe's overloads say what a type checker cannot see: bytes, or str given an encoding
    @overload
    def pipe(
        self,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: int | None = None,
        quiet: bool = False,
        *,
        engine: str | None = None,
        encoding: None = None,
    ) -> bytes: ...

    @overload
    def pipe(
        self,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: int | None = None,
        quiet: bool = False,
        *,
        engine: str | None = None,
        encoding: str,
    ) -> str: ...

    @overload
    def pipe(
        self,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: int | None = None,
        quiet: bool = False,
        *,
        engine: str | None = None,
        encoding: str | None,
    ) -> bytes | str: ...

    def pipe(
        self,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: int | None = None,
        quiet: bool = False,  # accepted as graphviz's: the renderer's stderr is captured anyway
        *,
        engine: str | None = None,
        encoding: str | None = None,
    ) -> bytes | str:
        """The rendered drawing as bytes, or as str given an `encoding` (see graphviz's pipe).

        renderer= and formatter= are refused (TypeError): see _refuse_renderer.
        """
        _refuse_renderer("pipe", renderer, formatter)
        data = self._render(format or self.format, engine, neato_no_op)
        return data if encoding is None else data.decode(encoding)

    def save(
        self,
        filename: str | os.PathLike | None = None,
        directory: str | os.PathLike | None = None,
        *,
        skip_existing: bool | None = False,
    ) -> str:
        """Save the DOT source to a file and return its path, as graphviz's save() does,
        but written whole (micrograd.files.write_atomically)."""
        self._set_path(filename, directory)
        path = self.filepath
        if skip_existing and os.path.exists(path):
            return path
        _make_folder_of(path)
        write_atomically(path, self.source.encode(self.encoding))
        return path

    def render(
        self,
        filename: str | os.PathLike | None = None,
        directory: str | os.PathLike | None = None,
        view: bool = False,
        cleanup: bool = False,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: int | None = None,
        quiet: bool = False,  # accepted because graphviz's view() passes it: stderr is captured
        quiet_view: bool = False,
        *,
        outfile: str | os.PathLike | None = None,
        engine: str | None = None,
        raise_if_result_exists: bool = False,
        overwrite_source: bool = False,
    ) -> str:
        """Render the drawing to a file and return its path; save its DOT source beside it
        unless `cleanup`.

        As graphviz.Digraph.render: the picture is `<filename>.<format>` (by default
        `Drawing.gv.svg`), or `outfile`, whose suffix gives the format;
        raise_if_result_exists=True refuses (graphviz.FileExistsError) to replace a
        picture, and an outfile that is the source file needs overwrite_source=True.
        Unlike graphviz, nothing is written unless the rendering succeeds, each file
        is written whole (micrograd.files.write_atomically), and with cleanup=True
        the source is never written at all. renderer= and formatter= are refused
        (TypeError): see _refuse_renderer.
        """
        _refuse_renderer("render", renderer, formatter)
        if outfile is not None:
            outfile = pathlib.Path(outfile)
            format = format or outfile.suffix.lstrip(".") or None
            if directory is None:
                outfile = pathlib.Path(self.directory, outfile)
            if filename is None:
                filename = outfile.with_suffix(".gv")
        format = format or self.format
        self._set_path(filename, directory)  # as save() would, before anything is written
        source_path = self.filepath
        result_path = str(outfile) if outfile is not None else f"{source_path}.{format}"
        if raise_if_result_exists and os.path.exists(result_path):
            raise graphviz.FileExistsError(f"output file exists: {result_path!r}")
        same_file = os.path.abspath(result_path) == os.path.abspath(source_path)
        if same_file and not cleanup and not overwrite_source:
            raise ValueError(
                f"outfile {result_path!r} is the DOT source file: pass another outfile, or "
                "overwrite_source=True to replace the source with the picture"
            )
        data = self._render(format, engine, neato_no_op)
        if not cleanup and not same_file:
            self.save()
        _make_folder_of(result_path)
        write_atomically(result_path, data)
        if view or quiet_view:
            graphviz.view(result_path, quiet=quiet_view)
        return result_path

    def _set_path(
        self, filename: str | os.PathLike | None, directory: str | os.PathLike | None
    ) -> None:
        """Where the DOT source goes, as graphviz's save() sets it: given ones replace the old."""
        if filename is not None:
            self.filename = filename
        if directory is not None:
            self.directory = directory

    def _render(self, format: str, engine: str | None, neato_no_op: int | None) -> bytes:
        no_op = self.neato_no_op if neato_no_op is None else neato_no_op
        return render_bytes(self.source, format, engine or self.engine, self.timeout, no_op)

    def _repr_mimebundle_(
        self,
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        **kwargs,
    ) -> Mapping[str, bytes | str]:
        """What Jupyter shows: the picture, or the DOT source and the install hint."""
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except graphviz.ExecutableNotFound:
            return source_with_hint(self.source)
        except RenderTimeout as error:
            return message_bundle(str(error))


def message_bundle(text: str) -> dict[str, str]:
    """A Jupyter mimebundle that shows `text` instead of a picture (and, in HTML, as is)."""
    return {"text/plain": text, "text/html": f"<pre>{html.escape(text)}</pre>"}


def _refuse_renderer(method: str, renderer: str | None, formatter: str | None) -> None:
    """A TypeError for graphviz's renderer= or formatter= (as in -Tpng:cairo): the
    programs micrograd renders with differ in which they have (graphviz-pure has
    none to choose), so each renders a format its own one way."""
    for option, value in (("renderer", renderer), ("formatter", formatter)):
        if value is not None:
            raise TypeError(
                f"Drawing.{method}(): {option}={value!r} is not supported: micrograd renders "
                "with system dot or graphviz-pure, each a format its own one way; "
                f"leave {option} out"
            )


def _make_folder_of(path: str | os.PathLike) -> None:
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)


def source_with_hint(source: str) -> dict[str, str]:
    """A Jupyter mimebundle showing DOT source under the install hint, for no renderer."""
    return message_bundle(f"No renderer: {INSTALL_HINT}.\n\n{source}")


def inline_svg(drawing: Drawing) -> str:
    """The drawing as an inline <svg> element for a web page; without a renderer, its
    source and the install hint; past its time limit, the message saying so."""
    try:
        svg = drawing.pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        return source_with_hint(drawing.source)["text/html"]
    except RenderTimeout as error:
        return message_bundle(str(error))["text/html"]
    return svg[svg.find("<svg") :]
