"""Hostile input: mutated specs and generated hostile files never crash, hang or blow up.

Whatever a spec file holds, every command must exit 0 or 2 (`check` also 1), print an invalid
spec's problem as one located line (`FILE:LINE:COL: message`) and no traceback, and finish in
bounded time and memory (README, "Limits and hostile input").

The fuzz tests take each spec in specs/ and mutate it: the parsed YAML (a node replaced by a
hostile value, keys removed, renamed or added, layer arguments and `expect:` figures set to
hostile values, broken `from`, `repeat` and `name`, entries retyped, duplicated or swapped),
dumped back with yaml.safe_dump; or the raw bytes (truncated, with YAML syntax, control bytes or
invalid UTF-8 inserted). They are derandomized and bounded, so CI sees the same examples on
every run. Generated hostile files (HOSTILE: empty, binary, tags, billion laughs, deep nesting,
recursive blocks, huge repeats and files, ...) go through every command and `check` format.

Every run is in-process (click's CliRunner). Its bound is CPU time, which a busy machine does
not inflate: a run that uses more than CPU_LIMIT fails, and one past CPU_WATCHDOG is interrupted.
A generous wall-clock watchdog (WALL_WATCHDOG) catches true hangs, such as a read that blocks.
"""

from __future__ import annotations

import copy
import gc
import json
import re
import resource
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple
from xml.etree import ElementTree

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cnncalc.cli import main
from cnncalc.layers import TYPES
from conftest import SPECS

SPEC_FILES = sorted(SPECS.glob("*.yaml"))
BASES: dict[str, Any] = {p.stem: yaml.safe_load(p.read_text()) for p in SPEC_FILES}
RAW: dict[str, bytes] = {p.stem: p.read_bytes() for p in SPEC_FILES}

CPU_LIMIT = 5.0  # CPU seconds per command (user + system): the bound a run must keep
CPU_WATCHDOG = 2 * CPU_LIMIT  # past this much CPU a run is interrupted as a runaway
WALL_WATCHDOG = 120.0  # past this a run is interrupted as a hang; never a pass/fail bound
MEMORY_LIMIT = 500 * 2**20  # peak resident memory a run may add, in bytes
FUZZ_MAX_LAYERS = "20000"  # specs that legitimately expand hugely stay fast

LOCATED = re.compile(r"(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<message>.+)\n")
# Under a located error, the source line it points at and a caret (render/errors.py).
CONTEXT = re.compile(r" {4}(?P<number>\d+) \| (?P<source>.*)\n {4} +\| +\^\n")
MORE = re.compile(
    r"\.\.\.( and [\d,]+ more errors?)?"
    r"( \(cnncalc stopped looking after meeting [\d,]+ errors, each use of a block counted\))?\n"
)


def located_errors(stderr: str) -> list[re.Match[str]] | None:
    """The located lines of an exit-2 stderr, warnings first; None unless it is exactly:
    warning lines, then errors each a FILE:LINE:COL: line optionally followed by its source
    line and caret, then optionally '... and N more errors'."""
    found, at, errors = [], 0, 0
    while at < len(stderr):
        m = LOCATED.match(stderr, at)
        if m is None:
            more = MORE.fullmatch(stderr, at)
            return found if more is not None and errors else None
        warning = m["message"].startswith("warning: ")
        if warning and errors:
            return None  # warnings come before the errors
        errors += not warning
        found.append(m)
        at = m.end()
        context = CONTEXT.match(stderr, at)
        if context is not None and not warning:
            if context["number"] != m["line"]:
                return None
            at = context.end()
    return found if errors else None


CHECK_PROBLEM = re.compile(r"^ {4}(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): .+$", re.MULTILINE)

FUZZ_SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=40,
    # No shrinking: a hang costs a watchdog per attempt; the message carries the spec text.
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ---- running the CLI ---------------------------------------------------------------------------


class _Hang(BaseException):
    """Raised by the watchdog inside a run that takes too long (not an Exception: the CLI and
    CliRunner must not swallow it)."""


class Run(NamedTuple):
    """One CLI invocation and what it did."""

    args: tuple[str, ...]
    exit_code: int | None  # None: interrupted by the watchdog
    stdout: str
    stderr: str
    exception: BaseException | None
    seconds: float  # CPU time, user + system
    memory: int  # peak resident memory above the start, in bytes


