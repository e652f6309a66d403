"""Layer descriptors, one module per family, all registered in one table.

A family module (activation, attention, conv, linear, merge, norm, pool, recurrent, shape)
defines descriptor classes and registers them; it imports only the shared modules below, never
another family:

- base: LayerType, the descriptor every layer type subclasses, and Result
- args: Arg, REQUIRED and the argument parsers
- checks: fail and the checks of inputs against arguments
- tensors: Shape, numel, axis names, how messages write shapes
- spans: Span and the other receptive-field rules
- costs: Cost and the cost helpers
- formulas: Explanation and the helpers that write worked formulas
- window: sliding-window geometry (padding, fit, sizes) for convolution and pooling
- registry: TYPES, filled by `register`

A new family module registers itself once it is imported here.
"""

from __future__ import annotations

from cnncalc.layers import (  # noqa: F401 (register)
    activation,
    attention,
    conv,
    linear,
    merge,
    norm,
    parameter,
    pool,
    recurrent,
    shape,
    tensor,
)
from cnncalc.layers.base import LayerType, Result, Saved
from cnncalc.layers.costs import Cost, Grads
from cnncalc.layers.registry import TYPES
from cnncalc.layers.tensors import Shape

__all__ = ["TYPES", "Cost", "Grads", "LayerType", "Result", "Saved", "Shape"]
