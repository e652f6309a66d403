"""Errors as a compiler gives them: every independent error of a spec in one run, in file
order, each with its source line and a caret; YAML slips in words; warnings printed even when
the spec then fails; the channels-last `linear` warning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import cnncalc
from cnncalc.errors import MAX_MET, MAX_SHOWN, SpecError
from cnncalc.graph import build
from cnncalc.render.errors import SOURCE_WIDTH, context
from cnncalc.spec import from_text
from conftest import run, write_spec

SEVERAL = """\
input: [3, 32, 32]
layers:
  - conv2d: {out_channels: 8, kernel_size: 3}
  - name: c2
    conv2d: {out_channels: 8, kernel_size: 50}
  - relu
  - conv2d: {out_channels: 8, kernel_sise: 3}
  - dense: {units: 3}
  - conv2d: {out_channels: 8, kernel_size: 3, stride: 0}
  - name: c5
    conv2d: {out_channels: 8, kernel_size: 3}
    from: cx
  - conv2d: {out_channels: 8, kernel_size: 99}
    from: c2
"""


def test_every_independent_error_in_file_order_with_its_line_and_a_caret(tmp_path: Path) -> None:
    """Five mistakes, five errors: a shape error (found last, by the graph) comes first
    because it is written first; the layer after `relu` (reading c2, which failed) and the
    last one (kernel 99 on c2's unknown output) are skipped, not reported."""
    path = write_spec(tmp_path, SEVERAL)
    result = run("summarize", path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"{path}:5:44: layer 'c2': kernel_size 50 is larger than the input 30 (no padding)\n"
        "    5 |     conv2d: {out_channels: 8, kernel_size: 50}\n"
        "      |                                            ^\n"
        f"{path}:7:31: layer 'conv2d_2': conv2d has no argument 'kernel_sise'; did you mean"
        " 'kernel_size'? (its arguments: out_channels, kernel_size, stride, padding, dilation,"
        " groups, bias, padding_mode, in_channels)\n"
        "    7 |   - conv2d: {out_channels: 8, kernel_sise: 3}\n"
        "      |                               ^\n"
        f"{path}:8:5: unknown layer type 'dense'; did you mean 'linear' (Keras' Dense)?"
        " ('cnncalc layers' lists them all)\n"
        "    8 |   - dense: {units: 3}\n"
        "      |     ^\n"
        f"{path}:9:55: layer 'conv2d_3': stride must be at least 1, got 0\n"
        "    9 |   - conv2d: {out_channels: 8, kernel_size: 3, stride: 0}\n"
        "      |                                                       ^\n"
        f"{path}:12:11: layer 'c5': 'from' names 'cx', which is not a layer here\n"
        "    12 |     from: cx\n"
        "       |           ^\n"
    )


def test_the_api_raises_the_first_error_and_holds_them_all() -> None:
    with pytest.raises(cnncalc.Error) as caught:
        cnncalc.summarize(SEVERAL)
    err = caught.value
    assert (err.line, err.column, err.layer) == (5, 44, "c2")
    assert err.message == "kernel_size 50 is larger than the input 30 (no padding)"
    assert [(e.line, e.column) for e in err.errors] == [(5, 44), (7, 31), (8, 5), (9, 55), (12, 11)]


def test_one_error_is_raised_as_it_is() -> None:
    with pytest.raises(cnncalc.Error) as caught:
        cnncalc.summarize("input: [3]\nlayers: [conv2d]\n")
    assert caught.value.errors == (caught.value,)


def test_check_lists_every_error_of_an_invalid_spec(tmp_path: Path) -> None:
    path = write_spec(tmp_path, SEVERAL)
    report = json.loads(run("check", path, "-f", "json").stdout)
    problems = report["specs"][0]["problems"]
    assert [(p["line"], p["column"]) for p in problems] == [
        (5, 44),
        (7, 31),
        (8, 5),
        (9, 55),
        (12, 11),
    ]
    github = run("check", path, "-f", "github").stdout
    assert github.count("::error ") == 5
    text = run("check", path).stdout
    assert text.count(f"    {path}:") == 5
    junit = run("check", path, "-f", "junit").stdout
    assert junit.count(f"{path}:") == 5


def test_past_the_cap_the_rest_are_counted(tmp_path: Path) -> None:
    bad = "  - conv2d: {out_channels: 8, kernel_size: 3, stride: 0}\n"
    path = write_spec(tmp_path, "input: [3, 8, 8]\nlayers:\n" + bad * (MAX_SHOWN + 5))
    result = run("summarize", path)
    lines = result.stderr.splitlines()
    located = [x for x in lines if x.startswith(path)]
    assert len(located) == MAX_SHOWN
    assert located[0].startswith(f"{path}:3:")  # the first written first
    assert located[-1].startswith(f"{path}:{MAX_SHOWN + 2}:")
    assert lines[-1] == "... and 5 more errors"


def test_a_bad_layer_in_a_block_used_many_times_is_reported_once(tmp_path: Path) -> None:
    spec = (
        "input: [3, 8, 8]\nblocks:\n  b:\n    layers:\n"
        "      - conv2d: {out_channels: 8, kernel_size: 3, stride: 0}\n"
        "layers:\n  - b\n    repeat: 30\n"
    )
    spec = spec.replace("  - b\n", "  - b:\n")
    result = run("summarize", write_spec(tmp_path, spec))
    assert result.exit_code == 2
    assert [x for x in result.stderr.splitlines() if not x[:1].isspace()] == [
        f"{tmp_path / 'net.yaml'}:5:59: layer 'b_1.conv2d_1': stride must be at least 1, got 0"
    ]


def test_a_yaml_syntax_error_stops_at_once(tmp_path: Path) -> None:
    spec = "input: [3, 8, 8]\nlayers:\n  - dense\n  - conv2d: {out_channels: 8\n"
    result = run("summarize", write_spec(tmp_path, spec))
    assert [x for x in result.stderr.splitlines() if not x[:1].isspace()] == [
        f"{tmp_path / 'net.yaml'}:4:13: invalid YAML: the '{{' opened at line 4, column 13"
        " is never closed with '}' (the file ends first)"
    ]


# --- YAML slips in words ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "input: [3, 8, 8]\nlayers:\n\t- relu\n",
            "net.yaml:3:1: invalid YAML: a tab character at line 3: YAML indents with spaces only",
        ),
        (
            "input: [3, 8, 8]\nlayers:\n  - relu\n  -\trelu\n",
            "net.yaml:4:4: invalid YAML: a tab character at line 4: YAML indents with spaces only",
        ),
        (
            "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 8, kernel_size: 3}\n"
            "   name: c1\n",
            "net.yaml:4:4: invalid YAML: the key 'name' on line 4 is indented 3 spaces, but the"
            " keys of the list item on line 3 are indented 4 (line it up with 'conv2d', or start"
            " a new item with '- ')",
        ),
        (
            "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 8, kernel_size: 3}\n"
            "  name: c1\n",
            "net.yaml:4:3: invalid YAML: the key 'name' on line 4 is indented 2 spaces, but the"
            " keys of the list item on line 3 are indented 4 (line it up with 'conv2d', or start"
            " a new item with '- ')",
        ),
        (
            "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 8, kernel_size: 3}\n"
            "      name: c1\n",
            "net.yaml:4:7: invalid YAML: the key 'name' on line 4 is indented 6 spaces, but the"
            " keys of the mapping on line 3 are indented 4 (line it up with 'conv2d')",
        ),
        (
            "input: [3, 8, 8]\n layers:\n  - relu\n",
            "net.yaml:2:2: invalid YAML: the key 'layers' on line 2 is indented 1 space, but the"
            " keys of the mapping on line 1 are indented 0 (line it up with 'input')",
        ),
        (
            "input: [3, 8, 8\nlayers:\n  - relu\n",
            "net.yaml:1:8: invalid YAML: the '[' opened at line 1, column 8 is never closed with"
            " ']' (still open at line 2)",
        ),
        (
            "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 8, kernel_size: 3\n  - relu\n",
            "net.yaml:3:13: invalid YAML: the '{' opened at line 3, column 13 is never closed"
            " with '}' (the file ends first)",
        ),
        (
            "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 8 kernel_size: 3}\n",
            "net.yaml:3:41: invalid YAML: expected ',' or '}' in the '{' opened at column 13:"
            " is a ',' missing between two items?",
        ),
        (
            'input: [3, 8, 8]\nname: "abc\nlayers:\n  - relu\n',
            'net.yaml:2:7: invalid YAML: the quote " opened at line 2, column 7 is never closed'
            " (the file ends first)",
        ),
        (
            "input: [3, 8, 8]\nlayers:\n  - conv2d {out_channels: 8, kernel_size: 3}\n",
            "net.yaml:3:11: invalid YAML: a ':' is missing after the key 'conv2d' (write"
            " 'conv2d: {out_channels: 8, kernel_size: 3}')",
        ),
        (
            "input [3, 8, 8]\nlayers:\n  - relu\n",
            "net.yaml:1:6: invalid YAML: a ':' is missing after the key 'input' (write"
            " 'input: [3, 8, 8]')",
        ),
        (
            "input: [3, 8, 8]\nlayers:\n  - conv2d:\n      out_channels 8\n      kernel_size: 3\n",
            "net.yaml:4:19: invalid YAML: a ':' is missing after the key 'out_channels' (write"
            " 'out_channels: 8')",
        ),
        (
            "input: [3, 8, 8]\nlayers\n  - relu\n",
            "net.yaml:2:1: invalid YAML: a ':' is missing after the key 'layers'",
        ),
    ],
)
def test_yaml_slips_are_explained_in_words(text: str, message: str) -> None:
    with pytest.raises(SpecError) as err:
        from_text(text, "net.yaml")
    assert str(err.value) == message