def _rss_reset() -> int:
    """Reset the peak-RSS counter (Linux) and return the current RSS in bytes; else maxrss."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _status("VmRSS")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _rss_peak() -> int:
    try:
        return _status("VmHWM")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise OSError(field)


DEBUG = {"CNNCALC_DEBUG": "1"}  # a bug raises (a crash here), not cnncalc's one-line report


def invoke(*args: str, stdin: bytes | None = None) -> Run:
    """Run the CLI in-process under watchdogs, measuring CPU time and peak memory."""

    def alarm(signum: int, frame: Any) -> None:
        raise _Hang

    gc_enabled = gc.isenabled()
    previous = {s: signal.signal(s, alarm) for s in (signal.SIGALRM, signal.SIGPROF)}
    before = _rss_reset()
    start = time.process_time()
    signal.setitimer(signal.ITIMER_REAL, WALL_WATCHDOG)
    signal.setitimer(signal.ITIMER_PROF, CPU_WATCHDOG)
    try:
        result = CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=True, env=DEBUG)
        seconds = time.process_time() - start
        run = Run(
            args, result.exit_code, result.stdout, result.stderr, result.exception, seconds, 0
        )
    except _Hang:
        run = Run(args, None, "", "", None, time.process_time() - start, 0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.setitimer(signal.ITIMER_PROF, 0)
        for s, handler in previous.items():
            signal.signal(s, handler)
        # `main` turns the cyclic garbage collector off while a command runs and back on
        # after; a run interrupted by the watchdog must not leave it off either.
        if gc_enabled:
            gc.enable()
    return run._replace(memory=max(0, _rss_peak() - before))


def _lines(text: str) -> int:
    """An upper bound on the number of lines YAML sees (it also breaks at \\r, \\x85, ...)."""
    return len(text.splitlines()) + 1


def _describe(run: Run, text: str | None) -> str:
    shown = "" if text is None else text if len(text) < 3000 else text[:3000] + "…"
    crash = (
        ""
        if run.exception is None or isinstance(run.exception, SystemExit)
        else "".join(traceback.format_exception(run.exception))
    )
    return (
        f"\n$ cnncalc {' '.join(run.args)}\nexit {run.exit_code} in {run.seconds:.2f} CPU s,"
        f" +{run.memory // 2**20} MiB\n--- stderr:\n{run.stderr[-2000:]}\n--- stdout:\n"
        f"{run.stdout[-1000:]}\n{crash}--- spec:\n{shown}"
    )


# What a message would show if it printed a parsed YAML node rather than the value it holds.
INTERNALS = re.compile(r"\b(?:Node|Pos|mappingproxy)\(")


def assert_clean(run: Run, path: str, text: str | None) -> None:
    """The contract for any input: no crash, no hang, exit 0/2 (check 0/1/2), located errors.

    `path` is the file name messages must name ('<stdin>' for standard input); `text` the spec
    (for line bounds and for the failure message), None when it is not text.
    """
    why = _describe(run, text)
    assert run.exit_code is not None, "hang: interrupted by a watchdog" + why
    assert run.exception is None or isinstance(run.exception, SystemExit), "crash" + why
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout, why
    leaked = INTERNALS.search(run.stderr) or INTERNALS.search(run.stdout)
    assert leaked is None, f"a message shows cnncalc's internals: {leaked[0]!r}" + why
    command = run.args[0]
    assert run.exit_code in ((0, 1, 2) if command == "check" else (0, 2)), why
    assert run.seconds < CPU_LIMIT, f"slow: {run.seconds:.1f} CPU s" + why
    assert run.memory < MEMORY_LIMIT, f"memory: +{run.memory // 2**20} MiB" + why
    max_line = _lines(text) if text is not None else None

    def located(m: re.Match[str] | None, problem: str) -> None:
        assert m is not None, problem + why
        assert m["file"] == path, f"the message names {m['file']!r}, not {path!r}" + why
        line, col = int(m["line"]), int(m["col"])
        assert line >= 1 and col >= 1, "position before the file's start" + why
        assert max_line is None or line <= max_line, f"line {line} is past the end" + why

    if command == "check":
        _assert_check_report(run, located, why)
    elif run.exit_code == 2:
        errors = located_errors(run.stderr)
        assert errors, "exit 2 without FILE:LINE:COL: message lines on stderr" + why
        for m in errors:
            located(m, "")
    else:
        assert run.stdout, "exit 0 without output" + why
        for line in run.stderr.splitlines(keepends=True):
            m = LOCATED.fullmatch(line)
            located(m, "an unlocated line on stderr")
            assert m is not None and m["message"].startswith("warning: "), why


def _assert_check_report(
    run: Run, located: Callable[[re.Match[str] | None, str], None], why: str
) -> None:
    """`check` in text, JSON or JUnit: well-formed, and every invalid spec located."""
    fmt = run.args[run.args.index("-f") + 1] if "-f" in run.args else "text"
    if fmt == "text":
        problems = list(CHECK_PROBLEM.finditer(run.stdout))
        assert problems or run.exit_code != 2, "an invalid spec without a located problem" + why
        for m in problems:
            located(m, "")
    elif fmt == "json":
        specs = json.loads(run.stdout)["specs"]
        invalid = [p for s in specs if s["status"] == "invalid" for p in s["problems"]]
        assert (run.exit_code == 2) == bool(invalid), why
        for problem in invalid:
            assert problem["line"] >= 1 and problem["column"] >= 1, why
    else:
        try:
            report = ElementTree.fromstring(run.stdout)
        except ElementTree.ParseError as err:
            raise AssertionError(f"check -f junit is not well-formed XML: {err}" + why) from None
        assert (run.exit_code == 2) == bool(report.findall(".//error")), why
    for line in run.stderr.splitlines(keepends=True):
        located(LOCATED.fullmatch(line), "check: an unlocated line on stderr")


def assert_json_summary(run: Run, text: str | None) -> None:
    """A successful `summarize -f json`: valid JSON whose integer totals add up exactly."""
    if run.exit_code != 0:
        return
    data = json.loads(run.stdout)
    totals = data["totals"]
    why = _describe(run, text)
    for key in ("params", "trainable_params", "buffers", "macs", "flops", "layers"):
        assert type(totals[key]) is int and totals[key] >= 0, f"totals.{key}" + why
    assert totals["params"] == sum(layer["params"] for layer in data["layers"]), why
    assert totals["params"] == totals["trainable_params"] + totals["frozen_params"], why
    assert totals["layers"] == len(data["layers"]), why


def run_all_commands(
    path: str, text: str | None, stdin: bytes | None = None, fmt: str = "table"
) -> Run:
    """summarize (JSON and `fmt`, --max-layers), then rf, explain, check and diff when the
    spec is small."""
    shown = "<stdin>" if path == "-" else path
    first = invoke("summarize", path, "-f", "json", "--max-layers", FUZZ_MAX_LAYERS, stdin=stdin)
    assert_clean(first, shown, text)
    assert_json_summary(first, text)
    if "--max-layers" in first.stderr:
        return first  # rf, explain and check take no --max-layers; it would be the default
    assert_clean(
        invoke(
            "summarize", path, "-f", fmt, "--flops", "--max-layers", FUZZ_MAX_LAYERS, stdin=stdin
        ),
        shown,
        text,
    )
    # standard input can be read once: diff it against a spec of ours
    other = path if path != "-" else str(SPECS / "lenet5.yaml")
    for args in (
        ("rf", path),
        ("explain", path),
        ("check", path),
        ("check", "-f", "junit", path),
        ("diff", path, other),
    ):
        assert_clean(invoke(*args, stdin=stdin), shown, text)
    return first


# ---- hostile values and mutations of the parsed YAML -------------------------------------------


def _nested_list(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


EXPRESSIONS = [
    "${__import__('os')}",
    "${__import__('os').system('echo pwned')}",
    "${1/0}",
    "${x//0}",
    "${1 // 0}",
    "${3 % (1 - 1)}",
    "${" + "(" * 70 + "1" + ")" * 70 + "}",
    "${" + "-" * 200 + "1}",
    "${" + "1+" * 600 + "1}",  # over 1,000 characters
    "${" + "9" * 999 + "}",
    "${" + "9" * 30 + "}",
    "${9223372036854775807 * 2}",
    "${2 ** 64}",
    "${}",
    "${",
    "${x",
    "${${x}}",
    "${ out }",
    "${k // 2}",
    "pre${k}post",
    "${a}${b}",
    "${lambda: 0}",
    "${x.__class__}",
    "${\u0661}",  # an Arabic-Indic digit: \d matches it
]
ODD_NAMES = [
    "",
    " ",
    "a.b",
    "input",
    "a b",
    "名前",
    "a\nb",
    "a\tb",
    "-",
    "-x",
    "1",
    "a:b",
    "a#b",
    "\u2028",
    "\x85",
    "\x00",
    "\ufeff",
    "'",
    '"',
    "&a",
    "*a",
    "!tag",
    "[",
    "{",
    "::",
    "true",
    "null",
    "~",
    "0x10",
    ".inf",
    "x" * 5000,
    "conv2d",
    "Conv2D",
    "conv9d",
    "name",
    "from",
    "repeat",
    "trainable",
    "layers",
    "blocks",
    "args",
    "expect",
    "kernel_size",
    "out_channels",
    "min",
    "max",
    "size",
    "layer",
    "shape",
    "layout",
]
NUMBERS: list[Any] = [
    0,
    -1,
    1,
    2,
    3,
    7,
    -(10**30),
    10**30,
    2**63,
    2**63 - 1,
    10**6,
    999_999,
    1_000_000_000,
    10**160,
    10**310,
    -(10**310),
    0.5,
    -0.0,
    1e308,
    float("inf"),
    float("-inf"),
    float("nan"),
]
OTHERS: list[Any] = [
    None,
    True,
    False,
    [],
    {},
    [1, 2, 3],
    [[1]],
    [None],
    [-1, 0],
    {"a": 1},
    {"": None},
    {"${x}": 1},
    "same",
    "valid",
    "full",
    "26M",
    "1.5e9",
    "1e30",
    "1e999999999",
    "1.5e400",
    "-5k",
    "0x10",
    _nested_list(250),
    [0] * 1000,
]
HOSTILE_VALUES: list[Any] = [*NUMBERS, *OTHERS, *EXPRESSIONS, *ODD_NAMES]
REFERENCES: list[Any] = [
    "input",
    "nope",
    "a.b.c",
    "",
    [],
    ["input", "input"],
    ["nope"],
    [[]],
    {"a": "b"},
    3,
    None,
    True,
    "${x}",
    ".",
    "input.x",
]
ENTRY_KEYS = ("from", "repeat", "name", "trainable")
# Arguments of the layer types, and values that come close to valid ones: these get past the
# form checks into the shape arithmetic.
ARG_NAMES = [
    "kernel_size",
    "stride",
    "padding",
    "dilation",
    "groups",
    "out_channels",
    "in_channels",
    "out_features",
    "in_features",
    "num_features",
    "output_size",
    "output_padding",
    "scale_factor",
    "size",
    "mode",
    "dim",
    "start_dim",
    "end_dim",
    "shape",
    "p",
    "eps",
    "num_groups",
    "num_channels",
    "normalized_shape",
    "ceil_mode",
    "count_include_pad",
    "bias",
    "upscale_factor",
    "downscale_factor",
    "padding_mode",
    "unflattened_size",
    "num_embeddings",
    "embedding_dim",
    "inplace",
    "momentum",
    "affine",
    "track_running_stats",
    "value",
    "align_corners",
    "elementwise_affine",
]
ARG_VALUES: list[Any] = [
    0,
    1,
    2,
    3,
    5,
    7,
    16,
    64,
    1000,
    -1,
    -2,
    -3,
    10**30,
    [1, 1],
    [2, 3],
    [3, 3, 3],
    [0, 0],
    [-1, 2],
    [1, 2, 3, 4],
    [1, 0, 1, 0],
    [10**30, 1],
    [[1, 2]],
    "same",
    "valid",
    "nearest",
    "bilinear",
    "bicubic",
    "area",
    "trilinear",
    "zeros",
    "circular",
    "reflect",
    True,
    False,
    None,
    0.5,
    2.5,
    1e-5,
    [16, -1],
    [-1],
    [1, 1, 1, 1, 1, 1],
    "${k}",
    10**160,
    [10**160, 1],
]
FIGURES = [
    "params",
    "trainable_params",
    "non_trainable_params",
    "frozen_params",
    "buffers",
    "param_bytes",
    "macs",
    "flops",
    "activations_bytes",
    "memory",
    "inference_memory",
    "output_shape",
    "receptive_field",
    "layers",
    "size",
    "nope",
]

Path_ = tuple[Any, ...]


def _paths(node: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    """Every node's path: keys for mappings, indices for lists."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


