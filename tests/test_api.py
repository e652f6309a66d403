"""The Python API: records equal to what the command line prints, errors with positions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import cnncalc
from cnncalc.rfquery import FieldTable, UnitReport
from conftest import SPECS, run

SPEC_FILES = sorted(SPECS.glob("*.yaml"))
CONV = "input: [3, 32, 32]\nlayers:\n  - conv2d: {out_channels: 10, kernel_size: 5}\n"


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.stem)
def test_to_dict_is_the_cli_json(path: Path) -> None:
    """For every shipped spec, the API's document is the one `summarize -f json` prints."""
    printed = run("summarize", str(path), "-f", "json")
    assert printed.exit_code == 0, printed.stderr
    assert cnncalc.summarize(str(path)).to_dict() == json.loads(printed.stdout)


def test_options_are_the_cli_options() -> None:
    """batch, dtype, optimizer, depth and input mean what the command line's options mean."""
    path = str(SPECS / "resnet18.yaml")
    printed = run(
        "summarize", path, "-f", "json", "--batch", "8", "--dtype", "float16",
        "--optimizer", "sgd", "--depth", "1", "--input", "3,64,64",
    )  # fmt: skip
    mine = cnncalc.summarize(
        path, batch=8, dtype="float16", optimizer="sgd", depth=1, input=(3, 64, 64)
    )
    assert mine.to_dict() == json.loads(printed.stdout)
    assert mine.to_json() == printed.stdout


def test_attributes_by_hand() -> None:
    """A 5×5 conv of 10 filters on RGB: (5·5·3 + 1)·10 = 760 parameters, 28×28 outputs,
    760 − 10 = 750 multiplications per output position."""
    s = cnncalc.summarize(CONV)
    assert s.totals.params == 760
    assert s.layers[0].output_shape == (10, 28, 28)
    assert s.layers[0].type == "conv2d"
    assert s.totals.macs == 750 * 28 * 28
    assert dict(s.layers[0].param_tensors) == {"weight": 750, "bias": 10}


def test_every_kind_of_source_gives_the_same_summary(tmp_path: Path) -> None:
    path = tmp_path / "conv.yaml"
    path.write_text(CONV)
    as_dicts = [
        cnncalc.summarize(source).to_dict()
        for source in (str(path), path, CONV, yaml.safe_load(CONV))
    ]
    assert all(d == as_dicts[0] for d in as_dicts)
    assert cnncalc.summarize({"input": (3, 32, 32), "layers": ["flatten"]}).totals.params == 0


def test_shows_itself_in_a_notebook_and_a_terminal() -> None:
    s = cnncalc.summarize(CONV)
    markdown = s._repr_markdown_()
    assert markdown.splitlines()[0] == "**network: 3×32×32 → 10×28×28**"
    assert "| `conv2d_1` | conv2d | 10×28×28 | 760 |" in markdown
    assert "760" in str(s) and "conv2d_1" in str(s)


def test_a_bad_spec_raises_one_class_with_its_position() -> None:
    with pytest.raises(cnncalc.Error) as caught:
        cnncalc.summarize(
            "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 9}\n"
        )
    err = caught.value
    assert (err.file, err.line, err.column, err.layer) == ("<string>", 3, 44, "conv2d_1")
    assert err.message == "kernel_size 9 is larger than the input 8 (no padding)"
    assert str(err) == f"<string>:3:44: layer 'conv2d_1': {err.message}"


def test_a_missing_file_is_located(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.yaml")
    with pytest.raises(cnncalc.Error) as caught:
        cnncalc.summarize(missing)
    assert (caught.value.file, caught.value.line, caught.value.column) == (missing, 1, 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch": 0}, "batch must be a whole number of at least 1, got 0"),
        ({"dtype": "float99"}, "dtype 'float99' is not one of float32, float16, bfloat16"),
        ({"optimizer": "lbfgs"}, "optimizer 'lbfgs' is not one of sgd"),
        ({"input": (3, 0, 8)}, "input sizes must be whole numbers of at least 1, got [3, 0, 8]"),
        ({"input": "3,8,8"}, "input must be a non-empty sequence of sizes"),
        ({"depth": 0}, "depth must be a whole number of at least 1, got 0"),
    ],
)
def test_bad_arguments_raise_the_same_class_unlocated(kwargs: dict, message: str) -> None:
    with pytest.raises(cnncalc.Error) as caught:
        cnncalc.summarize(CONV, **kwargs)
    assert caught.value.message.startswith(message)
    assert caught.value.file is None and caught.value.line is None


def test_a_source_of_another_type_is_refused() -> None:
    with pytest.raises(cnncalc.Error, match="a source is a path, YAML text or a mapping"):
        cnncalc.summarize(42)  # type: ignore[arg-type]


