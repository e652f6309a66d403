"""Exporters: a layer graph out as another framework's code (pytorch.py) or as a drawing
(draw.py); STYLE.md: they leave from the graph. `Target` is the vocabulary of `export --to`."""

from __future__ import annotations

from cnncalc.enums import ExportTarget as Target
from cnncalc.errors import SpecError


class ExportError(SpecError):
    """A spec that cannot be written exactly in the target (a layer type, a name, a wiring):
    located at the layer, the message names it and says why (exit code 2), rather than
    writing code that computes something else."""


__all__ = ["ExportError", "Target"]
