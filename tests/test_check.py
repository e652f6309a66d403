"""`cnncalc check`: expectations, budgets, exit codes and every report format."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import pytest

from cnncalc.expect import parse_number
from conftest import SPECS, run, write_spec

RESNET = (SPECS / "resnet50.yaml").read_text().split("\n# What CI holds")[0] + "\n"
GOOD = """
expect:
  output_shape: [1000]
  params: {max: 26M}
  trainable_params: 25_557_032
  buffers: {min: 50k, max: 60k}
  receptive_field: {layer: layer4, min: 400}
  layers:
    layer3: {output_shape: [1024, 14, 14], params: {max: 7.1M}}
    conv1: {params: 9408, receptive_field: 7}
"""


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (26_000_000, Fraction(26_000_000)),
        ("26M", Fraction(26_000_000)),
        ("4.1G", Fraction(4_100_000_000)),
        ("1.5e9", Fraction(1_500_000_000)),
        ("25_557_032", Fraction(25_557_032)),
        ("50k", Fraction(50_000)),
        ("1.5 GiB", Fraction(3 * 2**29)),
        ("100MB", Fraction(100_000_000)),
        (0.5, Fraction(1, 2)),
        ("2T", Fraction(2 * 10**12)),
        ("11/2", Fraction(11, 2)),  # a receptive field as cnncalc prints it
        (0, Fraction(0)),
    ],
)
def test_human_numbers(text: object, value: Fraction) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize(
    "text",
    ["26X", "M", "", "1.2.3", True, None, "1e", "--5", -17, "-1", "-2M", -0.5, "1/0", "1/-2"],
)
def test_not_numbers(text: object) -> None:
    with pytest.raises(ValueError):
        parse_number(text)


def spec_with(tmp_path: Path, expect: str, name: str = "net.yaml") -> str:
    return write_spec(tmp_path, RESNET + expect, name)


def line_of(path: str, needle: str) -> int:
    return next(
        i for i, line in enumerate(Path(path).read_text().splitlines(), 1) if needle in line
    )


def test_met_expectations_exit_0(tmp_path: Path) -> None:
    path = spec_with(tmp_path, GOOD)
    result = run("check", path)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"✓ {path}  9 expectations met\n1 spec: 1 passed, 0 failed, 0 invalid\n"


def test_failed_expectations_exit_1_and_point_at_the_line(tmp_path: Path) -> None:
    path = spec_with(
        tmp_path,
        GOOD.replace("max: 26M", "max: 20M")
        .replace("[1024, 14, 14]", "[1024, 7, 7]")
        .replace("min: 400", "min: 500"),
    )
    result = run("check", path)
    assert result.exit_code == 1
    params_line = line_of(path, "max: 20M")
    rf_line = line_of(path, "min: 500")
    shape_line = line_of(path, "[1024, 7, 7]")
    assert result.stdout.splitlines() == [
        f"✗ {path}  3 of 9 expectations failed",
        f"    {path}:{params_line}:17: params is 25,557,032, more than the maximum 20,000,000",
        f"    {path}:{rf_line}:41: layer 'layer4' receptive_field size is 427, less than the"
        " minimum 500",
        f"    {path}:{shape_line}:28: layer 'layer3' output_shape is [1024, 14, 14], expected"
        " [1024, 7, 7]",
        "1 spec: 0 passed, 1 failed, 0 invalid",
    ]


def test_budget_from_the_command_line(tmp_path: Path) -> None:
    path = write_spec(tmp_path, RESNET)
    assert run("check", path, "--max-params", "26M").exit_code == 0
    result = run("check", path, "--max-params", "25.5M")
    assert result.exit_code == 1
    assert (
        f"    {path}: params (--max-params) is 25,557,032, more than the maximum"
        " 25,500,000" in result.stdout
    )


def test_memory_figures_are_reported_in_bytes_and_binary_units(tmp_path: Path) -> None:
    """lenet5 at batch 1, float32, Adam: 4 copies of 61,706 parameters (weights, gradients,
    m, v) and the activations, whose sum the summary prints."""
    spec = str(SPECS / "lenet5.yaml")
    total = json.loads(run("summarize", spec, "-f", "json").stdout)["totals"]["memory"][
        "total_bytes"
    ]
    result = run("check", spec, "--max-memory", "0.5MiB")
    assert result.exit_code == 1
    assert (
        f"memory (--max-memory) is {total:,} B ({total / 2**10:.2f} KiB), more than the"
        f" maximum 524,288 B (512.00 KiB)"
    ) in result.stdout
    path = write_spec(
        tmp_path,
        "input: [4]\nlayers:\n  - linear: {out_features: 2}\nexpect:\n  param_bytes: {max: 16}\n",
    )
    assert "param_bytes is 40 B, more than the maximum 16 B" in run("check", path).stdout


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        (
            "expect:\n  layers:\n    layer9: {params: 1}\n",
            "expect names layer 'layer9', which the network does not have; did you mean 'layer",
        ),
        (
            "expect:\n  receptive_field: {layer: nope, min: 1}\n",
            "expect names layer 'nope', which the network does not have",
        ),
        ("expect:\n  parms: 1\n", "unknown expectation 'parms'; did you mean 'params'?"),
        ("expect:\n  params: {max: lots}\n", "params: 'lots' is not a number"),
        ("expect:\n  params: {max: 1M, min: 2M}\n", "params: min 2,000,000 is more than max"),
        ("expect:\n  params: {most: 1M}\n", "params: a range has 'min' and/or 'max', not 'most'"),
        ("expect:\n  layers:\n    fc: {memory: 1}\n", "unknown expectation 'memory' for a layer"),
        ("expect:\n  receptive_field: {min: 1}\n", "receptive_field needs 'layer'"),
        ("expect: [1]\n", "'expect' must be a mapping"),
    ],
)
def test_expectations_naming_nothing_are_spec_errors(
    tmp_path: Path, expect: str, message: str
) -> None:
    path = spec_with(tmp_path, expect)
    result = run("check", path)
    assert result.exit_code == 2
    assert message in result.stdout


def test_exit_codes_in_every_combination(tmp_path: Path) -> None:
    ok = spec_with(tmp_path, GOOD, "ok.yaml")
    failing = spec_with(tmp_path, "expect: {params: 1}\n", "fail.yaml")
    invalid = write_spec(tmp_path, "input: [3]\nlayers: [conv2d]\n", "bad.yaml")
    assert run("check", ok).exit_code == 0
    assert run("check", failing).exit_code == 1
    assert run("check", invalid).exit_code == 2
    assert run("check", ok, failing).exit_code == 1
    assert run("check", ok, invalid).exit_code == 2
    assert run("check", failing, invalid).exit_code == 2  # 2 wins over 1
    assert run("check", ok, failing, invalid).exit_code == 2
    assert run("check", str(tmp_path / "missing.yaml")).exit_code == 2


def test_directories_and_globs(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    spec_with(tmp_path, GOOD, "a.yaml")
    spec_with(tmp_path / "sub", GOOD, "b.yml")
    (tmp_path / "notes.txt").write_text("not a spec")
    result = run("check", str(tmp_path), "-f", "json")
    assert [s["path"] for s in json.loads(result.stdout)["specs"]] == [
        str(tmp_path / "a.yaml"),
        str(tmp_path / "sub" / "b.yml"),
    ]
    result = run("check", str(tmp_path / "**" / "*.yml"), "-f", "json")
    assert [s["path"] for s in json.loads(result.stdout)["specs"]] == [
        str(tmp_path / "sub" / "b.yml")
    ]
    result = run("check", str(tmp_path / "*.json"))
    assert result.exit_code == 2
    assert "no file matches" in result.stderr


def test_a_directory_without_specs_is_a_usage_error(tmp_path: Path) -> None:
    """A mistyped directory in a CI job must not pass by checking nothing."""
    (tmp_path / "notes.txt").write_text("not a spec")
    result = run("check", str(tmp_path))
    assert result.exit_code == 2
    assert (
        result.stderr == f"error: no spec files (*.yaml, *.yml) in the directory"
        f" {str(tmp_path)!r}\n"
    )


UNUSED = (
    "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 3}\n"
    "    name: a\n  - relu:\n    from: input\n"
)
UNUSED_WARNING = (
    "layer 'a': its output is never used (it is not the last layer and no 'from' names it)"
)


def test_warnings_reach_every_report_without_failing(tmp_path: Path) -> None:
    """A valid spec's warnings (here an unused layer, at line 3) are in every format; the
    spec still passes."""
    spec = write_spec(tmp_path, UNUSED)
    text = run("check", spec)
    assert text.exit_code == 0
    assert f"    {spec}:3:5: warning: {UNUSED_WARNING}" in text.stdout.splitlines()
    data = json.loads(run("check", spec, "-f", "json").stdout)
    assert data["specs"][0]["warnings"] == [{"message": UNUSED_WARNING, "line": 3, "column": 5}]
    assert data["specs"][0]["status"] == "passed"
    github = run("check", spec, "-f", "github").stdout.splitlines()
    assert github[0] == (
        f"::warning file={spec},line=3,col=5,title=cnncalc%3A warning::{UNUSED_WARNING}"
    )
    case = ET.fromstring(run("check", spec, "-f", "junit").stdout).find("testsuite/testcase")
    assert case is not None and case.find("failure") is None
    assert case.findtext("system-err") == f"{spec}:3:5: warning: {UNUSED_WARNING}"


def test_every_example_spec_is_valid() -> None:
    result = run("check", str(SPECS))
    assert result.exit_code == 0, result.stdout
    assert f"{len(list(SPECS.glob('*.yaml')))} passed, 0 failed, 0 invalid" in result.stdout


def test_github_annotations(tmp_path: Path) -> None:
    failing = spec_with(tmp_path, "expect:\n  params: {max: 20M}\n", "fail.yaml")
    invalid = write_spec(
        tmp_path,
        "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 2, kernel_size: 9}\n",
        "bad.yaml",
    )
    result = run("check", failing, invalid, "-f", "github")
    line = line_of(failing, "max: 20M")
    assert result.stdout.splitlines() == [
        f"::error file={failing},line={line},col=17,title=cnncalc%3A expectation failed::"
        "params is 25,557,032, more than the maximum 20,000,000",
        f"::error file={invalid},line=3,col=44,title=cnncalc%3A invalid spec::layer"
        " 'conv2d_1': kernel_size 9 is larger than the input 8 (no padding)",
        "2 specs: 0 passed, 1 failed, 1 invalid",
    ]


def test_github_annotation_escapes_newlines_and_commas_in_properties(tmp_path: Path) -> None:
    weird = tmp_path / "a,b:c.yaml"
    weird.write_text(RESNET + "expect: {params: 1}\n")
    out = run("check", str(weird), "-f", "github").stdout
    assert out.startswith(f"::error file={tmp_path!s}/a%2Cb%3Ac.yaml,line=")


def test_junit_xml_has_one_testcase_per_spec(tmp_path: Path) -> None:
    ok = spec_with(tmp_path, GOOD, "ok.yaml")
    failing = spec_with(tmp_path, "expect: {params: 1}\n", "fail.yaml")
    invalid = write_spec(tmp_path, "input: [3]\nlayers: [conv2d]\n", "bad.yaml")
    result = run("check", ok, failing, invalid, "-f", "junit")
    assert result.exit_code == 2
    root = ET.fromstring(result.stdout)
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [ok, failing, invalid]
    assert cases[0].find("failure") is None and cases[0].find("error") is None
    failure = cases[1].find("failure")
    assert failure is not None
    assert failure.get("message") == "params is 25,557,032, expected 1"
    error = cases[2].find("error")
    assert error is not None and "needs argument 'out_channels'" in (error.get("message") or "")


def test_json_report(tmp_path: Path) -> None:
    failing = spec_with(tmp_path, "expect: {params: 1}\n")
    data = json.loads(run("check", failing, "-f", "json").stdout)
    (spec,) = data["specs"]
    assert spec["status"] == "failed"
    assert spec["problems"] == [
        {
            "message": "params is 25,557,032, expected 1",
            "line": line_of(failing, "expect:"),
            "column": 18,
        }
    ]
    assert data["summary"] == {"passed": 0, "failed": 1, "invalid": 0}


def test_global_receptive_field_meets_a_minimum_but_has_no_maximum(tmp_path: Path) -> None:
    ok = spec_with(tmp_path, "expect:\n  receptive_field: {layer: fc, min: 1000}\n", "a.yaml")
    assert run("check", ok).exit_code == 0
    bad = spec_with(tmp_path, "expect:\n  receptive_field: {layer: fc, max: 1000}\n", "b.yaml")
    result = run("check", bad)
    assert result.exit_code == 1
    assert "layer 'fc' receptive_field size is global, not a number" in result.stdout


def test_pre_commit_hook_definition() -> None:
    import yaml

    from conftest import ROOT

    check, verify = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert check["id"] == "cnncalc-check"
    assert check["entry"] == "cnncalc check"
    assert check["language"] == "python"
    assert (verify["id"], verify["entry"]) == ("cnncalc-verify", "cnncalc verify")
    assert verify["pass_filenames"] is False  # the spec and model come from args


def test_a_directory_search_skips_hidden_files_and_directories(tmp_path: Path) -> None:
    """`check .` in a repository: .pre-commit-config.yaml and .github/ are not specs."""
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "ci.yml").write_text("on: push\n")
    (tmp_path / ".pre-commit-config.yaml").write_text("repos: []\n")
    write_spec(tmp_path, "input: [4]\nlayers:\n  - linear: {out_features: 2}\n", "net.yaml")
    result = run("check", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"✓ {tmp_path / 'net.yaml'}")
    assert "1 spec: 1 passed" in result.stdout


def test_json_problems_always_have_line_and_column(tmp_path: Path) -> None:
    """A command-line budget has no place in the file: null, not a missing key."""
    path = write_spec(
        tmp_path, "input: [4]\nlayers:\n  - linear: {out_features: 2}\nexpect:\n  params: 1\n"
    )
    data = json.loads(run("check", path, "--max-params", "5", "-f", "json").stdout)
    assert data["specs"][0]["problems"] == [
        {"message": "params is 10, expected 1", "line": 5, "column": 11},
        {
            "message": "params (--max-params) is 10, more than the maximum 5",
            "line": None,
            "column": None,
        },
    ]
