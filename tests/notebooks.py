"""Running the notebooks in tests: parameters injected papermill-style (the `parameters` cell's
assignments rewritten, so the defaults a reader sees stay plain values), execution with
nbclient, and what the executed cells wrote."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    tagged = [cell for cell in nb.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, "a notebook needs exactly one cell tagged 'parameters'"
    return tagged[0]


def set_parameters(nb: nbformat.NotebookNode, **values) -> None:
    """Replace `NAME = ...` lines of the parameters cell with `NAME = repr(value)` (paths as
    strings); a name the cell does not assign is a KeyError, so a renamed parameter fails loudly."""
    cell = parameters_cell(nb)
    lines = cell.source.splitlines()
    for name, value in values.items():
        if isinstance(value, os.PathLike):
            value = str(value)
        pattern = re.compile(rf"^{re.escape(name)}\s*=")
        hits = [i for i, line in enumerate(lines) if pattern.match(line)]
        if not hits:
            raise KeyError(f"{name} is not assigned in the parameters cell")
        lines[hits[0]] = f"{name} = {value!r}"
    cell.source = "\n".join(lines)


def execute(path: Path, workdir: Path, parameters: dict, cells: list[int] | None = None,
            extra: str | None = None, timeout: int = 300) -> nbformat.NotebookNode:
    """Execute a notebook with `parameters` in `workdir` (optionally only `cells`, and `extra`
    code appended as a last cell). The kernel is "python3", the one ipykernel installs in the
    venv; jupyter_client starts it with sys.executable, so it runs in this interpreter."""
    nb = nbformat.read(path, as_version=4)
    set_parameters(nb, **parameters)
    if cells is not None:
        nb.cells = [nb.cells[i] for i in cells]
    if extra:
        nb.cells.append(nbformat.v4.new_code_cell(extra))
    # the kernel gets a reader's environment: conftest's TF_CPP_MIN_LOG_LEVEL is for the tests
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(workdir)}}).execute(env=env)
    return nb


def outputs(nb: nbformat.NotebookNode) -> list[dict]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


def outputs_text(nb: nbformat.NotebookNode) -> str:
    return "\n".join(out.get("text", "") + "".join(out.get("data", {}).get("text/plain", ""))
                     for out in outputs(nb))


def png_count(nb: nbformat.NotebookNode) -> int:
    return sum("image/png" in out.get("data", {}) for out in outputs(nb))


def stderr_outputs(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(cell index, text) of everything the cells wrote to stderr: in a notebook that is a pink
    block (TensorFlow's C++ logs, progress bars, Python warnings)."""
    return [(index, out.get("text", "")) for index, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for out in cell.outputs if out.get("output_type") == "stream" and out.get("name") == "stderr"]
