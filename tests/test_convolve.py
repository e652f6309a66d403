"""`cnncalc convolve`: hand-computed convolutions, their worked lines, and PyTorch as oracle."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.convolve import (
    MAX_WORK,
    Array,
    Mode,
    convolve,
    parse_array,
)
from cnncalc.errors import SpecError, UsageError
from cnncalc.render.convolve import number
from cnncalc.render.convolve import text as render_text
from conftest import run

COURSE = ("4 1 -1 3", "-2 1", "--padding", "1")


def _result(input: str, kernel: str, **settings: object) -> list[object]:
    return convolve(parse_array(input), parse_array(kernel, "kernel"), **settings).result.nested()  # type: ignore[arg-type]


# --- Reading arrays --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shape", "values"),
    [
        ("4 1 -1 3", (4,), (4, 1, -1, 3)),
        ("4, 1, -1, 3", (4,), (4, 1, -1, 3)),
        ("[4 1 −1 3]", (4,), (4, 1, -1, 3)),  # the course's own notation, with U+2212
        ("[4, 1, -1, 3]", (4,), (4, 1, -1, 3)),
        ("1 2; 3 4", (2, 2), (1, 2, 3, 4)),
        ("[1 2; 3 4]", (2, 2), (1, 2, 3, 4)),
        ("[[1, 2], [3, 4]]", (2, 2), (1, 2, 3, 4)),
        ("[[1 2] [3 4]]", (2, 2), (1, 2, 3, 4)),
        ("[[1, 2, 3]]", (1, 3), (1, 2, 3)),
        ("7", (1,), (7,)),
        ("0.1 -.5 2. +3 -0.0", (5,), (Fraction(1, 10), Fraction(-1, 2), 2, 3, 0)),
    ],
)
def test_arrays_are_read_exactly(text: str, shape: tuple[int, ...], values: tuple[object]) -> None:
    assert parse_array(text) == Array(shape, values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", '<input>:1:1: the input is empty; write it like "4 1 -1 3" or "1 2; 3 4"'),
        ("   ", '<input>:1:1: the input is empty; write it like "4 1 -1 3" or "1 2; 3 4"'),
        ("[]", "<input>:1:1: the array is empty"),
        (
            "1 2; 3",
            "<input>:1:6: row 2 of the input has 1 number, but row 1 has 2 numbers;"
            " every row needs the same length",
        ),
        (
            "[[1, 2], [3]]",
            "<input>:1:11: row 2 of the input has 1 number, but row 1 has 2 numbers;"
            " every row needs the same length",
        ),
        ("1 2;", "<input>:1:4: row 2 of the input is empty"),
        ("1 x 3", "<input>:1:3: 'x' is not a number; write numbers like 3, -1.5 or 0.25"),
        ("1 NaN", "<input>:1:3: 'NaN' is not a finite number"),
        ("-inf 1", "<input>:1:1: '-inf' is not a finite number"),
        ("1e3", "<input>:1:1: '1e3' is not a number; write numbers like 3, -1.5 or 0.25"),
        (".", "<input>:1:1: '.' is not a number; write numbers like 3, -1.5 or 0.25"),
        (
            "[[[1]]]",
            '<input>:1:3: 3-D arrays are not supported; give a 1-D array ("1 2 3")'
            ' or a 2-D one ("1 2; 3 4" or "[[1, 2], [3, 4]]")',
        ),
        ("[1 2", "<input>:1:1: '[' is not closed with ']'"),
        ("[[1, 2]", "<input>:1:1: '[' is not closed with ']'"),
        ("[[1, 2]] 3", "<input>:1:10: unexpected '3' after the closing ']'"),
        (
            "[[1; 2]]",
            "<input>:1:4: ';' separates rows in \"1 2; 3 4\"; here write [[1, 2], [3, 4]]",
        ),
        (
            "1 [2]",
            '<input>:1:3: \'[\' inside a row; write 2-D arrays as "1 2; 3 4" or "[[1, 2], [3, 4]]"',
        ),
        ("1,,2", "<input>:1:3: a ',' with no number before it"),
        ("1, 2,", "<input>:1:5: a ',' with no number after it"),
        ("1\n2", "<input>:1:2: the input is one line; separate rows with ';'"),
        ("1" * 31, "<input>:1:1: a number of 31 characters in the input; at most 30"),
        (
            " ".join(["1"] * 65),
            "<input>:1:129: the input has a row of more than 64 numbers (the limit)",
        ),
        (";".join(["1"] * 65), "<input>:1:128: the input has more than 64 rows (the limit)"),
        ("1 " * 50_001, "<input>:1:1: the input is 100,002 characters long; at most 100,000"),
    ],
)
def test_bad_arrays_name_the_column_and_the_rule(text: str, message: str) -> None:
    with pytest.raises(SpecError) as err:
        parse_array(text)
    assert str(err.value) == message


def test_the_kernel_has_its_own_name_and_smaller_limit() -> None:
    with pytest.raises(SpecError) as err:
        parse_array(" ".join(["1"] * 17), "kernel")
    assert str(err.value) == (
        "<kernel>:1:33: the kernel has a row of more than 16 numbers (the limit)"
    )


# --- Hand-computed results -------------------------------------------------------------------


def test_the_course_example_in_both_modes() -> None:
    # [4 1 −1 3] ⋆ [−2 1], padding 1, by hand (padded input 0 4 1 −1 3 0):
    #   cross-correlation: 0·(−2)+4·1=4, 4·(−2)+1·1=−7, 1·(−2)+(−1)·1=−3,
    #                      (−1)·(−2)+3·1=5, 3·(−2)+0·1=−6
    #   convolution (kernel flipped to [1 −2]): 0·1+4·(−2)=−8, 4·1+1·(−2)=2,
    #                      1·1+(−1)·(−2)=3, (−1)·1+3·(−2)=−7, 3·1+0·(−2)=3
    # The course's printed answer [4, −7, −3, 1, −6] is the cross-correlation with one slip:
    # out[3] = (−1)·(−2) + 3·1 is 5, not 1 (as if (−1)·(−2) were −2).
    assert _result("4 1 -1 3", "-2 1", padding=1) == [4, -7, -3, 5, -6]
    assert _result("4 1 -1 3", "-2 1", padding=1, mode=Mode.CONVOLUTION) == [-8, 2, 3, -7, 3]


SOBEL_X = "-1 0 1; -2 0 2; -1 0 1"
STEP = "0 0 0 9 9; 0 0 0 9 9; 0 0 0 9 9"  # a vertical edge between columns 2 and 3
RAMP = "1 2 3; 4 5 6; 7 8 9"
LAPLACE8 = "-1 -1 -1; -1 8 -1; -1 -1 -1"


@pytest.mark.parametrize(
    ("input", "kernel", "settings", "expected"),
    [
        # Sobel-x on a step: window columns 0-2 see no change; 1-3 and 2-4 see 9·(1+2+1).
        (STEP, SOBEL_X, {}, [[0, 36, 36]]),
        # flipped on both axes the kernel is −Sobel-x, so the edge reads negative
        (STEP, SOBEL_X, {"mode": Mode.CONVOLUTION}, [[0, -36, -36]]),
        # 8·centre − the in-image neighbours (zero padding): e.g. out[0,0] = 8·1 − (2+4+5)
        (RAMP, LAPLACE8, {"padding": 1}, [[-3, -3, 11], [9, 0, 21], [39, 33, 53]]),
        (RAMP, LAPLACE8, {}, [[0]]),
        # stride 2 with padding 1 on 1..5 and [1 1 1]: windows (0 1 2), (2 3 4), (4 5 0)
        ("1 2 3 4 5", "1 1 1", {"stride": 2, "padding": 1}, [3, 9, 9]),
        # dilation 2: taps at i, i+2, i+4
        ("1 2 3 4 5 6", "1 10 100", {"dilation": 2}, [531, 642]),
        # per-axis settings: stride 1 over rows, 2 over columns; padding 0 rows, 1 columns
        ("1 2 3; 4 5 6", "[[1, 1]]", {"stride": (1, 2), "padding": (0, 1)}, [[1, 5], [4, 11]]),
        # decimals stay exact: 0.1·3 is 0.3
        ("0.1 0.2", "3", {}, [Fraction(3, 10), Fraction(3, 5)]),
    ],
)
def test_hand_computed(
    input: str, kernel: str, settings: dict[str, object], expected: list[object]
) -> None:
    assert _result(input, kernel, **settings) == expected


@pytest.mark.parametrize(
    ("input", "kernel", "settings", "message"),
    [
        (
            "1 2 3",
            "1 2 3 4",
            {},
            "the kernel's size 4 is larger than the padded input 3 (no padding)",
        ),
        (
            "1 2 3",
            "1 2",
            {"dilation": 3},
            "the kernel's dilated size 4 (2, dilation 3) is larger"
            " than the padded input 3 (no padding)",
        ),
        (
            "1 2; 3 4",
            "1; 2; 3; 4",
            {},
            "rows: the kernel's size 4 is larger than the padded input 2 (no padding)",
        ),
        ("1 2", "1", {"stride": 0}, "stride 0 is outside 1..64"),
        (
            "1 2; 3 4",
            "1 2",
            {},
            "the input is 2-D (2×2) but the kernel is 1-D (2); give both the same rank",
        ),
        (
            "1 2; 3 4",
            "[[1 2 3 4 5 6]]",
            {"padding": (0, 1)},
            "columns: the kernel's size 6 is"
            " larger than the padded input 4 (input 2 + 2×1 padding)",
        ),
    ],
)
def test_impossible_settings_are_refused_before_work(
    input: str, kernel: str, settings: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError) as err:
        _result(input, kernel, **settings)
    assert str(err.value) == message


def test_work_is_bounded_before_it_is_done() -> None:
    big = Array((64, 64), (1,) * 4096)
    kernel = Array((16, 16), (1,) * 256)
    with pytest.raises(UsageError) as err:
        convolve(big, kernel, padding=16)
    assert str(err.value) == (
        f"this takes 1,679,616 multiply-adds (81×81 outputs × 16×16 kernel); at most {MAX_WORK:,}"
    )


# --- The worked lines ------------------------------------------------------------------------


def test_the_course_example_worked_out() -> None:
    c = convolve(parse_array("4 1 -1 3"), parse_array("-2 1", "kernel"), padding=1)
    assert render_text(c) == (
        "cross-correlation (as PyTorch's conv1d computes it; --flip for true convolution)\n"
        "input length 4, kernel length 2, stride 1, padding 1, dilation 1\n"
        "input [4, 1, −1, 3], kernel [−2, 1]\n"
        "output length = ⌊(4 + 2·1 − 1·(2 − 1) − 1) / 1⌋ + 1 = 5\n"
        "out[0] = 0·(−2) + 4·1 = 4\n"
        "out[1] = 4·(−2) + 1·1 = −7\n"
        "out[2] = 1·(−2) + (−1)·1 = −3\n"
        "out[3] = (−1)·(−2) + 3·1 = 5\n"
        "out[4] = 3·(−2) + 0·1 = −6\n"
        "result: [4, −7, −3, 5, −6]\n"
    )


def test_a_2d_edge_filter_worked_out() -> None:
    result = run("convolve", STEP, SOBEL_X, "--flip")
    assert result.exit_code == 0
    assert result.output == (
        "true convolution: the kernel flipped to [[1, 0, −1], [2, 0, −2], [1, 0, −1]], then slid"
        " over the input (PyTorch's conv2d with the flipped kernel)\n"
        "input 3×5, kernel 3×3, stride 1, padding 0, dilation 1\n"
        "output rows = ⌊(3 + 2·0 − 1·(3 − 1) − 1) / 1⌋ + 1 = 1\n"
        "output columns = ⌊(5 + 2·0 − 1·(3 − 1) − 1) / 1⌋ + 1 = 3\n"
        "out[0,0] = 0·1 + 0·0 + 0·(−1) + 0·2 + 0·0 + 0·(−2) + 0·1 + 0·0 + 0·(−1) = 0\n"
        "out[0,1] = 0·1 + 0·0 + 9·(−1) + 0·2 + 0·0 + 9·(−2) + 0·1 + 0·0 + 9·(−1) = −36\n"
        "out[0,2] = 0·1 + 9·0 + 9·(−1) + 0·2 + 9·0 + 9·(−2) + 0·1 + 9·0 + 9·(−1) = −36\n"
        "result (1×3):\n"
        "[[  0, −36, −36]]\n"
    )


def test_a_2d_result_is_aligned() -> None:
    result = run("convolve", RAMP, LAPLACE8, "--padding", "1")
    assert result.output.endswith("result (3×3):\n[[−3, −3, 11],\n [ 9,  0, 21],\n [39, 33, 53]]\n")
    assert "out[0,0] = 0·(−1) + 0·(−1) + 0·(−1) + 0·(−1) + 1·8 + 2·(−1) + 0·(−1) + 4·(−1)" in (
        result.output
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "0"),
        (-7, "−7"),
        (Fraction(3, 10), "0.3"),
        (Fraction(-5, 4), "−1.25"),
        (Fraction(1, 1000), "0.001"),
        (Fraction(123456789, 100), "1234567.89"),
        (Fraction(1, 3), "1/3"),  # not from decimal input, but exact all the same
    ],
)
def test_numbers_are_printed_exactly(value: int | Fraction, shown: str) -> None:
    assert number(value) == shown


def test_decimals_never_show_float_rounding() -> None:
    result = run("convolve", "0.1 0.2", "3")
    assert "out[0] = 0.1·3 = 0.3\nout[1] = 0.2·3 = 0.6\nresult: [0.3, 0.6]\n" in result.output


def test_json() -> None:
    result = run("convolve", "0.5 -1", "2", "--padding", "1", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["mode"] == "cross-correlation"
    assert data["output"] == [0, 1, -2, 0]
    assert data["input"] == ["0.5", -1]
    assert data["output_shape"] == [4]
    assert data["elements"][0] == {
        "index": [0],
        "terms": [{"input": 0, "weight": 2, "at": None}],
        "sum": 0,
    }
    assert data["elements"][1]["terms"] == [{"input": "0.5", "weight": 2, "at": [0]}]


def test_json_says_when_the_kernel_was_flipped() -> None:
    data = json.loads(run("convolve", *COURSE, "--flip", "-f", "json").output)
    assert data["mode"] == "convolution"
    assert (data["kernel"], data["applied_kernel"]) == ([-2, 1], [1, -2])
    assert data["output"] == [-8, 2, 3, -7, 3]


# --- The command line ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        COURSE,
        ("--padding", "1", "4 1 -1 3", "-2 1"),
        ("--padding", "1", "--", "4 1 -1 3", "-2 1"),
        ("--input", "4 1 -1 3", "--kernel", "-2 1", "--padding", "1"),
        ("--kernel", "-2 1", "4 1 -1 3", "--padding=1"),
        ("[4, 1, -1, 3]", "[-2, 1]", "--padding", "1"),
        ("[4 1 −1 3]", "[−2 1]", "--padding", "1"),
    ],
)
def test_negative_numbers_need_no_double_dash(args: tuple[str, ...]) -> None:
    result = run("convolve", *args)
    assert result.exit_code == 0, result.output
    assert result.output.endswith("result: [4, −7, −3, 5, −6]\n")


def test_a_negative_input_comes_before_a_positive_kernel() -> None:
    result = run("convolve", "-1 2", "3")
    assert result.output.endswith("result: [−3, 6]\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", "1"), '<input>:1:1: the input is empty; write it like "4 1 -1 3" or "1 2; 3 4"'),
        (("1 2", "1 x"), "<kernel>:1:3: 'x' is not a number; write numbers like 3, -1.5 or 0.25"),
        (
            ("-1 -2 -p", "1"),
            "<input>:1:7: '-p' is not a number; write numbers like 3, -1.5 or 0.25",
        ),
        (("1 2", "1", "--stride", "0"), "error: --stride 0 is outside 1..64"),
        (("1 2", "1", "--dilation", "65"), "error: --dilation 65 is outside 1..64"),
        (
            ("1 2", "1", "--padding", "-1"),
            "error: --padding '-1' is not a whole number, or one per axis like 1,2",
        ),
        (
            ("1 2", "1", "--padding", "1,2"),
            "error: --padding '1,2' gives 2 values for a 1-D array; give one",
        ),
        (
            ("1 2; 3 4", "1", "--stride", "1,2,3"),
            "error: --stride '1,2,3' gives 3 values for a"
            " 2-D array; give one, or 2 (rows, columns)",
        ),
        (
            ("1 2 3", "1 2 3 4"),
            "error: the kernel's size 4 is larger than the padded input 3 (no padding)",
        ),
        (("1 2", "1", "3"), "error: give INPUT and KERNEL, not 3 arrays"),
        (("1 2",), "error: give one INPUT and one KERNEL (as arguments or --input/--kernel)"),
        (
            ("--input", "1", "1", "2"),
            "error: give one INPUT and one KERNEL (as arguments or --input/--kernel)",
        ),
        (
            ("1 2", "1 \x1bX"),
            "<kernel>:1:3: '\\x1bX' is not a number; write numbers like 3, -1.5 or 0.25",
        ),
        (
            ("1 2", "1 \u202e2"),
            "<kernel>:1:3: '\\u202e2' is not a number; write numbers like 3, -1.5 or 0.25",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    result = run("convolve", *args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message + "\n")


def test_an_unknown_option_is_still_one() -> None:
    result = run("convolve", "1 2", "1", "--strid", "2")
    assert result.exit_code == 2
    assert "No such option '--strid'" in result.stderr


# --- PyTorch as oracle -----------------------------------------------------------------------


@st.composite
def _case(draw: st.DrawFn, ndim: int) -> dict[str, object]:
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    padding = tuple(draw(st.integers(0, 3)) for _ in range(ndim))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    size = tuple(
        draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 10))
        for k, d, p in zip(kernel, dilation, padding, strict=True)
    )
    values = st.integers(-9, 9)
    x = draw(st.lists(values, min_size=_prod(size), max_size=_prod(size)))
    w = draw(st.lists(values, min_size=_prod(kernel), max_size=_prod(kernel)))
    return {
        "input": Array(size, tuple(x)),
        "kernel": Array(kernel, tuple(w)),
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
    }


def _prod(shape: tuple[int, ...]) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(case=st.one_of(_case(1), _case(2)), flip=st.booleans())
def test_matches_pytorch(case: dict[str, object], flip: bool) -> None:
    import torch  # an oracle: installed with the test extras, never skipped

    functional = torch.nn.functional
    x, w = case["input"], case["kernel"]
    assert isinstance(x, Array) and isinstance(w, Array)
    mode = Mode.CONVOLUTION if flip else Mode.CROSS_CORRELATION
    ours = convolve(
        x,
        w,
        stride=case["stride"],
        padding=case["padding"],
        dilation=case["dilation"],
        mode=mode,  # type: ignore[arg-type]
    ).result
    xt = torch.tensor(x.values, dtype=torch.float64).reshape(1, 1, *x.shape)
    wt = torch.tensor(w.values, dtype=torch.float64).reshape(1, 1, *w.shape)
    if flip:
        wt = torch.flip(wt, dims=list(range(2, 2 + len(w.shape))))
    conv = functional.conv1d if len(x.shape) == 1 else functional.conv2d
    theirs = conv(
        xt, wt, stride=case["stride"], padding=case["padding"], dilation=case["dilation"]
    )[0, 0]
    assert tuple(theirs.shape) == ours.shape
    assert [int(v) for v in theirs.flatten().tolist()] == list(ours.values)


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(
        st.one_of(st.sampled_from("0123456789.-+−[],; \t\n"), st.characters()), max_size=40
    )
)
def test_any_text_is_an_array_or_a_located_error(text: str) -> None:
    try:
        array = parse_array(text)
    except SpecError as err:
        assert str(err).startswith("<input>:1:")
        assert "\n" not in str(err) and "\x1b" not in str(err)
    else:
        assert 1 <= len(array.shape) <= 2
        assert len(array.values) == _prod(array.shape)