# --- the source line under an error -------------------------------------------------------


def test_the_source_line_is_escaped_and_the_caret_counts_the_escapes() -> None:
    line = 'name: "\x1b]0;x\x07": 1'
    shown, caret = context([line], 1, 15)  # at the ':' after the quoted name
    assert shown == '    1 | name: "\\x1b]0;x\\x07": 1'
    assert caret == "      | " + " " * len('name: "\\x1b]0;x\\x07"') + "^"
    assert shown[caret.index("^")] == ":"


def test_a_long_line_is_cut_around_the_column() -> None:
    line = "a" * 100 + "X" + "b" * 100
    shown, caret = context(["", "", line], 3, 101)
    text = shown.split(" | ", 1)[1]
    assert text.startswith("…") and text.endswith("…")
    assert len(text) == SOURCE_WIDTH + 2
    assert text[caret.index("^") - len("    3 | ")] == "X"


def test_wide_characters_take_two_columns_under_the_caret() -> None:
    assert context(["名前: x"], 1, 5)[1] == "      |       ^"  # 名前 is four columns


def test_no_context_past_the_end_or_on_a_blank_line() -> None:
    assert context(["a: 1", ""], 2, 1) == []
    assert context(["a: 1"], 2, 1) == []


# --- warnings -----------------------------------------------------------------------------


