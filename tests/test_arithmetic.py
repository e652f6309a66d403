"""Output-size formulas with hand-computed values, and the laws they obey."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnncalc import arithmetic as ar


@pytest.mark.parametrize(
    ("size", "k", "s", "pl", "pr", "d", "out"),
    [
        (128, 7, 2, 3, 3, 1, 64),  # ⌊(128 + 6 − 7)/2⌋ + 1 = 64: the 96×128×128 exercise
        (500, 5, 1, 0, 0, 1, 496),  # 500 − 5 + 1
        (224, 11, 4, 2, 2, 1, 55),  # AlexNet conv1: ⌊(224 + 4 − 11)/4⌋ + 1 = 55
        (224, 7, 2, 3, 3, 1, 112),  # ResNet stem
        (32, 3, 1, 2, 2, 2, 32),  # dilation 2 spans 5, padding 2 keeps the size
        (7, 3, 2, 0, 0, 1, 3),
        (5, 5, 1, 0, 0, 1, 1),  # kernel exactly the input
        (10, 3, 3, 0, 1, 1, 3),  # asymmetric padding: ⌊(10 + 1 − 3)/3⌋ + 1 = 3
    ],
)
def test_conv_out(size: int, k: int, s: int, pl: int, pr: int, d: int, out: int) -> None:
    assert ar.conv_out(size, k, s, pl, pr, d) == out


@pytest.mark.parametrize(
    ("size", "k", "s", "d", "pads"),
    [
        (32, 3, 1, 1, (1, 1)),
        (224, 7, 2, 1, (2, 3)),  # TF: out 112, total (111·2 + 7 − 224) = 5 → 2 left, 3 right
        (225, 7, 2, 1, (3, 3)),
        (10, 1, 2, 1, (0, 0)),
        (8, 4, 1, 1, (1, 2)),  # even kernel: the odd pixel goes right
        (9, 3, 1, 2, (2, 2)),  # dilated span 5
        (5, 3, 4, 1, (1, 1)),  # ⌈5/4⌉ = 2 outputs need 1·4 + 3 = 7 inputs: 2 padding
    ],
)
def test_same_padding(size: int, k: int, s: int, d: int, pads: tuple[int, int]) -> None:
    assert ar.same_padding(size, k, s, d) == pads


@given(st.integers(1, 300), st.integers(1, 9), st.integers(1, 5), st.integers(1, 3))
def test_same_padding_gives_ceil_of_input_over_stride(n: int, k: int, s: int, d: int) -> None:
    left, right = ar.same_padding(n, k, s, d)
    assert 0 <= right - left <= 1
    assert ar.conv_out(n, k, s, left, right, d) == -(-n // s)


@pytest.mark.parametrize(
    ("size", "k", "s", "p", "ceil", "out"),
    [
        (112, 3, 2, 0, False, 55),
        (112, 3, 2, 0, True, 56),  # GoogLeNet: ceil((112 − 3)/2) + 1 = 56
        (56, 3, 2, 0, True, 28),
        (28, 3, 2, 0, True, 14),  # ceil(12.5) + 1 = 14
        (14, 3, 2, 0, True, 7),
        (6, 2, 2, 0, True, 3),
        (5, 2, 2, 0, False, 2),
        (5, 2, 2, 0, True, 3),
        # The last window would start at 2·2 = 4 ≥ 3 + 1 (inside the right padding): dropped.
        (3, 2, 2, 1, True, 2),
        (4, 3, 2, 1, True, 3),  # windows start at −1, 1, 3: 3 < 4 + 1, kept
        (112, 3, 2, 1, False, 56),  # ResNet maxpool
    ],
)
def test_pool_out(size: int, k: int, s: int, p: int, ceil: bool, out: int) -> None:
    assert ar.pool_out(size, k, s, p, 1, ceil) == out


@pytest.mark.parametrize(
    ("size", "k", "s", "p", "d", "op", "out"),
    [
        (1, 4, 1, 0, 1, 0, 4),  # DCGAN: 100×1×1 → 512×4×4
        (4, 4, 2, 1, 1, 0, 8),  # then doubling: (4−1)·2 − 2 + 3 + 1 = 8
        (32, 4, 2, 1, 1, 0, 64),
        (7, 3, 2, 1, 1, 1, 14),  # output_padding resolves the ambiguity of stride 2
        (5, 3, 1, 0, 2, 0, 9),  # dilation 2: (5−1) + 2·2 + 1 = 9
        (28, 2, 2, 0, 1, 0, 56),  # U-Net up-convolution
    ],
)
def test_conv_transpose_out(size: int, k: int, s: int, p: int, d: int, op: int, out: int) -> None:
    assert ar.conv_transpose_out(size, k, s, p, d, op) == out


@given(st.integers(1, 100), st.integers(1, 7), st.integers(1, 4), st.integers(1, 3))
def test_transposed_convolution_inverts_convolution_size(n: int, k: int, s: int, d: int) -> None:
    span = ar.effective_kernel(k, d)
    if span > n:
        return
    out = ar.conv_out(n, k, s, 0, 0, d)
    back = ar.conv_transpose_out(out, k, s, 0, d, 0)
    assert 0 <= n - back < s  # the rows a strided convolution drops are what output_padding adds
