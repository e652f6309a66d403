"""How cnncalc writes shapes, per-dimension values, axis names and sizes, in one place.

A leaf: the core's messages (layers, graph, expect, errors) and the renderers both use it, so it
imports nothing of cnncalc's stages (arithmetic is pure formulas), and nothing renders upward.
"""

from __future__ import annotations

from collections.abc import Sequence

from cnncalc.arithmetic import Exact, fraction_text

TIMES = "×"

# The letters a message gives the spatial dimensions, by their number.
SPATIAL_AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}

# What `rf --unit` calls the indices of a unit, by the number of spatial dimensions.
UNIT_AXES = {1: ("positions",), 2: ("rows", "columns"), 3: ("slices", "rows", "columns")}


def shape(dims: Sequence[int], sep: str = TIMES) -> str:
    """Sizes as written everywhere: 3×224×224 (or 3,224,224 with `sep`), 'scalar' for none."""
    return sep.join(map(str, dims)) if dims else "scalar"


def per_dim(values: Sequence[Exact], sep: str = TIMES) -> str:
    """One number when every dimension agrees (the usual square case), else 3×5; fractions
    as people write them (7/4)."""
    first = values[0]
    if values.count(first) == len(values):  # equal values, equal texts: fractions are reduced
        return fraction_text(first)
    return sep.join(map(fraction_text, values))


def axis_name(i: int, rank: int) -> str:
    """What a message calls dimension i of a batch-less channels-first shape of that rank:
    'channels', 'H', 'W' ..., or PyTorch's number where no letter is usual."""
    if rank == 1:
        return "features"
    if i == 0:
        return "channels"
    letters = SPATIAL_AXES.get(rank - 1)
    return letters[i - 1] if letters else f"dimension {i + 1}"


def unit_axes(dims: int) -> tuple[str, ...]:
    """The names of a unit's indices ('rows', 'columns'), or 'dim 1', 'dim 2' ... past 3."""
    return UNIT_AXES.get(dims, tuple(f"dim {i + 1}" for i in range(dims)))


def size(nbytes: int) -> str:
    """Bytes in binary units: 97.49 MiB. Integer-safe: no float conversion of the count."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    power = 0
    while power < len(units) - 1 and nbytes >= 1024 ** (power + 1):
        power += 1
    if power == 0:
        return f"{nbytes:,} B"
    return f"{nbytes / 1024**power:,.2f} {units[power]}"