def _get(doc: Any, path: Path_) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def _entries(doc: Any) -> list[Path_]:
    """Paths of the layer entries: items of every list under a 'layers' key."""
    return [
        (*p, i)
        for p in _paths(doc)
        if p and p[-1] == "layers" and isinstance(_get(doc, p), list)
        for i in range(len(_get(doc, p)))
    ]


def _names(doc: Any) -> list[str]:
    """Every layer and block name written in the spec, for plausible references."""
    found = [str(_get(doc, p)) for p in _paths(doc) if p and p[-1] == "name"]
    if isinstance(doc, dict) and isinstance(doc.get("blocks"), dict):
        found += list(doc["blocks"])
    return found


def _hostile(draw: st.DrawFn, doc: Any) -> Any:
    names = _names(doc)
    choices: list[Any] = HOSTILE_VALUES + REFERENCES + names + [[n, n] for n in names[:3]]
    return draw(st.sampled_from(choices))


def _mutate(draw: st.DrawFn, doc: Any) -> Any:
    """One mutation of the parsed spec; returns the new document."""
    op = draw(
        st.sampled_from(
            [
                "replace",
                "replace",
                "delete",
                "add_key",
                "rename",
                "entry_key",
                "entry_key",
                "duplicate",
                "swap",
                "retype",
                "arg",
                "arg",
                "arg",
                "expect",
            ]
        )
    )
    paths = list(_paths(doc))
    if op == "replace" and len(paths) > 1:
        path = draw(st.sampled_from(paths[1:]))
        value = _hostile(draw, doc)
        if not path:
            return value
        _get(doc, path[:-1])[path[-1]] = copy.deepcopy(value)
    elif op == "delete":
        inner = [p for p in paths if p]
        if inner:
            path = draw(st.sampled_from(inner))
            del _get(doc, path[:-1])[path[-1]]
    elif op == "add_key":
        maps = [p for p in paths if isinstance(_get(doc, p), dict)]
        if maps:
            target = _get(doc, draw(st.sampled_from(maps)))
            target[draw(st.sampled_from(ODD_NAMES))] = copy.deepcopy(_hostile(draw, doc))
    elif op == "rename":
        keyed = [p for p in paths if p and isinstance(_get(doc, p[:-1]), dict)]
        if keyed:
            path = draw(st.sampled_from(keyed))
            parent = _get(doc, path[:-1])
            new = draw(st.sampled_from(ODD_NAMES + _names(doc)))
            items = [(new if k == path[-1] else k, v) for k, v in parent.items()]
            parent.clear()
            parent.update(items)
    elif op == "entry_key":
        entries = _entries(doc)
        if entries:
            path = draw(st.sampled_from(entries))
            entry = _get(doc, path)
            if isinstance(entry, str):
                entry = {entry: None}
                _get(doc, path[:-1])[path[-1]] = entry
            if isinstance(entry, dict):
                key = draw(st.sampled_from(ENTRY_KEYS))
                entry[key] = copy.deepcopy(_hostile(draw, doc))
    elif op == "duplicate":
        lists = [p for p in paths if isinstance(_get(doc, p), list) and _get(doc, p)]
        if lists:
            items = _get(doc, draw(st.sampled_from(lists)))
            i = draw(st.integers(0, len(items) - 1))
            items.insert(i, copy.deepcopy(items[i]))
    elif op == "swap":
        lists = [p for p in paths if isinstance(_get(doc, p), list) and len(_get(doc, p)) > 1]
        if lists:
            items = _get(doc, draw(st.sampled_from(lists)))
            i, j = draw(st.integers(0, len(items) - 1)), draw(st.integers(0, len(items) - 1))
            items[i], items[j] = items[j], items[i]
    elif op == "arg":
        entries = [p for p in _entries(doc) if isinstance(_get(doc, p), dict)]
        if entries:
            entry = _get(doc, draw(st.sampled_from(entries)))
            kind = next((k for k in entry if k not in ENTRY_KEYS), None)
            if kind is not None:
                if not isinstance(entry[kind], dict):
                    entry[kind] = {}
                known = [a.name for a in TYPES[kind].args] if kind in TYPES else []
                names = [*entry[kind], *known, *known, *ARG_NAMES]
                pool = ARG_VALUES + HOSTILE_VALUES
                entry[kind][draw(st.sampled_from(names))] = copy.deepcopy(
                    draw(st.sampled_from(pool))
                )
    elif op == "expect" and isinstance(doc, dict):
        if not isinstance(doc.get("expect"), dict):
            doc["expect"] = {}
        target = doc["expect"]
        if draw(st.booleans()):
            layer = draw(st.sampled_from([*_names(doc), "nope", "conv2d_1", "input"]))
            if not isinstance(target.get("layers"), dict):
                target["layers"] = {}
            target = target["layers"].setdefault(str(layer), {})
            if not isinstance(target, dict):
                return doc
        value = draw(
            st.sampled_from(
                [
                    *HOSTILE_VALUES,
                    {"min": 10**30},
                    {"max": -1},
                    {"min": 5, "max": 1},
                    {"layer": "nope", "min": 3},
                    {"min": "1e999"},
                    {"max": float("inf")},
                    [1000],
                    [0],
                ]
            )
        )
        target[draw(st.sampled_from(FIGURES))] = copy.deepcopy(value)
    elif op == "retype":
        entries = _entries(doc)
        if entries:
            path = draw(st.sampled_from(entries))
            kind = draw(
                st.sampled_from(
                    [
                        "conv2d",
                        "linear",
                        "add",
                        "concat",
                        "flatten",
                        "maxpool2d",
                        "reshape",
                        "conv3d",
                        "upsample",
                        "convtranspose2d",
                        "embedding",
                        "softmax",
                        "conv9d",
                        "Conv2D",
                        "torch.nn.Conv2d",
                        *_names(doc),
                    ]
                )
            )
            entry = _get(doc, path)
            if isinstance(entry, dict):
                old = next((k for k in entry if k not in ENTRY_KEYS), None)
                args = entry.pop(old) if old is not None else None
                entry[kind] = args
            else:
                _get(doc, path[:-1])[path[-1]] = kind
    return doc


