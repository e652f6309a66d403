"""The error hierarchy: every problem cnncalc reports to a user is a CnncalcError."""

from __future__ import annotations

from typing import NamedTuple


class Pos(NamedTuple):
    """A 1-based position in a source file."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


UNKNOWN_POS = Pos("<unknown>", 0, 0)


class CnncalcError(Exception):
    """Base class of the errors cnncalc explains to its user (exit code 2)."""


class SpecError(CnncalcError):
    """A spec that cannot be read or computed, located at a file, line and column."""

    def __init__(self, message: str, pos: Pos, layer: str | None = None) -> None:
        self.message = message
        self.pos = pos
        self.layer = layer
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"layer '{self.layer}': " if self.layer else ""
        return f"{self.pos}: {where}{self.message}"


class LayerError(CnncalcError):
    """A layer's arguments or input shapes break a rule; located later by the graph builder.

    `arg` names the argument at fault, so that the message can point at its value.
    """

    def __init__(self, message: str, arg: str | None = None) -> None:
        self.message = message
        self.arg = arg
        super().__init__(message)


class UsageError(CnncalcError):
    """A command-line option that makes no sense (an --input that is not a shape, ...)."""
