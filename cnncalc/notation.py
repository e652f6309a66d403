"""How cnncalc writes shapes, per-dimension values, axis names and sizes, in one place.

A leaf: the core's messages (layers, graph, expect, errors) and the renderers both use it, so it
imports nothing of cnncalc's stages (arithmetic is pure formulas), and nothing renders upward.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cnncalc.arithmetic import Exact, fraction_text

TIMES = "×"

# The letters a message gives the spatial dimensions, by their number.
SPATIAL_AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}

# What `rf --unit` calls the indices of a unit, by the number of spatial dimensions.
UNIT_AXES = {1: ("positions",), 2: ("rows", "columns"), 3: ("slices", "rows", "columns")}


GROUPED_FROM = 10_000  # a size of five digits or more gets thousands separators: 750,000


def dim(n: int) -> str:
    """One size as people read it: 2048 and 224 as they are (as every paper writes shapes),
    750,000 with separators, as the counts beside it (75,000,100) are written."""
    return f"{n:,}" if abs(n) >= GROUPED_FROM else str(n)


_LONG_INTEGER = re.compile(r"(?<![\w.,])\d{5,}(?!\w)")


def grouped(text: str) -> str:
    """Every integer of five digits or more in a worked formula with separators, as dim()
    writes a size: '3·500·500 = 750000' → '3·500·500 = 750,000'. Digits inside a word or
    after a decimal point are left alone."""
    return _LONG_INTEGER.sub(lambda m: dim(int(m.group())), text)


def shape(dims: Sequence[int], sep: str = TIMES) -> str:
    """Sizes as written everywhere: 3×224×224, 3×750,000 (dim()), 'scalar' for none. With
    another `sep` (CSV's 3x224x224) the sizes are plain digits, for a program to split."""
    if not dims:
        return "scalar"
    return sep.join(map(dim if sep == TIMES else str, dims))


def _exact(value: Exact, sep: str) -> str:
    """A per-dimension value: an integer as dim() writes it (in human output), else 7/4."""
    if sep == TIMES and value.denominator == 1:
        return dim(value.numerator)
    return fraction_text(value)


def per_dim(values: Sequence[Exact], sep: str = TIMES) -> str:
    """One number when every dimension agrees (the usual square case), else 3×5; fractions
    as people write them (7/4); sizes as dim() writes them unless `sep` is a machine's."""
    first = values[0]
    if values.count(first) == len(values):  # equal values, equal texts: fractions are reduced
        return _exact(first, sep)
    return sep.join(_exact(v, sep) for v in values)


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
