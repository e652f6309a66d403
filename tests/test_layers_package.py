"""The layers package keeps its shape: families share helpers, never each other's code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cnncalc.layers import TYPES

PACKAGE = Path(__file__).resolve().parent.parent / "cnncalc" / "layers"
FAMILIES = (
    "activation",
    "attention",
    "conv",
    "linear",
    "merge",
    "norm",
    "parameter",
    "pool",
    "recurrent",
    "shape",
    "tensor",
)


def _imported(path: Path) -> set[str]:
    """The cnncalc.layers modules a file imports, by short name."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "cnncalc.layers":
                found.update(a.name for a in node.names)
            elif node.module.startswith("cnncalc.layers."):
                found.add(node.module.removeprefix("cnncalc.layers."))
        elif isinstance(node, ast.Import):
            found.update(
                a.name.removeprefix("cnncalc.layers.")
                for a in node.names
                if a.name.startswith("cnncalc.layers.")
            )
    return found


@pytest.mark.parametrize(
    "path", sorted(p for p in PACKAGE.glob("*.py") if p.name != "__init__.py"), ids=str
)
def test_no_module_imports_a_family(path: Path) -> None:
    assert not _imported(path) & set(FAMILIES), f"{path.name} imports a family module"


def test_every_type_lives_in_a_family_module() -> None:
    modules = {type(t).__module__.removeprefix("cnncalc.layers.") for t in TYPES.values()}
    assert modules == set(FAMILIES)
