"""Run cnncalc in a child process under resource limits: CPU time and address space.

Regression tests for hostile input bound what a run may cost by CPU time and memory, which a
busy machine does not change, never by the wall clock. The child's RLIMIT_CPU kills a runaway
(SIGXCPU), RLIMIT_AS turns a blow-up into a MemoryError, and a generous wall-clock watchdog only
catches true hangs (a blocking read), so that CI cannot stall.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

CPU_SECONDS = 10  # a hostile spec must be answered within this much CPU time
MEMORY_BYTES = 1 << 30  # and within 1 GiB of address space (the interpreter included)
WALL_WATCHDOG = 300.0  # seconds: only a hang gets here; not a pass/fail bound on speed


class Bounded(NamedTuple):
    """What a bounded child run did."""

    args: tuple[str, ...]
    exit_code: int  # negative: killed by that signal (SIGXCPU: out of CPU time)
    stdout: str
    stderr: str
    cpu_seconds: float  # user + system CPU time of the child
    hung: bool  # interrupted by the wall-clock watchdog

    def describe(self) -> str:
        return (
            f"\n$ cnncalc {' '.join(self.args)}\nexit {self.exit_code}, "
            f"{self.cpu_seconds:.2f} CPU s{', HUNG' if self.hung else ''}\n--- stderr:\n"
            f"{self.stderr[-2000:]}\n--- stdout:\n{self.stdout[-1000:]}"
        )


def run_bounded(
    *args: str,
    stdin: bytes | None = None,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    cpu_seconds: int = CPU_SECONDS,
    memory_bytes: int = MEMORY_BYTES,
) -> Bounded:
    """Run `python -m cnncalc ARGS` with its CPU time and address space capped."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CNNCALC_")}
    full_env.update({"NO_COLOR": "1", "COLUMNS": "200", **(env or {})})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with subprocess.Popen(
        [sys.executable, "-m", "cnncalc", *args],
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=full_env,
        preexec_fn=limit,
    ) as child:
        hung = False
        try:
            out, err = child.communicate(stdin, timeout=WALL_WATCHDOG)
        except subprocess.TimeoutExpired:
            child.kill()
            out, err = child.communicate()
            hung = True
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Bounded(
        args,
        child.returncode,
        out.decode("utf-8", "replace"),
        err.decode("utf-8", "replace"),
        cpu,
        hung,
    )


def assert_refused(run: Bounded, *phrases: str, exit_code: int = 2) -> None:
    """The run ended by itself, within its bounds, with one located line naming each phrase."""
    why = run.describe()
    assert not run.hung, "hang" + why
    assert run.exit_code == exit_code, why
    assert "Traceback" not in run.stderr, why
    lines = run.stderr.splitlines()
    assert lines, "no message" + why
    for phrase in phrases:
        assert phrase in run.stderr, f"{phrase!r} not in the message" + why
