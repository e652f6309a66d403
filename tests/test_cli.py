"""The command line: output formats (golden files), exit codes and messages."""

from __future__ import annotations

import csv
import io
import json
import re
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
    # laid out for an 80-column terminal (the tree, merged columns), and --wide in full
    ("resnet50", ["--format", "table", "--width", "80"]),
    ("tiny_resnet", ["--format", "table", "--width", "80"]),
    ("resnet50", ["--format", "table", "--wide"]),
    ("tiny_resnet", ["--format", "table", "--wide"]),
]
COLOUR_CASES = [
    ("tiny_resnet", ["--format", "table"]),
    ("resnet50", ["--format", "table", "--depth", "2"]),
    ("resnet50", ["--format", "table", "--width", "80"]),
    ("tiny_resnet", ["--format", "table", "--width", "80"]),
    ("resnet50", ["--format", "table", "--wide"]),
    ("tiny_resnet", ["--format", "table", "--wide"]),
]


def _name(spec: str, options: list[str]) -> str:
    """The golden file's stem: the spec, then each option's value, or a flag's own name."""
    words = []
    for i, option in enumerate(options):
        takes_value = i + 1 < len(options) and not options[i + 1].startswith("--")
        if not option.startswith("--"):
            words.append(option)
        elif not takes_value:
            words.append(option[2:])
    return "-".join([spec, *words])


