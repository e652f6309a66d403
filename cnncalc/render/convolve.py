"""Text and JSON for `cnncalc convolve`: each output element's sum written out, then the result.

Numbers are printed exactly: integers as they are, decimals as exact decimals (0.3, never
0.30000000000000004), negative numbers with a minus sign (−) and, inside a product, in
parentheses, as the course writes them: out[0] = 0·(−2) + 4·1 = 4.
"""

from __future__ import annotations

from typing import Any

from cnncalc.arithmetic import Exact, fraction_text
from cnncalc.convolve import AXES, Array, Convolution, Element, Mode
from cnncalc.render.json import dumps

MINUS = "\u2212"


def number(x: Exact, *, minus: str = MINUS) -> str:
    """An exact number as people write it: 4, −7, 0.3, −1.25 (a fraction like 1/3 as such)."""
    if isinstance(x, int):
        return str(x).replace("-", minus)
    if x.denominator == 1:
        return str(x.numerator).replace("-", minus)
    den, twos, fives = x.denominator, 0, 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    if den != 1:  # not a decimal: cannot come from decimal input, but stay exact
        return fraction_text(x).replace("-", minus)
    places = max(twos, fives)
    digits = str(abs(x.numerator) * (10**places // x.denominator)).rjust(places + 1, "0")
    sign = minus if x < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def _factor(x: Exact) -> str:
    """A number inside a product: negative ones in parentheses, (−2)."""
    text = number(x)
    return f"({text})" if x < 0 else text


def _array(a: Array) -> str:
    """[4, 1, −1, 3] or [[1, 2], [3, 4]] on one line."""
    if len(a.shape) == 1:
        return "[" + ", ".join(number(x) for x in a.values) + "]"
    return "[" + ", ".join("[" + ", ".join(map(number, row)) + "]" for row in a.nested()) + "]"


def _grid(a: Array) -> list[str]:
    """A 2-D array as aligned rows: [[ 1, −2],\\n [30,  4]]."""
    cells = [[number(x) for x in row] for row in a.nested()]
    width = max(len(c) for row in cells for c in row)
    lines = ["[" + ", ".join(c.rjust(width) for c in row) + "]" for row in cells]
    return [
        ("[" if i == 0 else " ") + line + ("]" if i == len(lines) - 1 else ",")
        for i, line in enumerate(lines)
    ]


def _setting(values: tuple[int, ...]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "(" + ", ".join(map(str, values)) + ")"


def _dims(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape))


def mode_line(c: Convolution) -> str:
    """Which operation was computed, in PyTorch's terms."""
    op = f"conv{len(c.input.shape)}d"
    if c.mode is Mode.CROSS_CORRELATION:
        return f"cross-correlation (as PyTorch's {op} computes it; --flip for true convolution)"
    return (
        f"true convolution: the kernel flipped to {_array(c.applied)}, then slid over the"
        f" input (PyTorch's {op} with the flipped kernel)"
    )


def element_line(e: Element) -> str:
    """out[0] = 0·(−2) + 4·1 = 4"""
    products = " + ".join(f"{_factor(t.value)}·{_factor(t.weight)}" for t in e.terms)
    return f"out[{','.join(map(str, e.index))}] = {products} = {number(e.total)}"


def text(c: Convolution) -> str:
    ndim = len(c.input.shape)
    shape_word = "length " if ndim == 1 else ""
    lines = [
        mode_line(c),
        f"input {shape_word}{_dims(c.input.shape)}, kernel {shape_word}{_dims(c.kernel.shape)},"
        f" stride {_setting(c.stride)}, padding {_setting(c.padding)},"
        f" dilation {_setting(c.dilation)}",
    ]
    if ndim == 1:
        lines.append(f"input {_array(c.input)}, kernel {_array(c.kernel)}")
    for axis, n, k, s, p, d, o in zip(
        AXES[ndim],
        c.input.shape,
        c.kernel.shape,
        c.stride,
        c.padding,
        c.dilation,
        c.output_shape,
        strict=True,
    ):
        lines.append(f"output {axis} = ⌊({n} + 2·{p} − {d}·({k} − 1) − 1) / {s}⌋ + 1 = {o}")
    lines += [element_line(e) for e in c.elements]
    if ndim == 1:
        lines.append(f"result: {_array(c.result)}")
    else:
        lines.append(f"result ({_dims(c.output_shape)}):")
        lines += _grid(c.result)
    return "\n".join(lines) + "\n"


def _json_number(x: Exact) -> int | str:
    """An integer as a JSON number; anything else as an exact decimal string, never a float."""
    if isinstance(x, int) or x.denominator == 1:
        return int(x)
    return number(x, minus="-")


def _json_array(a: Array) -> list[Any]:
    nested = a.nested()
    if len(a.shape) == 1:
        return [_json_number(x) for x in nested]
    return [[_json_number(x) for x in row] for row in nested]


def json(c: Convolution) -> str:
    data = {
        "mode": c.mode.value,
        "input": _json_array(c.input),
        "kernel": _json_array(c.kernel),
        "applied_kernel": _json_array(c.applied),
        "stride": list(c.stride),
        "padding": list(c.padding),
        "dilation": list(c.dilation),
        "output_shape": list(c.output_shape),
        "output": _json_array(c.result),
        "elements": [
            {
                "index": list(e.index),
                "terms": [
                    {
                        "input": _json_number(t.value),
                        "weight": _json_number(t.weight),
                        "at": None if t.at is None else list(t.at),
                    }
                    for t in e.terms
                ],
                "sum": _json_number(e.total),
            }
            for e in c.elements
        ],
    }
    return dumps(data, "elements")
