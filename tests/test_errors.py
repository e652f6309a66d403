"""How messages show values and suggest corrections."""

from __future__ import annotations

import pytest

from cnncalc.errors import did_you_mean, shown
from cnncalc.source import parse


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3, "3"),
        (2.5, "2.5"),
        (True, "true"),
        (None, "null"),
        (float("inf"), ".inf"),
        (float("-inf"), "-.inf"),
        (float("nan"), ".nan"),
        ("abc", "'abc'"),
        ("a\nb", "'a\\nb'"),  # one line, whatever the value holds
        ((3, 3), "[3, 3]"),
        ([1, [2, "x"]], "[1, [2, 'x']]"),
        ({"a": 1, "b": [True, None]}, "{a: 1, b: [true, null]}"),
        ([], "[]"),
        ({}, "{}"),
        ("x" * 100, "'" + "x" * 38 + "…'"),  # cut inside its quotes
        (list(range(100)), "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12…"),
    ],
)
def test_shown_writes_yaml_flow_style_cut_short(value: object, text: str) -> None:
    assert shown(value) == text


def test_shown_writes_a_parsed_node_as_the_value_it_holds() -> None:
    node = parse("a: [[3, 8, 8]]\nb: {x: 1}\n", "t.yaml")
    assert shown(node) == "{a: [[3, 8, 8]], b: {x: 1}}"
    assert shown(node.value["a"]) == "[[3, 8, 8]]"


def test_shown_stops_early_on_huge_values() -> None:
    """A million-item list is not walked to the end to show 40 characters of it."""
    assert len(shown([[0] * 1000] * 1000)) < 50


@pytest.mark.parametrize(
    ("word", "options", "hint"),
    [
        ("cnv2d", ["conv1d", "conv2d", "conv3d"], "; did you mean 'conv2d'?"),
        ("conv", ["conv1d", "conv2d", "conv3d"], "; did you mean 'conv1d', 'conv2d' or 'conv3d'?"),
        ("dropout2", ["dropout", "dropout2d"], "; did you mean 'dropout2d' or 'dropout'?"),
        ("xyz", ["conv1d", "relu"], ""),
        ("nmae", ["name", "from", "repeat", "trainable"], "; did you mean 'name'?"),
    ],
)
def test_did_you_mean_names_every_option_about_as_close_as_the_best(
    word: str, options: list[str], hint: str
) -> None:
    assert did_you_mean(word, options) == hint
