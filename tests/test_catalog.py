"""The catalog's records: families in order, arguments with their defaults, unknown types."""

from __future__ import annotations

import pytest

from cnncalc.catalog import FAMILIES, families, type_info
from cnncalc.errors import UsageError


def test_families_in_order_and_types_sorted() -> None:
    grouped = families()
    names = [family for family, _ in grouped]
    assert names == [f for f in FAMILIES if f in names]
    for _, members in grouped:
        assert [t.name for t in members] == sorted(t.name for t in members)


def test_an_argument_and_its_default() -> None:
    conv = type_info("Conv2D")
    assert conv.name == "conv2d" and conv.family == "conv" and conv.max_inputs == 1
    args = {a.name: a for a in conv.args}
    assert args["out_channels"].required
    assert not args["stride"].required and args["stride"].default == 1
    assert args["bias"].default is True


def test_an_unknown_type_suggests_one() -> None:
    with pytest.raises(UsageError) as raised:
        type_info("conv2")
    assert str(raised.value) == "unknown layer type 'conv2'; did you mean 'conv2d'?"
