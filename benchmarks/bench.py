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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per command")
    parser.add_argument("--no-torchinfo", action="store_true", help="skip the torchinfo run")
    args = parser.parse_args()

    colour = {**os.environ, "FORCE_COLOR": "1"}
    spec = "specs/resnet50.yaml"
    # The floor imports rich too; cnncalc no longer needs it, so the floor of what it
    # does import (click, yaml) is measured as well, for reference.
    quick = {
        "import floor (issue): click, yaml, rich.console, rich.table": (
            [PY, "-c", "import click, yaml, rich.console, rich.table"],
            None,
        ),
        "import floor (cnncalc's dependencies): click, yaml": (
            [PY, "-c", "import click, yaml"],
            None,
        ),
        "cnncalc summarize resnet50 (table, piped)": ([*CNNCALC, "summarize", spec], None),
        "cnncalc summarize resnet50 (table, colour)": ([*CNNCALC, "summarize", spec], colour),
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
    floor, own_floor, table, table_colour, as_json = list(results.values())[:5]
    torchinfo = results.get(torchinfo_label)
    t20k, t2k = (
        results["cnncalc summarize 20,000 layers --format json"],
        results["cnncalc summarize 2,000 layers --format json"],
    )

    slowest = max(table, table_colour, as_json)
    goals = [
        (f"resnet50 within 1.5× the import floor: {slowest / floor:.2f}×", slowest <= 1.5 * floor),
        (f"20,000 layers to JSON under 2 s: {t20k:.2f} s", t20k < 2.0),
        (f"20,000 vs 2,000 layers at most 12×: {t20k / t2k:.1f}×", t20k / t2k <= 12),
    ]
    if torchinfo is not None:
        goals.insert(
            1,
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
                f"json/floor {as_json / floor:.2f}",
                f"slowest/click+yaml {slowest / own_floor:.2f}",
                *([f"torchinfo/cnncalc {torchinfo / slowest:.1f}"] if torchinfo else []),
                f"20k/2k {t20k / t2k:.1f}",
            ]
        )
    )
    print(
        f"(for reference, not a goal: {slowest / own_floor:.2f}× the click + yaml floor,"
        " the imports cnncalc itself needs)"
    )
    missed = 0
    for text, ok in goals:
        print(f"{'met   ' if ok else 'MISSED'} {text}")
        missed += not ok
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
