"""Shared fixtures: paths, the golden-file option, and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cnncalc.cli import main

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/* from the current output",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def run(*args: str, input: str | None = None) -> Result:
    """Invoke the CLI in-process, stdout and stderr kept apart; a bug raises, traceback and
    all (CNNCALC_DEBUG), rather than becoming cnncalc's one-line internal-error report."""
    return CliRunner().invoke(
        main, list(args), input=input, catch_exceptions=False, env={"CNNCALC_DEBUG": "1"}
    )


def write_spec(tmp_path: Path, text: str, name: str = "net.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)
