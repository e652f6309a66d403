"""`cnncalc check`: load every spec, compute it and hold it to its expectations and budgets."""

from __future__ import annotations

import glob
import os
from typing import Any, NamedTuple

from cnncalc.analysis import summarize
from cnncalc.errors import SpecError, UsageError
from cnncalc.expect import Expectation, Failure, evaluate, parse
from cnncalc.graph import DEFAULT_MAX_LAYERS, Notice, build
from cnncalc.source import STDIN
from cnncalc.spec import load

SPEC_SUFFIXES = (".yaml", ".yml")


class SpecResult(NamedTuple):
    """One spec's outcome: invalid (error), failed (failures) or passed."""

    path: str
    name: str | None = None
    error: SpecError | None = None
    failures: tuple[Failure, ...] = ()
    checked: int = 0  # expectations evaluated
    notices: tuple[Notice, ...] = ()

    @property
    def status(self) -> str:
        return "invalid" if self.error else "failed" if self.failures else "passed"


def collect(paths: list[str]) -> list[str]:
    """Files as given, directories searched for *.yaml/*.yml, globs expanded; sorted, unique."""
    found: list[str] = []
    for path in paths:
        if path == "-" or os.path.isfile(path):
            found.append(path)
        elif os.path.isdir(path):
            before = len(found)
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found += [
                    os.path.join(root, f)
                    for f in sorted(files)  # not .pre-commit-…
                    if f.endswith(SPEC_SUFFIXES) and not f.startswith(".")
                ]
            if len(found) == before:  # a typo'd directory must not pass CI by checking nothing
                raise UsageError(f"no spec files (*.yaml, *.yml) in the directory {path!r}")
        elif glob.has_magic(path):
            matches = sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
            if not matches:
                raise UsageError(f"no file matches {path!r}")
            found += matches
        else:
            found.append(path)  # reported as a located error: no such file
    seen: set[str] = set()
    return [p for p in found if not (p in seen or seen.add(p))]  # type: ignore[func-returns-value]


def check_spec(
    path: str, budgets: list[Expectation], *, max_layers: int = DEFAULT_MAX_LAYERS, **settings: Any
) -> SpecResult:
    """Load, compute and evaluate one spec; a broken spec is a result, not an exception.

    `settings` (batch, dtype, optimizer) are passed to `summarize` for MACs and memory.
    """
    label = STDIN if path == "-" else path  # as every message names it
    try:
        spec = load(path)
        graph = build(spec, max_layers=max_layers)
        expectations = parse(spec, graph)
        summary = summarize(graph, **settings)
    except SpecError as err:
        return SpecResult(label, error=err)
    mine = [*expectations, *(b for b in budgets)]
    failures = evaluate(mine, graph, summary)
    return SpecResult(
        label, spec.name, failures=tuple(failures), checked=len(mine), notices=summary.notices
    )


def exit_code(results: list[SpecResult]) -> int:
    """2 if any spec is invalid, else 1 if any expectation failed, else 0."""
    if any(r.error for r in results):
        return 2
    return 1 if any(r.failures for r in results) else 0
