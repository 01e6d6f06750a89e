"""The README and the pages it links to (docs/*.md, benchmarks/README.md) tell the
truth: their Python blocks run as written, print what their comments promise, and
write only the files they say; their links lead to files and headings that exist; the
README's map names the files there are; their install lines install this project.

A block's promises are comments of the form `# prints TEXT`: the statement on that
line must print TEXT exactly (anything after TEXT, past a comma, colon or space, is
commentary). A block may write only the files its comments name after `writes`.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import re
from importlib.metadata import metadata
from pathlib import Path

import pytest
from helpers import ROOT

README = ROOT / "README.md"
INSTALLING = ROOT / "docs" / "installing.md"
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "benchmarks" / "README.md"]


def name(document: Path) -> str:
    return str(document.relative_to(ROOT))


def fenced_blocks(document: Path, language: str) -> list[tuple[str, str]]:
    """(the heading above it, its code) for each fenced block in `language`, in order."""
    blocks, heading, code = [], "", None
    for line in document.read_text(encoding="utf-8").splitlines():
        if code is not None:
            if line.startswith("```"):
                blocks.append((heading, "\n".join(code) + "\n"))
                code = None
            else:
                code.append(line)
        elif line.startswith("```"):
            if line[3:].strip() == language:
                code = []
        elif line.startswith("#"):
            heading = line.lstrip("#").strip()
    return blocks


# (where: the document and the heading above the block, its code)
PYTHON_BLOCKS = [
    (f"{name(document)}: {heading}", code)
    for document in DOCUMENTS
    for heading, code in fenced_blocks(document, "python")
]


def promise(line: str) -> str | None:
    """What a `# prints TEXT` comment on this line promises, or None."""
    _, found, text = line.partition("# prints ")
    return text.rstrip() if found else None


def assert_printed_as_promised(printed: str, promised: str, line: str) -> None:
    printed = printed.rstrip("\n")
    assert printed and promised.startswith(printed), f"{line!r} printed {printed!r}"
    rest = promised[len(printed) :]
    assert rest == "" or rest[0] in ",:; ", f"{line!r} printed {printed!r}"


def run_block(code: str, where: str = "<block>") -> None:
    """Run `code` one top-level statement at a time, checking each `# prints` promise."""
    lines = code.splitlines()
    namespace: dict = {"__name__": "__main__"}
    for statement in ast.parse(code).body:
        source = lines[statement.lineno - 1 : statement.end_lineno]
        promised = [p for p in map(promise, source) if p is not None]
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(ast.Module([statement], []), where, "exec"), namespace)
        if promised:
            assert len(promised) == 1, f"one promise per statement: {source}"
            assert_printed_as_promised(printed.getvalue(), promised[0], source[-1])


def test_the_readme_and_docs_have_python_blocks_to_check():
    assert any(where.startswith("README.md: ") for where, _ in PYTHON_BLOCKS)
    assert len(PYTHON_BLOCKS) >= 6
    assert sum("# prints " in code for _, code in PYTHON_BLOCKS) >= 5


def missing_module(code: str) -> str | None:
    """The first top-level module that `code` imports and that is not installed, or None.
    Read from its syntax tree: every name of `import random, torch`, and imports inside
    blocks too."""
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        else:
            continue
        for name in names:
            package = name.split(".")[0]
            if importlib.util.find_spec(package) is None:
                return package
    return None


def test_a_block_needs_every_module_it_imports():
    assert missing_module("import random, no_such_module\n") == "no_such_module"
    assert missing_module("import random\nfrom no_such_module.torch import x\n") == "no_such_module"
    assert missing_module("if True:\n    import no_such_module as m\n") == "no_such_module"
    assert missing_module("import random, os.path\nfrom micrograd import Value\n") is None


@pytest.mark.parametrize("where, code", PYTHON_BLOCKS, ids=[where for where, _ in PYTHON_BLOCKS])
def test_each_python_block_runs_as_written_and_writes_only_what_it_says(
    where, code, tmp_path, monkeypatch, op_table
):
    missing = missing_module(code)
    if missing:
        pytest.skip(f"this block needs {missing}, which is not installed")
    monkeypatch.chdir(tmp_path)
    run_block(code, where)
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert written == sorted(re.findall(r"# .*\bwrites (\S+)", code))


def test_the_checker_notices_a_broken_promise():
    with pytest.raises(AssertionError):
        run_block("print(1 + 1)  # prints 3\n")
    with pytest.raises(AssertionError):
        run_block("print(24.70)  # prints 24.7041\n")


# ---- links and the map -------------------------------------------------------------------------


def links(document: Path) -> list[str]:
    """The targets of the document's Markdown links and images, outside code."""
    text = re.sub(r"```.*?```", "", document.read_text(encoding="utf-8"), flags=re.DOTALL)
    text = re.sub(r"`[^`]*`", "", text)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def anchors(document: Path) -> set[str]:
    """The anchors GitHub makes of a document's headings: lower case, punctuation
    dropped, spaces as hyphens."""
    found = set()
    fence = False
    for line in document.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


