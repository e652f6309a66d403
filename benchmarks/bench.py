"""How fast cnncalc answers, next to the floor of its own imports and next to torchinfo.

Run from the repository root, in a venv with cnncalc installed:

    pip install -e . -r benchmarks/requirements.txt
    python benchmarks/bench.py

Each command runs as a fresh process, as a user runs it; the figure is the median wall time of
several runs. The goals (issue "Hardening and speed") are checked at the end: the script exits
1 if one is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
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


def timed(argv: Sequence[str], runs: int, env: dict[str, str] | None = None) -> float:
    """Median seconds of `runs` fresh processes (after one warm-up for the disk cache)."""
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              env=env, cwd=ROOT, check=False)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"failed: {' '.join(argv)}\n{done.stderr.decode()}")
        if i:
            times.append(elapsed)
    return statistics.median(times)


def chain_spec(path: Path, layers: int) -> Path:
    """A generated spec of `layers` layers: 3×3 convolutions and ReLUs, alternating."""
    lines = [f"name: chain-{layers}", "input: [16, 64, 64]", "layers:"]
    for i in range(layers):
        lines.append("  - conv2d: {out_channels: 16, kernel_size: 3, padding: 1}" if i % 2 == 0
                     else "  - relu")
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per command (median)")
    parser.add_argument("--no-torchinfo", action="store_true", help="skip the torchinfo run")
    args = parser.parse_args()

    colour = {**os.environ, "FORCE_COLOR": "1"}
    rows: list[tuple[str, float]] = []

    def measure(label: str, argv: Sequence[str], runs: int = args.runs,
                env: dict[str, str] | None = None) -> float:
        seconds = timed(argv, runs, env)
        rows.append((label, seconds))
        print(f"{label:<58} {seconds * 1000:9.1f} ms", flush=True)
        return seconds

    spec = "specs/resnet50.yaml"
    # The floor imports rich too; cnncalc no longer needs it, so the floor of what it
    # does import (click, yaml) is measured as well, and the goal is checked against both.
    floor = measure("import floor (issue): click, yaml, rich.console, rich.table",
                    [PY, "-c", "import click, yaml, rich.console, rich.table"])
    own_floor = measure("import floor (cnncalc's dependencies): click, yaml",
                        [PY, "-c", "import click, yaml"])
    table = measure("cnncalc summarize resnet50 (table, piped)", [*CNNCALC, "summarize", spec])
    table_colour = measure("cnncalc summarize resnet50 (table, colour)",
                           [*CNNCALC, "summarize", spec], env=colour)
    as_json = measure("cnncalc summarize resnet50 --format json",
                      [*CNNCALC, "summarize", spec, "--format", "json"])
    torchinfo = None
    if not args.no_torchinfo:
        code = TORCHINFO.format(tests=str(ROOT / "tests"))
        torchinfo = measure("torchinfo.summary(resnet50), with import torch",
                            [PY, "-c", code], runs=max(3, args.runs // 2))
    with tempfile.TemporaryDirectory() as tmp:
        big = chain_spec(Path(tmp) / "chain-20000.yaml", 20_000)
        small = chain_spec(Path(tmp) / "chain-2000.yaml", 2_000)
        t20k = measure("cnncalc summarize 20,000 layers --format json",
                       [*CNNCALC, "summarize", str(big), "--format", "json"], runs=3)
        t2k = measure("cnncalc summarize 2,000 layers --format json",
                      [*CNNCALC, "summarize", str(small), "--format", "json"])

    slowest = max(table, table_colour, as_json)
    goals = [
        (f"resnet50 within 1.5× the import floor: {slowest / floor:.2f}×", slowest <= 1.5 * floor),
        (f"20,000 layers to JSON under 2 s: {t20k:.2f} s", t20k < 2.0),
        (f"20,000 vs 2,000 layers at most 12×: {t20k / t2k:.1f}×", t20k / t2k <= 12),
    ]
    if torchinfo is not None:
        goals.insert(1, (f"at least 20× faster than torchinfo: {torchinfo / slowest:.1f}×",
                         torchinfo >= 20 * slowest))
    print()
    print("ratios: " + ", ".join([
        f"table/floor {table / floor:.2f}", f"colour/floor {table_colour / floor:.2f}",
        f"json/floor {as_json / floor:.2f}", f"slowest/click+yaml {slowest / own_floor:.2f}",
        *([f"torchinfo/cnncalc {torchinfo / slowest:.1f}"] if torchinfo else []),
        f"20k/2k {t20k / t2k:.1f}"]))
    print(f"(for reference, not a goal: {slowest / own_floor:.2f}× the click + yaml floor,"
          " the imports cnncalc itself needs)")
    missed = 0
    for text, ok in goals:
        print(f"{'met   ' if ok else 'MISSED'} {text}")
        missed += not ok
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
