"""The command line: output formats (golden files), exit codes and messages."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from conftest import GOLDEN, ROOT, SPECS, run, write_spec

GOLDEN_CASES = [
    ("tiny_resnet", ["--format", "table"]),
    ("tiny_resnet", ["--format", "markdown"]),
    ("tiny_resnet", ["--format", "csv"]),
    ("tiny_resnet", ["--format", "json"]),
    ("resnet50", ["--format", "table", "--depth", "2"]),
    ("inception", ["--format", "table", "--depth", "1"]),
    ("lenet5", ["--format", "table"]),
    ("exercise_dense", ["--format", "table"]),
]


@pytest.mark.parametrize(("spec", "options"), GOLDEN_CASES,
                         ids=[f"{s}-{'-'.join(o[1::2])}" for s, o in GOLDEN_CASES])
def test_golden_output(spec: str, options: list[str], update_golden: bool,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    result = run("summarize", str(SPECS / f"{spec}.yaml"), *options)
    assert result.exit_code == 0, result.output
    golden = GOLDEN / f"{spec}-{'-'.join(options[1::2])}.out"
    if update_golden:
        golden.write_text(result.stdout)
    assert result.stdout == golden.read_text()


def test_json_is_the_documented_contract() -> None:
    data = json.loads(run("summarize", str(SPECS / "resnet50.yaml"), "-f", "json").stdout)
    assert {"name", "input_shape", "output_shape", "layers", "totals"} <= set(data)
    layer = data["layers"][0]
    assert {"name", "type", "inputs", "output_shape", "params", "trainable_params",
            "buffers"} <= set(layer)
    assert layer == {**layer, "name": "conv1", "type": "conv2d", "inputs": ["input"],
                     "output_shape": [64, 112, 112], "params": 9408}
    assert data["totals"] == {**data["totals"], "params": 25_557_032,
                              "trainable_params": 25_557_032, "non_trainable_params": 53_120,
                              "buffers": 53_120}
    assert sum(row["params"] for row in data["layers"]) == data["totals"]["params"]


def test_csv_rows_add_up() -> None:
    text = run("summarize", str(SPECS / "vgg16.yaml"), "-f", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sum(int(r["params"]) for r in rows) == 138_357_544
    assert rows[0]["output_shape"] == "64x224x224"


def test_input_override_is_in_the_specs_layout() -> None:
    result = run("summarize", str(SPECS / "exercise_conv.yaml"), "--input", "100,50,3",
                 "-f", "json")
    data = json.loads(result.stdout)
    assert data["input_shape"] == [100, 50, 3]
    assert data["output_shape"] == [96, 46, 10]


def test_stdin() -> None:
    text = (SPECS / "lenet5.yaml").read_text()
    result = run("summarize", "-", "-f", "json", input=text)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["totals"]["params"] == 61_706


def test_bad_stdin_is_located_as_stdin() -> None:
    result = run("summarize", "-", input="input: [3]\nlayers: [conv2d]\n")
    assert result.exit_code == 2
    assert result.stderr == "<stdin>:2:10: layer 'conv2d_1': conv2d needs argument" \
                            " 'out_channels'\n"


@pytest.mark.parametrize(("args", "message"), [
    (["summarize", "missing.yaml"], "missing.yaml:1:1: no such file\n"),
    (["summarize", "specs"], "specs:1:1: is a directory, not a spec file\n"),
    (["layers", "conv4d"], "error: unknown layer type 'conv4d'; did you mean conv1d, conv2d,"
                           " conv3d?\n"),
])
def test_invalid_input_exits_2_with_one_line(args: list[str], message: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr == message
    assert result.stdout == ""


def test_invalid_spec_exit_code_and_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run("summarize", "tests/data/bad_kernel.yaml")
    assert result.exit_code == 2
    assert result.stderr == ("tests/data/bad_kernel.yaml:7:45: layer 'conv4': kernel_size 5 is"
                             " larger than the input 3 (no padding)\n")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args", [
    ["summarize", "specs/lenet5.yaml", "--input", "1,x,32"],
    ["summarize", "specs/lenet5.yaml", "--depth", "0"],
    ["summarize", "specs/lenet5.yaml", "--format", "yaml"],
    ["summarize"],
    ["nonsense"],
])
def test_usage_errors_exit_2(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run(*args)
    assert result.exit_code == 2
    assert "Usage:" in result.stderr or "Error:" in result.stderr


def test_unreadable_file(tmp_path: Path) -> None:
    path = write_spec(tmp_path, "input: [3]\nlayers: [relu]\n")
    Path(path).chmod(0)
    try:
        result = run("summarize", path)
    finally:
        Path(path).chmod(0o644)
    try:
        open(path, "rb").close()
    except PermissionError:
        assert result.exit_code == 2
        assert result.stderr.startswith(f"{path}:1:1: cannot read the file")


def test_input_error_in_override_is_a_spec_error(tmp_path: Path) -> None:
    path = write_spec(tmp_path, "input: [3, 32, 32]\nlayers:\n  - conv2d: {out_channels: 4,"
                                " kernel_size: 5}\n")
    result = run("summarize", path, "--input", "3,4,4")
    assert result.exit_code == 2
    assert "kernel_size 5 is larger than the input 4" in result.stderr


def test_warnings_go_to_stderr_and_keep_exit_0(tmp_path: Path) -> None:
    path = write_spec(tmp_path, "input: [4]\nlayers:\n  - relu\n  - relu:\n    from: input\n")
    result = run("summarize", path, "-f", "json")
    assert result.exit_code == 0
    assert result.stderr == (f"{path}:3:5: warning: layer 'relu_1': its output is never used"
                             " (it is not the last layer and no 'from' names it)\n")
    assert json.loads(result.stdout)["warnings"] == [result.stderr.strip()]


def test_max_layers(tmp_path: Path) -> None:
    path = write_spec(tmp_path, "input: [4]\nlayers:\n  - relu:\n    repeat: 50\n")
    result = run("summarize", path, "--max-layers", "10")
    assert result.exit_code == 2
    assert "repeat 50 is more than the limit of 10 layers" in result.stderr
    assert run("summarize", path, "--max-layers", "50").exit_code == 0


def test_layers_lists_every_type_with_defaults() -> None:
    from cnncalc.layers import TYPES

    out = run("layers").stdout
    for name in TYPES:
        assert f"  {name}(" in out
    assert "conv2d(out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1," \
           " bias=true" in out


def test_layers_explains_one_type() -> None:
    out = run("layers", "MaxPool2d").stdout
    assert out.startswith("maxpool2d: 2-d max pooling over [C, H, W]\n"
                          "FLOPs: kernel elements − 1 comparisons per output element\n")
    assert "ceil_mode" in out and "round the output size up" in out


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("cnncalc, version ")
