"""cnncalc: shapes, parameter counts and more for neural networks described in YAML."""

from __future__ import annotations

__version__ = "0.1.0"