@st.composite
def mutated_specs(draw: st.DrawFn, base: Any) -> str:
    """A spec from specs/ with one to three mutations of its parsed YAML, as YAML text."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        doc = _mutate(draw, doc)
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=draw(st.booleans()), width=100)


SNIPPETS = [
    b":",
    b": ",
    b"- ",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b"&a ",
    b"*a",
    b"*nope",
    b"!!python/name:os.system ",
    b"!!python/object/apply:os.system ['echo pwned'] ",
    b"!x ",
    b"<<: ",
    b"\t",
    b"\n",
    b"\r",
    b"\r\n",
    b"'",
    b'"',
    b"\x00",
    b"\x07",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\xef\xbb\xbf",
    b"${",
    b"}",
    b"${1//0}",
    b"%YAML 1.1\n",
    b"---\n",
    b"...\n",
    b"#",
    b"? ",
    b"|",
    b">",
    b"@",
    b"`",
    b"\\",
    "名".encode(),
    b"\xe2\x80\xa8",
    b"\xc2\x85",
    b"  ",
    b"\n  - relu",
    b"\n- ",
    b"99999999999999999999999999999",
    b"-1",
    b" 0",
    b"repeat: 1000000000",
    b".inf",
    b"~",
]


@st.composite
def mutated_bytes(draw: st.DrawFn, raw: bytes) -> bytes:
    """A spec file's bytes, truncated, cut or with YAML syntax and bad bytes inserted."""
    data = bytearray(raw)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(
            st.sampled_from(["insert", "insert", "truncate", "cut", "dup_line", "big_number"])
        )
        at = draw(st.integers(0, len(data)))
        if op == "insert":
            data[at:at] = draw(st.sampled_from(SNIPPETS))
        elif op == "truncate":
            del data[at:]
        elif op == "cut":
            del data[at : at + draw(st.integers(1, 40))]
        elif op == "dup_line":
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            line = bytes(data[start : end + 1 if end >= 0 else len(data)])
            data[start:start] = line
        else:
            m = re.compile(rb"\d+").search(bytes(data), at)
            if m:
                data[m.start() : m.end()] = draw(
                    st.sampled_from(
                        [
                            b"0",
                            b"-3",
                            b"1000000000",
                            b"99999999999999999999999999999999",
                            b"1" + b"0" * 310,
                            b"9" * 5000,
                            b"0x" + b"f" * 4000,
                        ]
                    )
                )
    return bytes(data)


