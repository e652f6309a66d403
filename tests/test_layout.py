"""The package's shape: data flows one way through its stages, and functions stay short.

YAML text → spec → expansion → graph → analysis → render ← cli (STYLE.md). A module may import
its own stage and the stages before it, never one after it: imports inside functions count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cnncalc"

# Stage of each module, earliest first. A package name stands for all of its modules.
STAGES: list[tuple[str, ...]] = [
    # leaves: pure formulas, escaping, notation, the shared vocabularies and errors
    (
        "arithmetic",
        "safetext",
        "notation",
        "enums",
        "errors",
        "expr",
        "convolve",
        "synonyms",
        "weights",
    ),
    ("layers",),  # one descriptor per layer type; the spec checks type names against them
    ("source",),  # YAML text → located nodes
    ("spec", "chain"),  # nodes → Spec (a chain of words is a spec too)
    ("values", "budget"),  # interned argument values, ${expr}; the expansion's work budget
    ("expand",),  # Spec → flat layer instances
    ("graph",),  # references, order, shapes, per-layer facts
    ("receptive", "memory", "autograd"),
    ("analysis",),  # totals and rows → Summary
    ("exporters",),  # graph → PyTorch code, drawings
    ("importers",),  # models → spec text, checked through the graph
    ("expect", "checking", "explaining", "rfquery", "diff", "catalog", "verify"),  # cores
    ("render",),  # records in, text out
    ("api",),  # the Python API: records, no printing
    ("cli", "__main__", "__init__"),  # clients
]
RANK = {name: rank for rank, names in enumerate(STAGES) for name in names}
MODULES = sorted(PACKAGE.rglob("*.py"))


def _stage(module: str) -> str:
    """'cnncalc.layers.conv' → 'layers'; 'cnncalc' → '__init__'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(rel.parts)


def _imports(path: Path) -> set[str]:
    """Every cnncalc module the file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "cnncalc":
                found |= {f"cnncalc.{a.name}" for a in node.names}
            elif node.module.startswith("cnncalc."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("cnncalc.")}
    return found


def test_every_module_has_a_stage() -> None:
    stages = {_stage(_name(p)) for p in MODULES}
    assert stages <= set(RANK), f"modules with no stage: {sorted(stages - set(RANK))}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _name(p))
def test_no_upward_import(path: Path) -> None:
    me = _stage(_name(path))
    later = sorted(m for m in _imports(path) if RANK.get(_stage(m), -1) > RANK[me])
    assert not later, f"{_name(path)} ({me}) imports later stages: {later}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _name(p))
def test_the_core_imports_no_presentation_library(path: Path) -> None:
    """click belongs to the CLI and rich to the renderers: the core computes, nothing else."""
    if RANK[_stage(_name(path))] >= RANK["render"]:
        return
    tree = ast.parse(path.read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not imported & {"click", "rich"}, _name(path)


LONG_FUNCTION = 60  # lines, decorators and docstring included


def test_functions_are_short_or_say_why() -> None:
    """Every function fits in 60 lines, or its docstring says why it is longer ('Long: ...')."""
    long = []
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                doc = ast.get_docstring(node) or ""
                if lines > LONG_FUNCTION and "Long:" not in doc:
                    long.append(f"{_name(path)}.{node.name}: {lines} lines")
    assert not long, long