@pytest.mark.parametrize(("spec", "options"), GOLDEN_CASES, ids=[_name(*c) for c in GOLDEN_CASES])
def test_golden_output(
    spec: str, options: list[str], update_golden: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    result = run("summarize", str(SPECS / f"{spec}.yaml"), *options)
    assert result.exit_code == 0, result.output
    golden = GOLDEN / f"{_name(spec, options)}.out"
    if update_golden:
        golden.write_text(result.stdout)
    assert result.stdout == golden.read_text()


@pytest.mark.parametrize(("spec", "options"), COLOUR_CASES, ids=[_name(*c) for c in COLOUR_CASES])
def test_golden_output_in_colour(
    spec: str, options: list[str], update_golden: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FORCE_COLOR: the same table with ANSI styles, which stripped leave the plain golden."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    result = run("summarize", str(SPECS / f"{spec}.yaml"), *options)
    assert result.exit_code == 0, result.output
    name = _name(spec, options)
    golden = GOLDEN / f"{name}-color.out"
    if update_golden:
        golden.write_text(result.stdout)
    assert result.stdout == golden.read_text()
    assert "\x1b[" in result.stdout
    assert re.sub(r"\x1b\[[0-9;]*m", "", result.stdout) == (GOLDEN / f"{name}.out").read_text()


def test_json_is_the_documented_contract() -> None:
    data = json.loads(run("summarize", str(SPECS / "resnet50.yaml"), "-f", "json").stdout)
    assert {"name", "input_shape", "output_shape", "layers", "totals"} <= set(data)
    layer = data["layers"][0]
    assert {
        "name",
        "type",
        "inputs",
        "output_shape",
        "params",
        "trainable_params",
        "buffers",
    } <= set(layer)
    assert layer == {
        **layer,
        "name": "conv1",
        "type": "conv2d",
        "inputs": ["input"],
        "output_shape": [64, 112, 112],
        "params": 9408,
    }
    assert data["totals"] == {
        **data["totals"],
        "params": 25_557_032,
        "trainable_params": 25_557_032,
        "non_trainable_params": 53_120,
        "buffers": 53_120,
    }
    assert sum(row["params"] for row in data["layers"]) == data["totals"]["params"]


def test_csv_rows_add_up() -> None:
    text = run("summarize", str(SPECS / "vgg16.yaml"), "-f", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sum(int(r["params"]) for r in rows) == 138_357_544
    assert rows[0]["output_shape"] == "64x224x224"


def test_input_override_is_in_the_specs_layout() -> None:
    result = run(
        "summarize", str(SPECS / "exercise_conv.yaml"), "--input", "100,50,3", "-f", "json"
    )
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
    assert result.stderr == (
        "<stdin>:2:10: layer 'conv2d_1': conv2d needs argument 'out_channels'\n"
        "    2 | layers: [conv2d]\n"
        "      |          ^\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["summarize", "missing.yaml"], "missing.yaml:1:1: no such file\n"),
        (["summarize", "specs"], "specs:1:1: is a directory, not a spec file\n"),
        (
            ["layers", "conv4d"],
            "error: unknown layer type 'conv4d'; did you mean 'conv1d', 'conv2d' or 'conv3d'?\n",
        ),
    ],
)
def test_invalid_input_exits_2_with_one_line(
    args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr == message
    assert result.stdout == ""


def test_invalid_spec_exit_code_and_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run("summarize", "tests/data/bad_kernel.yaml")
    assert result.exit_code == 2
    assert result.stderr == (
        "tests/data/bad_kernel.yaml:7:45: layer 'conv4': kernel_size 5 is"
        " larger than the input 3 (no padding)\n"
        "    7 |   - conv2d: {out_channels: 64, kernel_size: 5}\n"
        "      |                                             ^\n"
    )
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["summarize", "specs/lenet5.yaml", "--input", "1,x,32"],
        ["summarize", "specs/lenet5.yaml", "--depth", "0"],
        ["summarize", "specs/lenet5.yaml", "--format", "yaml"],
        ["summarize"],
        ["nonsense"],
    ],
)
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
    path = write_spec(
        tmp_path, "input: [3, 32, 32]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 5}\n"
    )
    result = run("summarize", path, "--input", "3,4,4")
    assert result.exit_code == 2
    assert "kernel_size 5 is larger than the input 4" in result.stderr


def test_warnings_go_to_stderr_and_keep_exit_0(tmp_path: Path) -> None:
    path = write_spec(tmp_path, "input: [4]\nlayers:\n  - relu\n  - relu:\n    from: input\n")
    result = run("summarize", path, "-f", "json")
    assert result.exit_code == 0
    assert result.stderr == (
        f"{path}:3:5: warning: layer 'relu_1': its output is never used"
        " (it is not the last layer and no 'from' names it)\n"
    )
    assert json.loads(result.stdout)["warnings"] == [result.stderr.strip()]


def test_max_layers(tmp_path: Path) -> None:
    path = write_spec(tmp_path, "input: [4]\nlayers:\n  - relu:\n    repeat: 50\n")
    result = run("summarize", path, "--max-layers", "10")
    assert result.exit_code == 2
    assert "expands to more than 10 layers and block instances" in result.stderr
    assert run("summarize", path, "--max-layers", "50").exit_code == 0


def test_layers_lists_every_type_with_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    from cnncalc.layers import TYPES

    monkeypatch.setenv("COLUMNS", "100")
    out = run("layers").stdout
    for name in TYPES:
        assert f"  {name}(" in out
    assert (
        "conv2d(out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,"
        " bias=true" in out
    )


def test_totals_fit_80_columns_and_markdown_keeps_them_whole() -> None:
    """The footer's long figures (memory) break into lines a terminal shows whole; Markdown,
    which wraps by itself, gets each figure as one list item."""
    table = run("summarize", str(SPECS / "resnet50.yaml")).stdout
    footer = table[table.index("\nParameters ") :]
    assert max(len(line) for line in footer.splitlines()) <= 80
    md = run("summarize", str(SPECS / "resnet50.yaml"), "--format", "markdown").stdout
    items = [line for line in md.splitlines() if line.startswith("- ")]
    assert all(line.startswith("- **") and not line.startswith("- **:**") for line in items)
    memory = next(line for line in items if line.startswith("- **Training memory:**"))
    assert "= parameters" in memory and "+ activations" in memory


@pytest.mark.parametrize("columns", [60, 80, 100])
@pytest.mark.parametrize("args", [["layers"], ["layers", "upsample"], ["layers", "groupnorm"]])
def test_layers_fits_the_terminal(
    args: list[str], columns: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signatures and argument help wrap to the terminal's width, losing no word."""
    monkeypatch.setenv("COLUMNS", str(columns))
    out = run(*args).stdout
    assert max(len(line) for line in out.splitlines()) <= columns
    monkeypatch.setenv("COLUMNS", "10000")
    assert out.split() == run(*args).stdout.split()


def test_layers_explains_one_type() -> None:
    out = run("layers", "MaxPool2d").stdout
    assert out.startswith(
        "maxpool2d: 2-d max pooling over [C, H, W]\n"
        "FLOPs: kernel elements − 1 comparisons per output element\n"
    )
    assert "ceil_mode" in out and "round the output size up" in out


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("cnncalc, version ")


COMMANDS = [["summarize"], ["rf"], ["explain"], ["diff", "specs/lenet5.yaml"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_every_command_reads_stdin(command: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run(*command, "-", input=(SPECS / "lenet5.yaml").read_text())
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("command", [*COMMANDS, ["check"]], ids=lambda c: c[0])
@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("missing.yaml", "missing.yaml:1:1: no such file"),
        ("tests", "tests:1:1: is a directory, not a spec file"),
    ],
)
def test_every_command_locates_a_missing_file_or_directory(
    command: list[str], path: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    if command == ["check"] and path == "tests":
        return  # check searches a directory for specs: covered in test_check.py
    result = run(*command, path)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_check_reads_stdin() -> None:
    result = run("check", "-", input="input: [3]\nlayers: [conv2d]\n")
    assert result.exit_code == 2
    assert "<stdin>:2:10: layer 'conv2d_1': conv2d needs argument 'out_channels'" in result.stdout


def test_help_and_version_do_not_load_the_core() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from click.testing import CliRunner; from cnncalc.cli import main;"
        " CliRunner().invoke(main, ['--help']); CliRunner().invoke(main, ['summarize',"
        " '--help']); print(sorted(m for m in sys.modules if m.startswith('cnncalc')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    # the enums are a leaf: the vocabulary the options offer, not the core
    assert out.strip() == "['cnncalc', 'cnncalc.cli', 'cnncalc.enums', 'cnncalc.errors']"


def test_a_bug_is_one_line_and_exit_3_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Should cnncalc itself fail, the user sees one line saying so, and exit code 3 (not 2,
    which blames the spec); CNNCALC_DEBUG=1 gives the traceback to whoever fixes it."""
    from click.testing import CliRunner

    from cnncalc import analysis
    from cnncalc.cli import main

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(analysis, "summarize", broken)
    result = CliRunner().invoke(
        main, ["summarize", str(SPECS / "lenet5.yaml")], env={"CNNCALC_DEBUG": ""}
    )
    assert result.exit_code == 3
    assert result.stderr == (
        "cnncalc: internal error (ZeroDivisionError: division by zero);"
        " please report it with the command and the spec. CNNCALC_DEBUG=1"
        " shows the traceback\n"
    )
    with pytest.raises(ZeroDivisionError):
        CliRunner().invoke(
            main,
            ["summarize", str(SPECS / "lenet5.yaml")],
            env={"CNNCALC_DEBUG": "1"},
            catch_exceptions=False,
        )


def test_a_reader_that_stops_early_is_not_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    """`cnncalc summarize big.yaml | head` closes the pipe: exit quietly, as click does."""
    import errno

    from click.testing import CliRunner

    from cnncalc import render
    from cnncalc.cli import main

    def closed(*args: object, **kwargs: object) -> None:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setattr(render, "render", closed)
    monkeypatch.setattr(render, "laid_out", closed)  # the table a Console prints
    result = CliRunner().invoke(
        main, ["summarize", str(SPECS / "lenet5.yaml")], env={"CNNCALC_DEBUG": ""}
    )
    assert result.exit_code == 1
    assert "internal error" not in result.stderr


def test_standard_input_is_named_alike_and_read_once() -> None:
    text = (SPECS / "lenet5.yaml").read_text()
    assert run("check", "-", input=text).stdout.startswith("✓ <stdin>  1 expectation met\n")
    result = run("diff", "-", "-", input=text)
    assert result.exit_code == 2
    assert "standard input can be read only once" in result.stderr
    assert run("diff", "-", str(SPECS / "lenet5.yaml"), input=text).exit_code == 0


def test_the_layer_limit_option_defaults_to_the_core_limit() -> None:
    """The CLI writes the default out (its --help loads no core); it must be the core's."""
    from cnncalc.cli import summarize
    from cnncalc.graph import DEFAULT_MAX_LAYERS

    (option,) = (p for p in summarize.params if p.name == "max_layers")
    assert option.default == DEFAULT_MAX_LAYERS


def test_layers_does_not_load_the_core() -> None:
    """`cnncalc layers` reads the layer descriptors and the catalog's renderer, nothing of
    the spec, graph or analysis stages."""
    import subprocess
    import sys

    code = (
        "import sys; from click.testing import CliRunner; from cnncalc.cli import main;"
        " CliRunner().invoke(main, ['layers']); CliRunner().invoke(main, ['layers', 'conv2d']);"
        " print(' '.join(sorted(m for m in sys.modules if m.startswith('cnncalc'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "cnncalc.render.catalog" in out
    for core in ("cnncalc.source", "cnncalc.spec", "cnncalc.graph", "cnncalc.analysis"):
        assert core not in out