def _text(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


# ---- the fuzz tests ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.slow
@pytest.mark.parametrize("spec", sorted(BASES))
def test_mutated_yaml_structure(spec: str, fuzz_dir: Path) -> None:
    """Mutations of the parsed spec: every command exits 0 or 2 with a located message."""
    path = fuzz_dir / f"{spec}.yaml"

    @FUZZ_SETTINGS
    @given(text=mutated_specs(BASES[spec]), fmt=st.sampled_from(["table", "markdown", "csv"]))
    def check(text: str, fmt: str) -> None:
        path.write_text(text, encoding="utf-8")
        run_all_commands(str(path), text, fmt=fmt)

    check()


@pytest.mark.slow
@pytest.mark.parametrize("spec", sorted(RAW))
def test_mutated_text(spec: str, fuzz_dir: Path) -> None:
    """Byte-level mutations of the spec file, read from the file and from standard input."""
    path = fuzz_dir / f"{spec}-bytes.yaml"

    @FUZZ_SETTINGS
    @given(data=mutated_bytes(RAW[spec]), stdin=st.booleans())
    def check(data: bytes, stdin: bool) -> None:
        path.write_bytes(data)
        if stdin:
            run_all_commands("-", _text(data), stdin=data)
        else:
            run_all_commands(str(path), _text(data))

    check()


def test_the_mutations_reach_deep_into_specs() -> None:
    """The structural fuzzer does change specs, and not only their top level."""
    base = BASES["inception"]

    @settings(derandomize=True, database=None, max_examples=30, deadline=None)
    @given(text=mutated_specs(base))
    def check(text: str) -> None:
        seen.add(text)

    seen: set[str] = set()
    check()
    original = yaml.safe_dump(base, sort_keys=False, width=100)
    assert len(seen) >= 20 and original not in seen
    assert any("blocks:" in t and t.count("basic_conv") >= 1 for t in seen)


# ---- generated hostile files -------------------------------------------------------------------

SMALL = "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 3}\n  - relu\n"


def _billion_laughs() -> bytes:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return ("\n".join(lines) + "\ninput: [3]\nlayers: *a9\n").encode()


def _laughs_in_layers() -> bytes:
    """Aliases used where a spec expects layer entries: 10^7 relu entries if expanded."""
    lines = [
        "input: [4]",
        "blocks:",
        "  b:",
        "    layers: &l0 [relu, relu, relu, relu, relu, relu, relu, relu, relu, relu]",
        "layers:",
        "  - b",
        "x:",
    ]
    for i in range(1, 8):
        lines.append(f"  - &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]")
    return ("\n".join(lines) + "\n").encode()


def _wide_alias() -> bytes:
    """One anchor of 1,000 values aliased 3,000 times: 3 million values, little text."""
    return (
        "base: &b ["
        + ", ".join(["1"] * 1000)
        + "]\nmany: ["
        + ", ".join(["*b"] * 3000)
        + "]\ninput: [3]\nlayers: [relu]\n"
    ).encode()


def _deep_block_mappings(depth: int) -> bytes:
    return ("".join("  " * i + "a:\n" for i in range(depth)) + "  " * depth + "1\n").encode()


def _deep_block_lists(depth: int) -> bytes:
    return (
        "input: [3]\nlayers:\n"
        + "".join("  " * i + "-\n" for i in range(depth))
        + "  " * depth
        + "relu\n"
    ).encode()


def _recursive(*chain: str) -> bytes:
    """Blocks that use the next one, the last using the first."""
    lines = ["input: [3, 8, 8]", "blocks:"]
    for i, name in enumerate(chain):
        lines += [
            f"  {name}:",
            "    layers:",
            "      - relu",
            f"      - {chain[(i + 1) % len(chain)]}",
        ]
    return ("\n".join(lines) + f"\nlayers:\n  - {chain[0]}\n").encode()


def _exponential_blocks(levels: int, distinct_args: bool) -> bytes:
    """Block k uses block k-1 twice: 2^levels layers. With distinct arguments per instance,
    a count memoized by (block, arguments) cannot share work between instances."""
    lines = ["input: [4]", "blocks:", "  b0:", "    args: {n: 0}", "    layers: [relu]"]
    for k in range(1, levels + 1):
        a, b = ('{n: "${n * 2}"}', '{n: "${n * 2 + 1}"}') if distinct_args else ("", "")
        lines += [
            f"  b{k}:",
            "    args: {n: 0}",
            "    layers:",
            f"      - b{k - 1}: {a}",
            f"      - b{k - 1}: {b}",
        ]
    return ("\n".join(lines) + f"\nlayers:\n  - b{levels}: {{n: 1}}\n").encode()


def _long_expression() -> bytes:
    expr = "1 + " * 50_000 + "1"
    return (
        "input: [3, 8, 8]\nblocks:\n  b:\n    args: {c: 4}\n    layers:\n"
        f'      - conv2d: {{out_channels: "${{{expr}}}", kernel_size: 1}}\n'
        "layers:\n  - b\n"
    ).encode()


def _deep_parentheses() -> bytes:
    expr = "(" * 10_000 + "c" + ")" * 10_000
    return (
        "input: [3, 8, 8]\nblocks:\n  b:\n    args: {c: 4}\n    layers:\n"
        f'      - conv2d: {{out_channels: "${{{expr}}}", kernel_size: 1}}\n'
        "layers:\n  - b\n"
    ).encode()


def _many_placeholders() -> bytes:
    name = "${c}" * 20_000
    return (
        "input: [3, 8, 8]\nblocks:\n  b:\n    args: {c: 4}\n    layers:\n"
        f'      - relu\n        name: "{name}"\n'
        "layers:\n  - b\n"
    ).encode()


def _near_limit_entries() -> bytes:
    """Just under 10 MiB of `relu` entries: 1.74 million values, within every documented limit
    except the layer count, which can only be counted once they are parsed."""
    return ("input: [4]\nlayers: [" + ", ".join(["relu"] * 1_740_000) + "]\n").encode()


def _long_scalar() -> bytes:
    return ("name: " + "x" * (9 * 2**20) + "\ninput: [3, 8, 8]\nlayers: [relu]\n").encode()


# name → (the file's bytes, a phrase `summarize` must print, or None when the file may be valid)
HOSTILE: dict[str, tuple[Callable[[], bytes], str | None]] = {
    "empty": (lambda: b"", "empty"),
    "whitespace": (lambda: b"  \n\t\n   \n", None),
    "comment-only": (lambda: b"# nothing here\n", "empty"),
    "bom-only": (lambda: b"\xef\xbb\xbf", "empty"),
    "null-document": (lambda: b"~\n", None),
    "document-marker-only": (lambda: b"---\n...\n", None),
    "binary-garbage": (lambda: bytes(range(256)) * 16, None),
    "random-bytes": (lambda: __import__("random").Random(0).randbytes(4096), None),
    "nul-bytes": (lambda: b"input: [3]\x00\nlayers: [relu]\n", None),
    "invalid-utf8": (lambda: b"name: caf\xe9\ninput: [3]\nlayers: [relu]\n", "UTF-8"),
    "utf8-surrogate": (lambda: b"name: \xed\xa0\x80\ninput: [3]\nlayers: [relu]\n", "UTF-8"),
    "utf16": (lambda: "input: [3]\nlayers: [relu]\n".encode("utf-16"), "UTF-8"),
    "latin1-late": (lambda: SMALL.encode() + b"# \xff\xfe\n", "UTF-8"),
    "truncated-flow": (lambda: SMALL.encode()[:60], None),
    "truncated-quote": (lambda: b'input: [3]\nlayers:\n  - relu\nname: "abc', None),
    "unclosed-brackets": (lambda: b"input: [3, [[[[{{{{\n", None),
    "tab-indent": (lambda: b"input: [3]\nlayers:\n\t- relu\n", None),
    "crlf": (lambda: SMALL.replace("\n", "\r\n").encode() + b"  - nope\r\n", "nope"),
    "cr-only": (lambda: SMALL.replace("\n", "\r").encode() + b"  - nope\r", "nope"),
    "unicode-line-separators": (lambda: SMALL.encode() + "  - nope\u2028\x85".encode(), None),
    "tag-python-apply": (
        lambda: b"input: !!python/object/apply:os.system ['echo pwned']\nlayers: [relu]\n",
        "tag",
    ),
    "tag-python-name": (lambda: b"input: [3]\nlayers: [!!python/name:os.system relu]\n", "tag"),
    "tag-python-object-map": (
        lambda: b"input: [3]\nlayers:\n  - !!python/object:os.Foo {a: 1}\n",
        "tag",
    ),
    "tag-custom": (lambda: b"input: !custom [3]\nlayers: [relu]\n", "tag"),
    "tag-custom-seq": (lambda: b"input: [3]\nlayers: !seq [relu]\n", "tag"),
    "tag-binary": (lambda: b"input: [3]\nlayers: [relu]\nname: !!binary aGVsbG8=\n", "tag"),
    "tag-set": (lambda: b"input: [3]\nlayers: [relu]\nexpect: !!set {a, b}\n", "tag"),
    "tag-directive": (
        lambda: (
            b"%TAG !py! tag:yaml.org,2002:python/\n---\ninput: !py!name:os.system"
            b" x\nlayers: [relu]\n"
        ),
        "tag",
    ),
    "yaml-directive": (lambda: b"%YAML 9.9\n---\n" + SMALL.encode(), None),
    "billion-laughs": (_billion_laughs, "expands"),
    "laughs-in-layers": (_laughs_in_layers, "expands"),
    "wide-alias": (_wide_alias, "expands"),
    "undefined-alias": (lambda: b"input: *nope\nlayers: [relu]\n", "alias"),
    "alias-key": (lambda: b"a: &k x\ninput: [3]\nlayers: [relu]\n*k : 1\n", None),
    "merge-key": (lambda: b"base: &b {input: [3]}\n<<: *b\nlayers: [relu]\n", "merge"),
    "complex-key": (lambda: b"? [a, b]\n: 1\ninput: [3]\nlayers: [relu]\n", None),
    "non-string-keys": (lambda: b"input: [3]\nlayers:\n  - 1: 2\n  - null: x\n  - true: y\n", None),
    "deep-flow-lists": (lambda: b"[" * 5000 + b"]" * 5000, "nest"),
    "deep-flow-maps": (lambda: b"{a: " * 5000 + b"1" + b"}" * 5000, "nest"),
    "very-deep-flow-lists": (lambda: b"input: " + b"[" * 200_000 + b"]" * 200_000, "nest"),
    "deep-block-maps": (lambda: _deep_block_mappings(3000), "nest"),
    "deep-block-lists": (lambda: _deep_block_lists(3000), "nest"),
    "deep-args": (
        lambda: (
            b"input: [3]\nlayers:\n  - reshape: {shape: " + b"[" * 190 + b"1" + b"]" * 190 + b"}\n"
        ),
        None,
    ),
    "block-uses-itself": (lambda: _recursive("a"), "uses itself"),
    "blocks-use-each-other": (lambda: _recursive("a", "b"), "uses itself"),
    "block-cycle-of-five": (lambda: _recursive("a", "b", "c", "d", "e"), "uses itself"),
    "block-uses-itself-repeat-zero": (
        lambda: (
            b"input: [3, 8, 8]\nblocks:\n  a:\n    layers:\n"
            b"      - relu\n      - a:\n        repeat: 0\n"
            b"layers: [a]\n"
        ),
        None,
    ),
    "exponential-blocks": (lambda: _exponential_blocks(60, False), "layers"),
    "exponential-blocks-distinct-args": (lambda: _exponential_blocks(40, True), "layers"),
    "repeat-billion": (
        lambda: b"input: [3]\nlayers:\n  - relu:\n    repeat: 1000000000\n",
        "more than",
    ),
    "repeat-huge": (
        lambda: b"input: [3]\nlayers:\n  - relu:\n    repeat: " + b"9" * 4000 + b"\n",
        None,
    ),
    "repeat-negative": (lambda: b"input: [3]\nlayers:\n  - relu:\n    repeat: -1\n", "repeat"),
    "repeat-nested": (
        lambda: (
            b"input: [3]\nblocks:\n  b:\n    layers:\n      - relu:\n"
            b"        repeat: 1000\nlayers:\n  - b:\n    repeat: 1001\n"
        ),
        "more than",
    ),
    "repeat-expression": (
        lambda: (
            b"input: [3]\nblocks:\n  b:\n    args: {n: 2}\n    layers:\n"
            b'      - relu:\n        repeat: "${n * n * n * n * n}"\n'
            b"layers:\n  - b: {n: 9999}\n"
        ),
        None,
    ),
    "from-cycle": (
        lambda: (
            b"input: [3]\nlayers:\n  - relu:\n    name: a\n    from: b\n"
            b"  - relu:\n    name: b\n    from: a\n"
        ),
        "cycle",
    ),
    "from-itself": (lambda: b"input: [3]\nlayers:\n  - relu:\n    name: a\n    from: a\n", None),
    "from-missing": (lambda: b"input: [3]\nlayers:\n  - relu:\n    from: nowhere\n", "nowhere"),
    "expression-import": (
        lambda: (
            b"input: [3, 8, 8]\nblocks:\n  b:\n    layers:\n      -"
            b" conv2d: {out_channels: \"${__import__('os')}\","
            b" kernel_size: 1}\nlayers: [b]\n"
        ),
        None,
    ),
    "expression-division-by-zero": (
        lambda: (
            b"input: [3, 8, 8]\nblocks:\n  b:\n    args: {x: 1}"
            b"\n    layers:\n      - conv2d: {out_channels:"
            b' "${x//0}", kernel_size: 1}\nlayers: [b]\n'
        ),
        "division by zero",
    ),
    "expression-long": (_long_expression, "longer"),
    "expression-deep": (_deep_parentheses, None),
    "expression-many-placeholders": (_many_placeholders, None),
    "expression-at-top-level": (
        lambda: b'input: [3]\nlayers:\n  - linear: {out_features: "${1/0}"}\n',
        None,
    ),
    "top-level-list": (lambda: b"- input: [3]\n- layers: [relu]\n", "mapping"),
    "top-level-int": (lambda: b"42\n", "mapping"),
    "top-level-string": (lambda: b"hello\n", "mapping"),
    "top-level-flow-empty": (lambda: b"{}\n", "missing"),
    "duplicate-top-level-key": (lambda: SMALL.encode() + b"layers: [relu]\n", "duplicate"),
    "duplicate-argument": (
        lambda: (
            b"input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4,"
            b" out_channels: 5, kernel_size: 1}\n"
        ),
        "duplicate",
    ),
    "duplicate-block": (
        lambda: b"input: [3]\nblocks:\n  b: {layers: [relu]}\n  b: {layers: [relu]}\nlayers: [b]\n",
        "duplicate",
    ),
    "duplicate-names": (
        lambda: b"input: [3]\nlayers:\n  - relu: {}\n    name: x\n  - relu: {}\n    name: x\n",
        "twice",
    ),
    "two-documents": (lambda: SMALL.encode() + b"---\n" + SMALL.encode(), "document"),
    "document-then-garbage": (lambda: SMALL.encode() + b"...\n@@@ ]]] {{{\n", None),
    "odd-names": (
        lambda: (
            'input: [3]\nlayers:\n  - relu: {}\n    name: "a\\nb"\n  - relu: {}\n'
            '    name: 名前\n  - relu: {}\n    name: "\\0"\n'.encode()
        ),
        None,
    ),
    "control-character-in-type": (lambda: b'input: [3, 8, 8]\nlayers: ["re\\alu"]\n', None),
    "newline-in-key": (lambda: b'input: [3]\nlayers: [relu]\n"bad\\nkey": 1\n', None),
    "newline-in-type": (lambda: b'input: [3]\nlayers: ["re\\nlu"]\n', None),
    "newline-in-argument": (
        lambda: b'input: [3]\nlayers:\n  - linear: {"out\\nfeatures": 2}\n',
        None,
    ),
    "long-line": (
        lambda: b"input: [3, 8, 8]\nlayers: [relu]\nname: " + b"y" * 1_000_000 + b"\n",
        None,
    ),
    "unknown-type-and-arg": (
        lambda: b"input: [3, 8, 8]\nlayers:\n  - conv9d: {k: 3}\n  - conv2d: {out_chanels: 3}\n",
        "conv9d",
    ),
    "huge-input": (
        lambda: (
            b"input: [1000000000000, 1000000000000, 1000000000000]\nlayers:\n"
            b"  - conv2d: {out_channels: 1000000000000, kernel_size: 3}\n"
        ),
        None,
    ),
    "zero-and-negative-sizes": (lambda: b"input: [0, -3]\nlayers: [relu]\n", "positive"),
    "float-sizes": (lambda: b"input: [3.5, .inf, .nan]\nlayers: [relu]\n", "positive"),
    "int-5000-digits": (
        lambda: b"input: [3]\nlayers:\n  - relu:\n    repeat: " + b"9" * 5000 + b"\n",
        None,
    ),
    "hex-4000-digits-input": (lambda: b"input: [0x" + b"f" * 4000 + b"]\nlayers: [relu]\n", None),
    "input-1e310": (lambda: b"input: [1" + b"0" * 310 + b"]\nlayers: [relu]\n", None),
    "linear-on-1e160": (
        lambda: (
            b"input: [1" + b"0" * 160 + b", 1" + b"0" * 160 + b"]\n"
            b"layers: [{linear: {out_features: 4}}]\n"
        ),
        None,
    ),
    "huge-kernel": (
        lambda: (
            b"input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4,"
            b" kernel_size: 1000000000000000000000000000000}\n"
        ),
        None,
    ),
    "expect-infinity": (lambda: SMALL.encode() + b"expect: {params: .inf}\n", None),
    "expect-nan": (lambda: SMALL.encode() + b"expect: {params: {max: .nan}}\n", None),
    "expect-huge-exponent": (lambda: SMALL.encode() + b'expect: {params: "1e999999999"}\n', None),
    "expect-tiny-exponent": (lambda: SMALL.encode() + b'expect: {params: "1e-999999999"}\n', None),
    "expect-hostile-values": (
        lambda: SMALL.encode() + b"expect:\n  params: {min: [1], max: {}}\n  layers: {nope: 3}\n",
        None,
    ),
    "near-limit-file": (_near_limit_entries, "layers"),
    "long-scalar-9MiB": (_long_scalar, None),
    "over-10MiB": (lambda: b"# " + b"x" * (10 * 2**20) + b"\n" + SMALL.encode(), "10 MiB"),
}

COMMANDS: dict[str, tuple[str, ...]] = {
    "summarize": ("summarize", "{path}", "-f", "json", "--max-layers", FUZZ_MAX_LAYERS),
    "summarize-stdin": ("summarize", "-", "--max-layers", FUZZ_MAX_LAYERS),
    "rf": ("rf", "{path}"),
    "explain": ("explain", "{path}"),
    "check": ("check", "{path}"),
    "check-json": ("check", "-f", "json", "{path}"),
    "check-junit": ("check", "-f", "junit", "{path}"),
    "diff": ("diff", "{path}", "{path}"),
}


# Files whose cost is the same for every command that reads them (their reading, their
# expansion, their `expect:`): a few commands are enough, so that CI stays fast while they fail.
# Files of megabytes: seconds per command, so left out of the fast subset (-m "not slow").
SLOW_FILES = {"near-limit-file", "long-scalar-9MiB"}

ONLY: dict[str, tuple[str, ...]] = {
    "near-limit-file": ("summarize",),
    "exponential-blocks-distinct-args": ("summarize", "rf"),
    "expect-huge-exponent": ("summarize", "check"),
    "expect-tiny-exponent": ("summarize", "check"),
}


@cache
def _hostile_bytes(name: str) -> bytes:
    return HOSTILE[name][0]()


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@pytest.mark.parametrize(
    ("name", "command"),
    [
        pytest.param(name, command, marks=[pytest.mark.slow] if name in SLOW_FILES else [])
        for name in HOSTILE
        for command in sorted(COMMANDS)
        if command in ONLY.get(name, (command,))
    ],
)
def test_hostile_file(
    name: str, command: str, hostile_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each hostile file through summarize (file, stdin), rf, explain, check (3 formats), diff
    (or, for the files in ONLY, the commands named there)."""
    data = _hostile_bytes(name)
    path = hostile_dir / f"{name}.yaml"
    if not path.exists():
        path.write_bytes(data)
    monkeypatch.chdir(tmp_path)  # a `touch` or `echo > file` run from the spec would land here
    stdin = data if command == "summarize-stdin" else None
    args = tuple(str(path) if a == "{path}" else a for a in COMMANDS[command])
    run = invoke(*args, stdin=stdin)
    text = _text(data)
    shown = "<stdin>" if stdin is not None else str(path)
    assert_clean(run, shown, text if text is None or len(text) < 2**20 else None)
    messages = CONTEXT.sub("", run.stderr)  # the source line shown under an error quotes it
    assert "pwned" not in run.stdout + messages
    assert list(tmp_path.iterdir()) == []
    if command == "summarize":
        assert_json_summary(run, None)
    if command.startswith("summarize"):
        phrase = HOSTILE[name][1]
        if phrase is not None:
            assert run.exit_code == 2 and phrase in run.stderr, _describe(run, None)


# ---- exact numbers ---------------------------------------------------------------------------


def test_params_of_a_trillion_are_exact(tmp_path: Path) -> None:
    """A 1,000,000 → 1,000,000 linear layer has exactly 1,000,001,000,000 parameters."""
    path = tmp_path / "big.yaml"
    path.write_text("input: [1000000]\nlayers:\n  - linear: {out_features: 1000000}\n")
    run = invoke("summarize", str(path), "-f", "json")
    assert_clean(run, str(path), path.read_text())
    totals = json.loads(run.stdout)["totals"]
    assert totals["params"] == 1_000_001_000_000
    assert type(totals["params"]) is int
    assert totals["macs"] == 10**12
    assert totals["param_bytes"] == 4 * 1_000_001_000_000
    # weights, gradients, Adam's two moments; the input the linear keeps for backward
    assert totals["memory"]["total_bytes"] == 4 * 4 * 1_000_001_000_000 + 4 * 1_000_000


def test_beyond_float_precision_stays_exact(tmp_path: Path) -> None:
    """Counts past 2^53 (where a float would round) are printed digit for digit."""
    n = 10**9 + 7
    path = tmp_path / "huge.yaml"
    path.write_text(
        f"input: [{n}]\nlayers:\n  - linear: {{out_features: {n}}}\n"
        f"expect: {{params: {n * n + n}}}\n"
    )
    run = invoke("summarize", str(path), "-f", "json")
    assert_clean(run, str(path), path.read_text())
    assert json.loads(run.stdout)["totals"]["params"] == n * n + n
    assert n * n + n > 2**53 and float(n * n + n) != n * n + n
    checked = invoke("check", str(path))
    assert_clean(checked, str(path), path.read_text())
    assert checked.exit_code == 0, checked.stdout


# ---- known reproductions, kept small -----------------------------------------------------------


@pytest.mark.parametrize(
    ("expect", "phrase"),
    [
        ("{params: .inf}", "params"),
        ("{params: {min: -.inf}}", "params"),
        ("{layers: {conv2d_1: {macs: {max: .inf}}}}", "macs"),
    ],
)
def test_expect_numbers_out_of_range_are_located_errors(
    tmp_path: Path, expect: str, phrase: str
) -> None:
    """An expectation of infinity is refused with a located error (10^999999999 and
    10^-999999999: the hostile files expect-huge-exponent and expect-tiny-exponent)."""
    path = tmp_path / "net.yaml"
    path.write_text(f"{SMALL}expect: {expect}\n")
    run = invoke("check", str(path))
    assert_clean(run, str(path), path.read_text())
    assert run.exit_code == 2 and phrase in run.stdout, _describe(run, path.read_text())


def test_rf_of_a_spec_without_spatial_dimensions_is_located(tmp_path: Path) -> None:
    """`rf` on a valid vector network answers with a FILE:LINE:COL line at the input."""
    path = tmp_path / "dense.yaml"
    path.write_text("input: [4]\nlayers: [relu]\n")
    run = invoke("rf", str(path))
    assert_clean(run, str(path), path.read_text())
    assert run.exit_code == 2 and run.stderr.startswith(f"{path}:1:8: "), run.stderr


def test_stdin_is_named_alike_in_every_message() -> None:
    """Standard input is `<stdin>` in a message about its bytes as in one about its YAML."""
    bad_yaml = invoke("summarize", "-", stdin=b"input: [3\n")
    bad_bytes = invoke("summarize", "-", stdin=b"input: [3]\xff\n")
    assert bad_yaml.stderr.startswith("<stdin>:"), bad_yaml.stderr
    assert bad_bytes.stderr.startswith("<stdin>:"), bad_bytes.stderr


CHAIN_WORDS = [
    "conv2d",
    "maxpool2d",
    "avgpool2d",
    "convtranspose2d",
    "upsample",
    "relu",
    "linear",
    "flatten",
    "conv1d",
    "conv3d",
    "nope",
    "k3",
    "s2",
    "p1",
    "d2",
    "k0",
    "s0",
    "k-1",
    "k99999999999999999999",
    "p=same",
    "padding=valid",
    "k=",
    "=3",
    "scale_factor=2",
    "mode=bilinear",
    "out_channels=4",
    "groups=3",
    "k3x3",
    ",",
    ", ",
    " ",
    "  ",
    "${1//0}",
    "名",
    "\x00",
    "\n",
    "[",
    "{",
    "k1e9",
    "s-1",
    "kernel_size=[3,5]",
    "stride=[[2]]",
    "padding=&a",
    "k=!!python/name:os.system",
]


def _billion_laughs_value() -> str:
    value = "[&a0 [1,1,1,1,1,1,1,1,1,1]"
    for i in range(1, 9):
        value += f", &a{i} [{','.join([f'*a{i - 1}'] * 10)}]"
    return value + "]"


def assert_chain_clean(run: Run) -> None:
    """`rf --chain`: exit 0 or 2, no traceback, bounded time, errors located in the chain."""
    chain = run.args[2]
    why = _describe(run, chain)
    assert run.exit_code is not None, "hang" + why
    assert run.exception is None or isinstance(run.exception, SystemExit), "crash" + why
    assert run.exit_code in (0, 2) and "Traceback" not in run.stderr, why
    assert run.seconds < CPU_LIMIT and run.memory < MEMORY_LIMIT, why
    if run.exit_code == 2:
        errors = located_errors(run.stderr)
        assert errors, why
        for m in errors:
            assert m["file"] == "<chain>", why
            line, col = int(m["line"]), int(m["col"])
            assert line >= 1 and 1 <= col <= len(chain) + 1, (
                f"the position {line}:{col} is outside the chain {chain!r}" + why
            )


@pytest.mark.slow
@settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    words=st.lists(st.sampled_from(CHAIN_WORDS), max_size=12),
    shape=st.sampled_from([None, "1,224,224", "3,8,8", "5", "1,1,1,1", "2,100000000,3"]),
)
def test_rf_chain_never_crashes(words: list[str], shape: str | None) -> None:
    """`rf --chain` text is hostile input too: random chains of layer words and arguments."""
    assert_chain_clean(
        invoke("rf", "--chain", " ".join(words), *(["--input", shape] if shape else []))
    )


@pytest.mark.parametrize(
    "chain",
    [
        "conv2d kernel_size=" + "[" * 3000 + "1" + "]" * 3000,
        "conv2d kernel_size=" + "{a: " * 3000 + "1" + "}" * 3000,
        "conv2d kernel_size=" + _billion_laughs_value(),
        "conv2d kernel_size=!!python/object/apply:os.system ['echo pwned']",
        "conv2d k3, " * 5000 + "relu",
        "conv2d " + "k3 " * 10000,
        "conv2d k" + "9" * 5000,
    ],
    ids=[
        "deep-lists",
        "deep-maps",
        "billion-laughs",
        "python-tag",
        "5000-layers",
        "10000-arguments",
        "5000-digits",
    ],
)
def test_rf_chain_hostile_values(chain: str) -> None:
    """Values in a chain are YAML too: nesting, aliases and tags are refused, not crashed on."""
    run = invoke("rf", "--chain", chain)
    assert_chain_clean(run)
    assert "pwned" not in run.stdout


def test_chain_errors_point_into_the_chain() -> None:
    """A bad argument of an inline chain is located in the chain text, as a spec's would be."""
    run = invoke("rf", "--chain", "conv2d k0", "--input", "3,8,8")
    assert run.exit_code == 2
    assert run.stderr.startswith("<chain>:1:8: "), run.stderr  # at `k0`