def test_rf_tables_and_units() -> None:
    """conv 3×3 stride 1 then max-pool 3×3 stride 2: field 3 + (3 − 1)·1 = 5, stride 2."""
    spec = (
        "input: [1, 16, 16]\nlayers:\n  - conv2d: {out_channels: 1, kernel_size: 3}\n"
        "  - maxpool2d: {kernel_size: 3, stride: 2}\n    name: pool\n"
    )
    table = cnncalc.rf(spec)
    assert isinstance(table, FieldTable)
    pool = table.rows[-1]
    assert (pool.name, pool.field.size, pool.field.stride) == ("pool", (5, 5), (2, 2))
    unit = cnncalc.rf(spec, layer="pool", unit=(1, 2))
    assert isinstance(unit, UnitReport)
    # unit 1 starts at input row 2·1 = 2 and spans 5 rows; column 2·2 = 4 to 8
    assert unit.region == ((2, 6), (4, 8))
    with pytest.raises(cnncalc.Error, match="a unit needs the layer"):
        cnncalc.rf(spec, unit=(0, 0))


def test_check_returns_problems_instead_of_exiting(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(CONV + "expect: {params: 760}\n")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(CONV + "expect: {params: 761}\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text("input: [3, 8, 8]\nlayers: [bogus]\n")
    results = cnncalc.check(tmp_path)
    assert [(Path(r.path).name, r.status) for r in results] == [
        ("broken.yaml", "invalid"),
        ("good.yaml", "passed"),
        ("wrong.yaml", "failed"),
    ]
    assert results[0].error is not None and results[0].error.line == 2
    over = cnncalc.check(good, max_params="700")
    assert over[0].status == "failed"
    assert cnncalc.check(good, max_params=760)[0].status == "passed"


def test_import_loads_nothing_until_used() -> None:
    """`import cnncalc` stays as light as the command line's --help needs it to be."""
    code = (
        "import sys, cnncalc; before = sorted(m for m in sys.modules if m.startswith('cnncalc'));"
        " cnncalc.summarize; print(before, 'cnncalc.graph' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['cnncalc'] True"


def test_the_package_is_typed() -> None:
    assert (Path(cnncalc.__file__).parent / "py.typed").is_file()
    assert set(cnncalc.__all__) <= set(dir(cnncalc.api)) | {"Error"}


def test_explain_returns_the_worked_formulas() -> None:
    """(5·5·3 + 1)·10 = 760 parameters; 28·28·10 outputs of 5·5·3 multiplications each."""
    explanation = cnncalc.explain(CONV)
    (conv,) = explanation.layers
    assert conv.params == (760, "(3·5·5 + 1)·10", None)
    assert conv.macs.value == 28 * 28 * 10 * 5 * 5 * 3
    assert conv.macs.formula == "10·28·28 · 3·5·5"
    assert conv.output_shape == (10, 28, 28)


@pytest.mark.parametrize("path", SPEC_FILES[:4], ids=lambda p: p.stem)
def test_explain_is_the_cli_json(path: Path) -> None:
    from cnncalc.render.explain import as_json

    printed = run("explain", str(path), "-f", "json")
    assert printed.exit_code == 0, printed.stderr
    assert json.loads(as_json(cnncalc.explain(str(path)))) == json.loads(printed.stdout)


def test_diff_of_two_sources() -> None:
    """Widening the conv from 10 to 12 filters: (5·5·3 + 1)·12 = 912 parameters, +152."""
    from cnncalc.api import diff

    wider = CONV.replace("out_channels: 10", "out_channels: 12")
    result = diff(CONV, wider, old_label="a", new_label="b")
    params = next(f for f in result.figures if f.name == "params")
    assert (params.old, params.new, params.change) == (760, 912, 152)
    assert (result.old_label, result.new_label) == ("a", "b")
    assert [c.name for c in result.changes] == ["conv2d_1"]


def test_a_path_object_is_a_path_whatever_its_name(tmp_path: Path) -> None:
    """A str with a line break is YAML text; a Path is always a file, even named 'a\\nb'."""
    odd = tmp_path / "con\nv.yaml"
    odd.write_text(CONV)
    assert cnncalc.summarize(odd).totals.params == 760


@pytest.mark.parametrize("call", ["summarize", "check", "explain"])
def test_every_function_refuses_a_batch_of_zero(call: str, tmp_path: Path) -> None:
    path = tmp_path / "conv.yaml"
    path.write_text(CONV)
    with pytest.raises(cnncalc.Error, match="batch must be a whole number of at least 1, got 0"):
        getattr(cnncalc, call)(path, batch=0)
