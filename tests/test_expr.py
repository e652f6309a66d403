"""`${expr}` evaluation: integer arithmetic only, with clear refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnncalc.expr import ExprError, evaluate, substitute

ENV = {"c": 64, "k": 3, "s": 2, "pad": "same", "flag": False, "sizes": [3, 5]}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("${c}", 64),
        ("${c * 4}", 256),
        ("${k // 2}", 1),
        ("${(c + 1) * 2}", 130),
        ("${c - k * s}", 58),
        ("${-k}", -3),
        ("${- -k}", 3),
        ("${17 % 5}", 2),
        ("${-7 // 2}", -4),  # floor division, as Python and the spec say
        ("${ c }", 64),
        ("${pad}", "same"),  # a bare name passes any value through
        ("${sizes}", [3, 5]),
        ("conv${k}", "conv3"),
        ("b${k}_${s}", "b3_2"),
        ("plain", "plain"),
    ],
)
def test_substitute(text: str, value: object) -> None:
    assert substitute(text, ENV) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${x}", "unknown name 'x' (arguments in scope: c, flag, k, pad, s, sizes)"),
        ("${c / 2}", "'/' in 'c / 2': use // for integer division"),
        ("${c // 0}", "division by zero in 'c // 0'"),
        ("${c % (k - 3)}", "division by zero in 'c % (k - 3)'"),
        (
            "${pad + 1}",
            "argument 'pad' is 'same', not an integer, so it cannot be used in"
            " arithmetic ('pad + 1')",
        ),
        ("${flag * 2}", "'*' takes integers, got false"),
        ("${__import__('os')}", 'unexpected character "\'"'),
        ("${c ** 2}", "unexpected '*'"),
        ("${(c + 1}", "missing ')'"),
        ("${c +}", "ends too early"),
        ("${}", "empty expression"),
        ("${c c}", "unexpected 'c'"),
        ("${1.5}", "unexpected character '.'"),
        ("x${sizes}", "cannot put a list inside a string"),
        ("${c", "unterminated or nested placeholder"),
    ],
)
def test_refusals(text: str, message: str) -> None:
    with pytest.raises(ExprError) as err:
        substitute(text, ENV)
    assert message in str(err.value)


def test_size_limits() -> None:
    with pytest.raises(ExprError, match="longer than 1000"):
        evaluate("1+" * 600 + "1", {})
    with pytest.raises(ExprError, match="nested deeper than 64"):
        evaluate("(" * 100 + "1" + ")" * 100, {})
    with pytest.raises(ExprError, match="too large"):
        evaluate("*".join(["1000000"] * 20), {})


@given(st.integers(-(10**6), 10**6), st.integers(-(10**6), 10**6).filter(bool))
def test_arithmetic_agrees_with_python_integers(a: int, b: int) -> None:
    env = {"a": a, "b": b}
    assert evaluate("a * b + a // b - a % b", env) == a * b + a // b - a % b
    assert evaluate("-(a - b) * 3", env) == -(a - b) * 3
