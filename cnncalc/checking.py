"""`cnncalc check`: load every spec, compute it and hold it to its expectations and budgets."""

from __future__ import annotations

import fnmatch
import glob
import os
import stat
from typing import Any, NamedTuple

from cnncalc.analysis import summarize
from cnncalc.errors import Notice, SpecError, UsageError
from cnncalc.expect import Expectation, Failure, evaluate, parse
from cnncalc.graph import DEFAULT_MAX_LAYERS, build
from cnncalc.source import GitRef, Source, label, not_regular
from cnncalc.spec import load

SPEC_SUFFIXES = (".yaml", ".yml")


class SpecResult(NamedTuple):
    """One spec's outcome: invalid (error: its `errors` are every problem found), failed
    (failures) or passed."""

    path: str
    name: str | None = None
    error: SpecError | None = None
    failures: tuple[Failure, ...] = ()
    checked: int = 0  # expectations evaluated
    notices: tuple[Notice, ...] = ()

    @property
    def status(self) -> str:
        return "invalid" if self.error else "failed" if self.failures else "passed"


class Collected(NamedTuple):
    """The specs to check, and what a directory walk or a glob skipped, with why."""

    sources: list[Source]
    skipped: list[tuple[str, str]]  # (path as messages name it, reason)


def collect(paths: list[Source]) -> Collected:
    """Files as given, directories searched for *.yaml/*.yml, globs expanded; sorted, unique.

    Directories and globs stay inside their tree: symbolic links to directories are not
    followed (so no loop), a linked file is read only when it lies inside the tree, and
    anything but a regular file (a FIFO, a device) is skipped with a note. What they find is
    always a path, never a git version, whatever the file's name.
    """
    found: list[Source] = []
    skipped: list[tuple[str, str]] = []
    for path in paths:
        if isinstance(path, GitRef) or path == "-" or os.path.isfile(path):
            found.append(path)
        elif os.path.isdir(path):
            before = len(found)
            found += _walk(path, ["**", "*"], skipped, spec_files=True)
            if len(found) == before:  # a typo'd directory must not pass CI by checking nothing
                raise UsageError(f"no spec files (*.yaml, *.yml) in the directory {path!r}")
        elif glob.has_magic(path):
            base, parts = _split_pattern(path)
            # A file a glob finds is a path, even one named '-' (not standard input).
            matches = [
                m if m != "-" else os.path.join(".", m)
                for m in _walk(base, parts, skipped, spec_files=False)
            ]
            if not matches:
                raise UsageError(f"no file matches {path!r}")
            found += matches
        else:
            found.append(path)  # reported as a located error: no such file
    seen: set[Source] = set()
    unique = [p for p in found if not (p in seen or seen.add(p))]  # type: ignore[func-returns-value]
    return Collected(unique, skipped)


def _split_pattern(pattern: str) -> tuple[str, list[str]]:
    """'specs/**/*.yaml' → ('specs', ['**', '*.yaml']): the directory before the first
    component with a wildcard, and the components from there on."""
    parts = pattern.split(os.sep)
    fixed = 0
    while fixed < len(parts) - 1 and not glob.has_magic(parts[fixed]):
        fixed += 1
    base = os.sep.join(parts[:fixed]) or ("" if not pattern.startswith(os.sep) else os.sep)
    return base, [p for p in parts[fixed:] if p]


def _walk(
    base: str, parts: list[str], skipped: list[tuple[str, str]], *, spec_files: bool
) -> list[Source]:
    """Regular files under `base` whose path below it matches the glob components `parts`
    ('**' for any number of directories), found without following a directory link.

    Walked with the set of pattern positions each directory stands at, so every directory
    is listed at most once, and only those the pattern can still reach.
    """
    real_base = os.path.realpath(base or os.curdir)
    found: list[Source] = []
    todo: list[tuple[str, frozenset[int]]] = [(base, _closure({0}, parts))]
    while todo:
        directory, states = todo.pop()
        try:
            with os.scandir(directory or os.curdir) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as e:
            skipped.append((label(directory or os.curdir), f"cannot list it: {e.strerror}"))
            continue
        below: list[tuple[str, frozenset[int]]] = []
        for entry in entries:
            path = os.path.join(directory, entry.name) if directory else entry.name
            after = _advance(states, parts, entry.name)
            if not after:
                continue
            if spec_files and not entry.name.endswith(SPEC_SUFFIXES):
                is_file_match = False
            else:
                is_file_match = len(parts) in after
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            inner = frozenset(i for i in after if i < len(parts))
            if is_dir:
                if inner:
                    below.append((path, inner))
                continue
            if is_link and inner and _is_dir(path):
                skipped.append(
                    (label(path), "skipped: a symbolic link to a directory (not followed)")
                )
                continue
            if not is_file_match:
                continue
            why = _unreadable(path, is_link, real_base)
            if why is None:
                found.append(path)
            else:
                skipped.append((label(path), why))
        todo += reversed(below)
    return sorted(found, key=str)


def _is_dir(path: str) -> bool:
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False


def _closure(states: set[int], parts: list[str]) -> frozenset[int]:
    """Positions reachable without consuming a name: '**' may match no directory."""
    out = set(states)
    for i in sorted(states):
        while i < len(parts) and parts[i] == "**":
            i += 1
            out.add(i)
    return frozenset(out)


def _advance(states: frozenset[int], parts: list[str], name: str) -> frozenset[int]:
    """Pattern positions after a directory entry `name`; hidden names match only a
    component that starts with '.', as for the shell and glob."""
    nxt: set[int] = set()
    for i in states:
        if i >= len(parts):
            continue
        part = parts[i]
        if name.startswith(".") and not part.startswith("."):
            continue
        if part == "**":
            nxt.add(i)
            nxt.add(i + 1)
        elif fnmatch.fnmatchcase(name, part):
            nxt.add(i + 1)
    return _closure(nxt, parts)


def _unreadable(path: str, is_link: bool, real_base: str) -> str | None:
    """Why a file a walk found is not read, or None when it is a regular file in the tree."""
    if is_link:
        target = os.path.realpath(path)
        if os.path.commonpath([target, real_base]) != real_base:
            return "skipped: a symbolic link to a file outside the directory"
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        return f"skipped: {e.strerror}"
    if not stat.S_ISREG(mode):
        return f"skipped: it {not_regular(stat.S_IFMT(mode))}"
    return None


def check_spec(
    path: Source,
    budgets: list[Expectation],
    *,
    max_layers: int = DEFAULT_MAX_LAYERS,
    **settings: Any,
) -> SpecResult:
    """Load, compute and evaluate one spec; a broken spec is a result, not an exception.

    `settings` (batch, dtype, optimizer) are passed to `summarize` for MACs and memory.
    """
    name = label(path)  # as every message names it
    try:
        spec = load(path)
        graph = build(spec, max_layers=max_layers)
        expectations = parse(spec, graph)
        summary = summarize(graph, **settings)
    except SpecError as err:  # every problem in err.errors, the warnings found before them
        return SpecResult(name, error=err, notices=err.notices)
    mine = [*expectations, *(b for b in budgets)]
    failures = evaluate(mine, graph, summary)
    return SpecResult(
        name, spec.name, failures=tuple(failures), checked=len(mine), notices=summary.notices
    )


def exit_code(results: list[SpecResult]) -> int:
    """2 if any spec is invalid, else 1 if any expectation failed, else 0."""
    if any(r.error for r in results):
        return 2
    return 1 if any(r.failures for r in results) else 0
