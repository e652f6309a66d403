"""The one table of layer types: every family module registers its descriptors here."""

from __future__ import annotations

from cnncalc.layers.base import LayerType

TYPES: dict[str, LayerType] = {}


def register(*types: LayerType) -> None:
    """Add layer descriptors to the table; a name may be registered only once."""
    for t in types:
        if t.name in TYPES:
            raise ValueError(f"layer type {t.name!r} registered twice")
        TYPES[t.name] = t
