"""README.md tells the truth: its Python blocks run as written, print what their
comments promise, and write only the files they say; its install lines install
this project.

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

import pytest
from helpers import ROOT

README = ROOT / "README.md"


def fenced_blocks(language: str) -> list[tuple[str, str]]:
    """(the heading above it, its code) for each fenced block in `language`, in order."""
    blocks, heading, code = [], "", None
    for line in README.read_text(encoding="utf-8").splitlines():
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


PYTHON_BLOCKS = fenced_blocks("python")


def promise(line: str) -> str | None:
    """What a `# prints TEXT` comment on this line promises, or None."""
    _, found, text = line.partition("# prints ")
    return text.rstrip() if found else None


def assert_printed_as_promised(printed: str, promised: str, line: str) -> None:
    printed = printed.rstrip("\n")
    assert printed and promised.startswith(printed), f"{line!r} printed {printed!r}"
    rest = promised[len(printed) :]
    assert rest == "" or rest[0] in ",:; ", f"{line!r} printed {printed!r}"


def run_block(code: str) -> None:
    """Run `code` one top-level statement at a time, checking each `# prints` promise."""
    lines = code.splitlines()
    namespace: dict = {"__name__": "__main__"}
    for statement in ast.parse(code).body:
        source = lines[statement.lineno - 1 : statement.end_lineno]
        promised = [p for p in map(promise, source) if p is not None]
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(ast.Module([statement], []), "README.md", "exec"), namespace)
        if promised:
            assert len(promised) == 1, f"one promise per statement: {source}"
            assert_printed_as_promised(printed.getvalue(), promised[0], source[-1])


def test_the_readme_has_python_blocks_to_check():
    assert len(PYTHON_BLOCKS) >= 4
    assert sum("# prints " in code for _, code in PYTHON_BLOCKS) >= 3


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


@pytest.mark.parametrize(
    "code", [code for _, code in PYTHON_BLOCKS], ids=[heading for heading, _ in PYTHON_BLOCKS]
)
def test_each_python_block_runs_as_written_and_writes_only_what_it_says(
    code, tmp_path, monkeypatch, op_table
):
    missing = missing_module(code)
    if missing:
        pytest.skip(f"this block needs {missing}, which is not installed")
    monkeypatch.chdir(tmp_path)
    run_block(code)
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert written == sorted(re.findall(r"# .*\bwrites (\S+)", code))


def test_the_checker_notices_a_broken_promise():
    with pytest.raises(AssertionError):
        run_block("print(1 + 1)  # prints 3\n")
    with pytest.raises(AssertionError):
        run_block("print(24.70)  # prints 24.7041\n")


# ---- installing ------------------------------------------------------------------------------


def pip_install_commands() -> list[str]:
    """Every `pip install` command the README gives: in shell blocks, and in inline code
    outside the Installing section (which quotes two by-name installs to warn about them)."""
    commands = [
        line.strip()
        for _, code in fenced_blocks("bash")
        for line in code.splitlines()
        if line.startswith("pip install")
    ]
    text = README.read_text(encoding="utf-8")
    start = text.index("### Installing")
    outside = text[:start] + text[text.index("\n#", start + 1) :]
    return commands + re.findall(r"`(pip install[^`]*)`", outside)


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
    """The Installing section's table of extras: {extra: what it adds}."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Installing") :]
    section = section[: section.index("\n#", 1)]
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
