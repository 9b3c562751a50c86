"""docs/architecture.md is true to the code: its layers block lists every module and folder of the
package, and no import points up it; its folder map names every top-level folder."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

DOC = REPO / "docs" / "architecture.md"
PACKAGE = REPO / "personseg"
ABOVE_ALL = {"__init__", "__main__"}  # the public API (lazy) and `python -m personseg`


def layers() -> dict[str, int]:
    block = re.search(r"```layers\n(.*?)```", DOC.read_text(), re.S)
    assert block, "docs/architecture.md: no ```layers block"
    return {name: depth for depth, line in enumerate(block.group(1).splitlines()) for name in line.split()}


def unit_of(path: Path) -> str:
    """The layer unit of a file: its folder under personseg/, or its own name at the top."""
    first = path.relative_to(PACKAGE).parts[0]
    return first.removesuffix(".py")


def imported_units(path: Path) -> set[str]:
    units = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
        for name in names:
            parts = name.split(".")
            if parts[0] == "personseg" and len(parts) > 1:
                units.add(parts[1])
    return units


def test_every_package_module_has_a_layer():
    units = {unit_of(p) for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts} - ABOVE_ALL
    assert units == set(layers()), "docs/architecture.md's layers block and personseg/ differ"


def test_no_import_points_up_the_layers():
    depth = layers()
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = unit_of(path)
        if source in ABOVE_ALL:
            continue
        for target in imported_units(path) - {source}:
            if depth.get(target, len(depth)) < depth[source]:
                upward.append(f"{path.relative_to(REPO)}: {source} imports {target}")
    assert not upward, "\n".join(upward)


def test_no_command_imports_another():
    commands = {p.stem for p in (PACKAGE / "cli").glob("*.py")} - {"__init__", "options"}
    for name in commands:
        tree = ast.parse((PACKAGE / "cli" / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("personseg.cli."):
                assert node.module.split(".")[2] in ("options",), f"cli/{name}.py imports {node.module}"


def test_the_folder_map_names_every_top_level_folder():
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.splitlines()
    folders = {name.split("/")[0] for name in files if "/" in name}
    text = DOC.read_text()
    missing = [folder for folder in sorted(folders) if f"| `{folder}/` |" not in text]
    assert not missing, f"docs/architecture.md's folder map misses {missing}"