def test_warnings_found_before_a_failure_are_printed_before_it(tmp_path: Path) -> None:
    path = write_spec(
        tmp_path,
        "input: [224, 224, 3]\nlayers:\n  - conv2d: {out_channels: 8, kernel_size: 5}\n",
    )
    result = run("summarize", path)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:2] == [
        f"{path}:1:8: warning: the input [224, 224, 3] is read as 224 channels of 224×3; for"
        " an H×W×C image write input: {shape: [224, 224, 3], layout: channels_last}"
        " (layout: channels_first keeps this reading and this warning away)",
        f"{path}:3:44: layer 'conv2d_1': kernel_size 5 is larger than the input 3 (no padding)",
    ]
    check = json.loads(run("check", path, "-f", "json").stdout)["specs"][0]
    assert check["status"] == "invalid"
    assert [w["line"] for w in check["warnings"]] == [1]


def test_linear_on_a_channels_last_image_is_warned(tmp_path: Path) -> None:
    """8×8×3 channels last is PyTorch's 3×8×8: nn.Linear(8, 10) acts on W and gives 3×8×10,
    written 8×10×3, with 8·10 + 10 = 90 parameters; Keras' Dense(10) on the channels is a
    1×1 convolution, 3·10 + 10 = 40 parameters."""
    spec = (
        "input: {shape: [8, 8, 3], layout: channels_last}\n"
        "layers:\n  - linear: {out_features: 10}\n"
    )
    graph = build(from_text(spec, "net.yaml"))
    pytorch = torch.nn.Linear(8, 10)(torch.zeros(1, 3, 8, 8)).shape
    assert graph.layers[0].shape == tuple(pytorch[1:]) == (3, 8, 10)
    params = sum(p.numel() for p in torch.nn.Linear(8, 10).parameters())
    assert sum(graph.layers[0].result.params.values()) == params == 90
    dense = sum(p.numel() for p in torch.nn.Conv2d(3, 10, 1).parameters())
    assert dense == 40
    assert [str(n) for n in graph.notices] == [
        "net.yaml:3:5: warning: layer 'linear_1': on this channels-last 8×8×3 input, linear"
        " acts on the last spatial axis (W = 8), not on the 3 channels, giving 8×10×3: cnncalc,"
        " like PyTorch's nn.Linear, reads the last axis of the channels-first tensor. Keras'"
        " Dense acts on the channels; for that, write conv2d {out_channels: 10, kernel_size: 1}"
        " (the same weights), or flatten first"
    ]
    result = run("summarize", write_spec(tmp_path, spec))
    assert result.exit_code == 0 and "linear acts on the last spatial axis" in result.stderr


@pytest.mark.parametrize(
    "spec",
    [
        "input: [3, 8, 8]\nlayers:\n  - linear: {out_features: 10}\n",  # channels first
        "input: {shape: [8, 8, 3], layout: channels_last}\nlayers:\n  - flatten\n"
        "  - linear: {out_features: 10}\n",  # a vector: no spatial axis
    ],
)
def test_linear_is_not_warned_where_it_acts_as_written(spec: str) -> None:
    assert build(from_text(spec, "net.yaml")).notices == ()


def test_a_block_failing_in_every_use_stops_the_search(tmp_path: Path) -> None:
    """A bad layer in a block used 5,000 times is met once per use: the search stops after
    MAX_MET and says so, reporting the error once."""
    spec = (
        "input: [3, 8, 8]\nblocks:\n  b:\n    layers:\n"
        "      - conv2d: {out_channels: 8, kernel_size: 3, stride: 0}\n"
        "layers:\n  - b:\n    repeat: 5000\n"
    )
    result = run("summarize", write_spec(tmp_path, spec))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert [x for x in lines if not x[:1].isspace()] == [
        f"{tmp_path / 'net.yaml'}:5:59: layer 'b_1.conv2d_1': stride must be at least 1, got 0",
        f"... (cnncalc stopped looking after meeting {MAX_MET:,} errors, each use of a block"
        " counted)",
    ]
