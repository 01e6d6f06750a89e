"""The notebooks in notebooks/ run top to bottom in a fresh kernel, and are saved as run.

Each notebook is executed in a real Jupyter kernel (nbclient + ipykernel) with the
notebooks/ folder as working directory, the way a learner runs it; any cell that
raises fails the test, with the cell and the error in the message. Outputs are not
written back: the notebook files are left as they are.

The kernel runs the same Python as the tests, and imports micrograd from this
checkout. The runs are skipped when nbclient, nbformat or ipykernel is not installed
(`pip install -e ".[test]"` installs them).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import ROOT

NOTEBOOKS_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))

# The issue allows a notebook 60 s on this machine; the whole notebook, not each cell.
NOTEBOOK_TIMEOUT = 60
# A notebook is committed with its outputs, so readers see plots without running it.
MAX_NOTEBOOK_BYTES = 1_000_000

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A kernel spec that starts this Python (sys.executable), found before any other.

    Without it, a `python3` kernel spec installed elsewhere (a user's, say) could start
    another interpreter, with another micrograd or none.
    """
    pytest.importorskip("ipykernel")
    from ipykernel.kernelspec import write_kernel_spec

    jupyter_path = tmp_path_factory.mktemp("jupyter")
    write_kernel_spec(jupyter_path / "kernels" / "python3")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(jupyter_path), prepend=os.pathsep)
        # The kernel imports micrograd from this checkout, as the tests do.
        patch.setenv("PYTHONPATH", str(ROOT), prepend=os.pathsep)
        yield "python3"


def test_there_are_notebooks() -> None:
    if not NOTEBOOKS_DIR.is_dir():
        pytest.skip("no notebooks/ folder here (an sdist, say)")
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOKS_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs(path: Path, kernel_name: str) -> None:
    """Every cell runs without an error, in order, within NOTEBOOK_TIMEOUT seconds in all."""
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=NOTEBOOK_TIMEOUT,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},  # the working directory
        record_timing=False,
    )
    with client.setup_kernel():
        failure = _run_cells(client, notebook, path.name)
    if failure:  # failed outside the except blocks, so the message is not chained
        pytest.fail(failure, pytrace=False)


def _run_cells(client, notebook, name: str) -> str | None:
    """Run the code cells in order within NOTEBOOK_TIMEOUT seconds; what failed, or None."""
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    deadline = time.monotonic() + NOTEBOOK_TIMEOUT  # from the kernel's start
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return f"{name}: took over {NOTEBOOK_TIMEOUT} s in all, before cell {index}"
        client.timeout = max(1, int(remaining))  # each cell gets what is left
        try:
            client.execute_cell(cell, index)
        except CellTimeoutError:
            return (
                f"{name}: took over {NOTEBOOK_TIMEOUT} s in all, in cell {index}:\n"
                f"{_excerpt(cell.source)}"
            )
        except CellExecutionError as error:
            # nbclient's message shows the cell, what it printed and the traceback
            details = _ANSI.sub("", str(error))
            return f"{name}: cell {index} raised {error.ename}: {error.evalue}\n\n{details}"
        except DeadKernelError as error:
            return f"{name}: the kernel died in cell {index}: {error}"
    return None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_saved_as_run(path: Path) -> None:
    """The committed file holds the outputs of one top-to-bottom run, with no errors.

    Its code cells were executed in order (counts 1, 2, 3, ...), none shows an error,
    and the file stays small enough to open and review.
    """
    notebook = json.loads(path.read_text(encoding="utf-8"))
    counts = []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        counts.append(cell.get("execution_count"))
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", (
                f"{path.name}: cell {index} was saved with an error: "
                f"{output.get('ename')}: {output.get('evalue')}"
            )
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: saved without a fresh top-to-bottom run (execution counts {counts}); "
        f"run it with `jupyter nbconvert --to notebook --execute --inplace {path.name}`"
    )
    size = path.stat().st_size
    assert size < MAX_NOTEBOOK_BYTES, f"{path.name}: {size:,} bytes, over {MAX_NOTEBOOK_BYTES:,}"


def _excerpt(source: str, lines: int = 30) -> str:
    """The cell's source, cut to its first `lines` lines."""
    kept = source.splitlines()
    more = f"\n... ({len(kept) - lines} more lines)" if len(kept) > lines else ""
    return "\n".join(kept[:lines]) + more