def test_the_checker_reads_links_and_anchors(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Seeing the graph\n## `micrograd demo`: it's\n[a](b.md#c) `[d](e)`\n")
    assert links(page) == ["b.md#c"]
    assert anchors(page) == {"seeing-the-graph", "micrograd-demo-its"}


@pytest.mark.parametrize("document", DOCUMENTS, ids=name)
def test_every_link_leads_to_a_file_and_heading_that_exist(document):
    for target in links(document):
        if re.match(r"[a-z]+:", target):  # https: and the like, not checked here
            continue
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        assert linked.exists(), f"{name(document)} links to {target}, which does not exist"
        if anchor:
            assert anchor in anchors(linked), f"{name(document)}: no heading for #{anchor}"


def test_the_readme_links_every_page_of_docs():
    linked = {(README.parent / target.partition("#")[0]).resolve() for target in links(README)}
    assert [name(d) for d in DOCUMENTS if d != README and d.resolve() not in linked] == []


def files_on_the_map() -> list[str]:
    """The paths that the README's "Reading the code" table names, in its order."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Reading the code") :]
    section = section[: section.index("\n## ", 1)]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return [path for row in rows for path in re.findall(r"`([^`]+)`", row)]


def test_every_file_on_the_map_exists():
    assert [path for path in files_on_the_map() if not (ROOT / path).exists()] == []


def test_the_map_names_every_file_of_the_package():
    named = files_on_the_map()
    folders = [path for path in named if path.endswith("/")]
    files = sorted(
        name(path) for path in (ROOT / "micrograd").rglob("*.py") if "__pycache__" not in path.parts
    )
    assert [f for f in files if f not in named and not f.startswith(tuple(folders))] == [
        "micrograd/__init__.py"
    ]


# ---- installing ------------------------------------------------------------------------------


def pip_install_commands() -> list[str]:
    """Every `pip install` command the README and docs give: in shell blocks, and in
    inline code outside docs/installing.md (which quotes two by-name installs to warn
    about them)."""
    commands = [
        line.strip()
        for document in DOCUMENTS
        for _, code in fenced_blocks(document, "bash")
        for line in code.splitlines()
        if line.startswith("pip install")
    ]
    for document in DOCUMENTS:
        if document != INSTALLING:
            text = document.read_text(encoding="utf-8")
            commands += re.findall(r"`(pip install[^`]*)`", text)
    return commands


def test_every_pip_install_command_installs_this_checkout_with_extras_it_defines():
    extras = set(metadata("micrograd").get_all("Provides-Extra") or [])
    assert {"plot", "progress", "render", "widgets", "notebook", "torch"} <= extras
    commands = pip_install_commands()
    assert len(commands) >= 5
    for command in commands:
        found = re.fullmatch(r'pip install -e (\.|"\.\[([a-z,]+)\]")\s*(#.*)?', command)
        assert found, f"{command!r} does not install from the checkout (pip install -e .)"
        if found[2]:
            assert set(found[2].split(",")) <= extras, command


def extras_table() -> dict[str, str]:
    """docs/installing.md's table of extras: {extra: what it adds}."""
    section = INSTALLING.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z]+)` \| ([^|]+) \|", section, flags=re.M)
    return {extra: adds for extra, adds in rows}


def test_the_extras_table_names_every_extra_and_everything_each_installs():
    required: dict[str, set[str]] = {}  # extra: the packages it installs (pip's metadata
    # lists them all, those of the extras it includes too)
    for requirement in metadata("micrograd").get_all("Requires-Dist") or []:
        extra = re.search(r"""extra == ['"]([a-z]+)['"]""", requirement)
        if extra:
            name = re.match(r"[A-Za-z0-9_.-]+", requirement)
            assert name, requirement
            required.setdefault(extra[1], set()).add(name[0].lower())
    table = extras_table()
    assert sorted(table) == sorted(required)
    for extra, adds in table.items():
        included = [other for other in re.findall(r"`([a-z]+)`", adds) if other in required]
        for other in included:  # an extra this row says it includes: all of it
            assert required[other] <= required[extra], (extra, other)
        for name in required[extra] - set().union(*(required[o] for o in included)):
            # named as its project spells it: JupyterLab for jupyterlab, PyTorch for torch
            assert name in adds.lower(), f"the {extra} extra's row does not name {name}"
