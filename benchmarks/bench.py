"""How fast cnncalc answers, next to the floor of its own imports and next to torchinfo.

Run from the repository root, in a venv with cnncalc installed:

    pip install -e . -r benchmarks/requirements.txt
    python benchmarks/bench.py

Each command runs as a fresh process, as a user runs it, the commands taking turns round by
round. Both the fastest and the median wall time of the runs are printed; the goals (issue
"Hardening and speed") are judged on the fastest, since on a shared machine other work only
ever adds time (the advice of Python's timeit), and the script exits 1 if one is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
_SCRIPT = Path(PY).with_name("cnncalc")
CNNCALC = [str(_SCRIPT)] if _SCRIPT.exists() else [PY, "-m", "cnncalc"]  # as users run it

TORCHINFO = """
import sys
sys.path.insert(0, {tests!r})
import torchinfo
from reference_models import REFERENCES
torchinfo.summary(REFERENCES["resnet50"].build(), input_size=(1, 3, 224, 224), verbose=0)
"""


def run_once(argv: Sequence[str], env: dict[str, str] | None) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(argv)}\n{done.stderr.decode()}")
    return elapsed


def interleaved(
    commands: dict[str, tuple[Sequence[str], dict[str, str] | None]], runs: int
) -> dict[str, list[float]]:
    """Seconds of every run per command, the commands taking turns round by round so that a
    slow moment of the machine falls on all of them alike (one warm-up round is discarded)."""
    times: dict[str, list[float]] = {label: [] for label in commands}
    for round_ in range(runs + 1):
        for label, (argv, env) in commands.items():
            elapsed = run_once(argv, env)
            if round_:
                times[label].append(elapsed)
    return times


def chain_spec(path: Path, layers: int) -> Path:
    """A generated spec of `layers` layers: 3×3 convolutions and ReLUs, alternating."""
    lines = [f"name: chain-{layers}", "input: [16, 64, 64]", "layers:"]
    for i in range(layers):
        lines.append(
            "  - conv2d: {out_channels: 16, kernel_size: 3, padding: 1}"
            if i % 2 == 0
            else "  - relu"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def render_costs(spec: str, runs: int = 20) -> None:
    """In-process milliseconds to print the ResNet-50 table through a rich Console: as rich's
    own Table, and as cnncalc lays it out (lines of styled Text); best of `runs`."""
    import io

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from cnncalc.analysis import summarize
    from cnncalc.graph import build
    from cnncalc.render import DEFAULT_COLUMNS, laid_out
    from cnncalc.render.grid import _trimmed
    from cnncalc.render.text import cells, headers
    from cnncalc.source import source_of
    from cnncalc.spec import load

    summary = summarize(build(load(source_of(spec))))

    def console() -> Console:
        return Console(file=io.StringIO(), width=200, force_terminal=True, highlight=False)

    def with_rich_table() -> None:
        table = Table(box=None)
        for header in headers(summary, DEFAULT_COLUMNS):
            table.add_column(header)
        for row in cells(summary, DEFAULT_COLUMNS, sparse_inputs=True):
            table.add_row(*row)
        console().print(table)

    def with_text(width: int | None) -> None:
        text = Text()
        for line in laid_out(summary, width=width).lines:
            for i, (part, style) in enumerate(_trimmed(line)):
                text.append(line[2] if i else "")
                text.append(part, style)
            text.append("\n")
        console().print(text, end="")

    def with_segments(width: int | None) -> None:
        console().print(laid_out(summary, width=width), end="")

    for label, work in (
        ("rich Table", with_rich_table),
        ("laid out, as one rich Text", lambda: with_text(None)),
        ("laid out, as segments (cnncalc)", lambda: with_segments(None)),
        ("the same at 80 columns", lambda: with_segments(80)),
    ):
        best = min(_timed(work) for _ in range(runs))
        print(f"render {len(summary.rows)} rows: {label:<28} {best * 1000:7.1f} ms")


def _timed(work: Callable[[], None]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per command")
    parser.add_argument("--no-torchinfo", action="store_true", help="skip the torchinfo run")
    parser.add_argument(
        "--render",
        action="store_true",
        help="also time, in this process, rich's Table against laid-out Text for the table",
    )
    args = parser.parse_args()

    colour = {**os.environ, "FORCE_COLOR": "1"}
    spec = "specs/resnet50.yaml"
    # Two floors (issue 12): a table is printed through rich, so its floor imports
    # rich.console; JSON never imports rich, so its floor is click and yaml alone.
    quick = {
        "import floor (table): click, yaml, rich.console": (
            [PY, "-c", "import click, yaml, rich.console"],
            None,
        ),
        "import floor (json): click, yaml": (
            [PY, "-c", "import click, yaml"],
            None,
        ),
        "cnncalc summarize resnet50 (table, piped)": ([*CNNCALC, "summarize", spec], None),
        "cnncalc summarize resnet50 (table, colour)": ([*CNNCALC, "summarize", spec], colour),
        "cnncalc summarize resnet50 (table, 80 columns)": (
            [*CNNCALC, "summarize", spec, "--width", "80"],
            colour,
        ),
        "cnncalc summarize resnet50 --format json": (
            [*CNNCALC, "summarize", spec, "--format", "json"],
            None,
        ),
    }
    torchinfo_label = "torchinfo.summary(resnet50), with import torch"
    if not args.no_torchinfo:  # in the same rounds as cnncalc: the ratio sees the same machine
        quick[torchinfo_label] = ([PY, "-c", TORCHINFO.format(tests=str(ROOT / "tests"))], None)
    runs = interleaved(quick, args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        big = chain_spec(Path(tmp) / "chain-20000.yaml", 20_000)
        small = chain_spec(Path(tmp) / "chain-2000.yaml", 2_000)
        runs.update(
            interleaved(
                {
                    "cnncalc summarize 20,000 layers --format json": (
                        [*CNNCALC, "summarize", str(big), "--format", "json"],
                        None,
                    ),
                    "cnncalc summarize 2,000 layers --format json": (
                        [*CNNCALC, "summarize", str(small), "--format", "json"],
                        None,
                    ),
                },
                max(3, args.runs // 3),
            )
        )
    print(f"{'':<62} {'fastest':>9}    {'median':>9}")
    for label, seconds in runs.items():
        print(
            f"{label:<62} {min(seconds) * 1000:9.1f} ms {statistics.median(seconds) * 1000:9.1f} ms"
        )
    results = {label: min(seconds) for label, seconds in runs.items()}
    floor, own_floor, table, table_colour, table_80, as_json = list(results.values())[:6]
    torchinfo = results.get(torchinfo_label)
    t20k, t2k = (
        results["cnncalc summarize 20,000 layers --format json"],
        results["cnncalc summarize 2,000 layers --format json"],
    )

    slowest_table = max(table, table_colour, table_80)
    goals = [
        (
            f"resnet50 table within 2× the click + yaml + rich.console floor:"
            f" {slowest_table / floor:.2f}×",
            slowest_table <= 2 * floor,
        ),
        (
            f"resnet50 JSON within 1.5× the click + yaml floor: {as_json / own_floor:.2f}×",
            as_json <= 1.5 * own_floor,
        ),
        (f"20,000 layers to JSON under 2 s: {t20k:.2f} s", t20k < 2.0),
        (f"20,000 vs 2,000 layers at most 12×: {t20k / t2k:.1f}×", t20k / t2k <= 12),
    ]
    if torchinfo is not None:
        slowest = max(slowest_table, as_json)
        goals.append(
            (
                f"at least 20× faster than torchinfo: {torchinfo / slowest:.1f}×",
                torchinfo >= 20 * slowest,
            ),
        )
    print()
    print(
        "ratios: "
        + ", ".join(
            [
                f"table/floor {table / floor:.2f}",
                f"colour/floor {table_colour / floor:.2f}",
                f"80 columns/floor {table_80 / floor:.2f}",
                f"json/click+yaml {as_json / own_floor:.2f}",
                f"20k/2k {t20k / t2k:.1f}",
            ]
        )
    )
    if args.render:
        render_costs(spec)
    missed = 0
    for text, ok in goals:
        print(f"{'met   ' if ok else 'MISSED'} {text}")
        missed += not ok
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
