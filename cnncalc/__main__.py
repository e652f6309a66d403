"""Allow `python -m cnncalc`."""

from __future__ import annotations

from cnncalc.cli import main

main()
