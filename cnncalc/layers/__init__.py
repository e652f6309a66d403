"""Layer descriptors, one module per family, all registered in one table."""

from __future__ import annotations

from cnncalc.layers import activation, conv, linear, merge, norm, pool, shape  # noqa: F401 (register)
from cnncalc.layers.base import LayerType, Result, Shape
from cnncalc.layers.registry import TYPES

__all__ = ["TYPES", "LayerType", "Result", "Shape"]
