"""Terminal, CI-log and XML injection: user text is data in every output, never a command.

Hostile strings reach the output through every user-controlled place (the spec's name, file
names, unknown layer types, layer and block names, argument values, --chain text, --layer and
TYPE arguments) and every command and format prints them. Whatever they hold, stdout and
stderr carry no raw control, bidi or other invisible format character but the renderer's own
line breaks, no line a GitHub Actions runner would read as a workflow command except the
github format's own annotations, JUnit and JSON that parse, and the text escaped visibly.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cnncalc import safetext
from cnncalc.cli import main
from conftest import run, write_spec

HOSTILE = {
    "osc-title": "\x1b]0;pwned title\x07",
    "clear-screen": "\x1b[2J\x1b[H",
    "osc8-link": "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    "newline-command": "ok\n::error file=x.py,line=1::pwned",
    "leading-command": "::error file=x.py::pwned",
    "spaced-command": " \u00a0::warning::pwned",
    "legacy-command": "a ##[error]pwned",
    "carriage-return": "fine\rpwned",
    "line-separator": "a\u2028b\u2029c",
    "bidi-override": "txt.\u202eexe\u202c\u2066\u2069\u200e\u200f\u061c",
    "hidden": "a\u200bb\ufeffc\U000e0041",
    "nonchar": "a\ufffeb\uffff",
    "nul": "a\x00b",
    "c1-csi": "\x9b31mred",
    "del": "a\x7fb",
}
# The fast run (-m "not slow") tries these; the full run every string.
CORE = {"osc-title", "newline-command", "leading-command", "bidi-override", "nonchar"}


def cases(strings: dict[str, str]) -> list[object]:
    return [
        pytest.param(text, id=key, marks=() if key in CORE else pytest.mark.slow)
        for key, text in strings.items()
    ]


HOSTILE_CASES = cases(HOSTILE)
# A file name cannot hold NUL (nor '/').
FILE_CASES = cases({k: v for k, v in HOSTILE.items() if "\x00" not in v})

SPEC = "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 2, kernel_size: 3}\n  - relu\n"


def yaml_quoted(text: str) -> str:
    """`text` as a YAML double-quoted scalar: the way controls get into a spec, since YAML
    refuses them raw."""
    out = []
    for c in text:
        n = ord(c)
        if c in '"\\':
            out.append("\\" + c)
        elif c.isprintable():
            out.append(c)
        else:
            out.append(
                f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"
            )
    return '"' + "".join(out) + '"'


def _unsafe(c: str) -> bool:
    """A character no output may hold raw: controls, line separators, format characters (but
    the joiners), surrogates, noncharacters."""
    n = ord(c)
    if n in (0x200C, 0x200D):
        return False
    noncharacter = 0xFDD0 <= n <= 0xFDEF or n & 0xFFFE == 0xFFFE
    return unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs") or noncharacter


_ANNOTATION = re.compile(r"::(error|warning) file=[^:]*::")


def assert_safe(result: Result, fmt: str = "table") -> None:
    """Nothing in stdout or stderr that acts on a terminal or a CI runner; the machine formats
    parse."""
    for stream, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        raw = sorted({f"U+{ord(c):04X}" for c in text if c != "\n" and _unsafe(c)})
        assert not raw, f"raw {raw} in {stream}:\n{text}"
        assert "##[" not in text, f"a legacy workflow command in {stream}:\n{text}"
        for line in text.splitlines():
            if line.lstrip().startswith("::"):
                own = stream == "stdout" and fmt == "github" and _ANNOTATION.match(line)
                assert own, f"a workflow command in {stream}: {line!r}"
    if fmt == "junit" and result.stdout:
        ET.fromstring(result.stdout)
    if fmt == "json" and result.stdout:
        json.loads(result.stdout)


SUMMARY_FORMATS = ["table", "markdown", "csv", "json"]
CHECK_FORMATS = ["text", "json", "github", "junit"]


# --- the spec's name ---------------------------------------------------------------------


@pytest.mark.parametrize("hostile", HOSTILE_CASES)
@pytest.mark.parametrize("fmt", SUMMARY_FORMATS)
def test_spec_name_in_summarize(tmp_path: Path, hostile: str, fmt: str) -> None:
    spec = write_spec(tmp_path, f"name: {yaml_quoted(hostile)}\n{SPEC}")
    result = run("summarize", spec, "-f", fmt)
    assert result.exit_code == 0, result.output
    assert_safe(result, fmt)
    if fmt == "json":
        assert json.loads(result.stdout)["name"] == hostile  # the same string, escaped
    elif fmt == "table":
        title = result.stdout.splitlines()[0]
        assert title == f"{safetext.terminal(hostile)}: 3×8×8 → 2×6×6"
    elif fmt == "markdown":
        assert result.stdout.startswith(f"**{safetext.markdown(hostile)}: 3×8×8")


@pytest.mark.parametrize("hostile", HOSTILE_CASES)
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_spec_name_in_rf(tmp_path: Path, hostile: str, fmt: str) -> None:
    spec = write_spec(tmp_path, f"name: {yaml_quoted(hostile)}\n{SPEC}")
    result = run("rf", spec, "-f", fmt)
    assert result.exit_code == 0, result.output
    assert_safe(result, fmt)
    if fmt == "json":
        assert json.loads(result.stdout)["name"] == hostile
    else:
        assert result.stdout.startswith(f"{safetext.terminal(hostile)}: receptive fields")


@pytest.mark.parametrize("hostile", HOSTILE_CASES)
@pytest.mark.parametrize(
    "args",
    [
        ("explain",),
        ("rf", "--layer", "conv2d_1", "--unit", "0,0"),
        *(("check", "-f", f) for f in CHECK_FORMATS),
    ],
    ids=lambda a: "-".join(a),
)
def test_spec_name_elsewhere(tmp_path: Path, hostile: str, args: tuple[str, ...]) -> None:
    spec = write_spec(tmp_path, f"name: {yaml_quoted(hostile)}\n{SPEC}")
    result = run(*args[:1], spec, *args[1:])
    assert result.exit_code == 0, result.output
    assert_safe(result, args[-1])
    if args[-1] == "json" and args[0] == "check":
        assert json.loads(result.stdout)["specs"][0]["name"] == hostile


@pytest.mark.parametrize("hostile", HOSTILE_CASES)
@pytest.mark.parametrize("command", ["summarize", "rf", "check", "diff"])
def test_colour_codes_are_only_ours(tmp_path: Path, hostile: str, command: str) -> None:
    """With colour on, the only escape sequences are the renderer's own colours (SGR)."""
    spec = write_spec(tmp_path, f"name: {yaml_quoted(hostile)}\n{SPEC}")
    other = write_spec(tmp_path, SPEC, f"{hostile}.yaml".replace("\x00", "").replace("/", "_"))
    args = [other, spec] if command == "diff" else [other if command == "check" else spec]
    result = CliRunner().invoke(main, [command, *args], env={"FORCE_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert "\x1b[1m" in result.stdout  # colour is on
    result.stdout_bytes = re.sub(rb"\x1b\[[0-9;]*m", b"", result.stdout_bytes)
    assert_safe(result)


# --- file names --------------------------------------------------------------------------


def hostile_file(directory: Path, hostile: str, text: str = SPEC) -> str:
    """A spec whose file name holds `hostile`; its name relative to `directory` (which the
    test makes the working directory), so that the name begins lines of output."""
    name = f"{hostile}.yaml".replace("/", "_")
    (directory / name).write_text(text)
    return name


@pytest.mark.parametrize("hostile", FILE_CASES)
@pytest.mark.parametrize("fmt", CHECK_FORMATS)
@pytest.mark.parametrize("valid", [True, False], ids=["valid", "invalid"])
def test_file_name_in_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hostile: str, fmt: str, valid: bool
) -> None:
    monkeypatch.chdir(tmp_path)
    text = SPEC + ("expect: {params: 1}\n" if valid else "  - conv2d: {}\n")
    name = hostile_file(tmp_path, hostile, text)
    for arg, path in ((name, name), (".", f"./{name}")):  # named, or found by a walk
        result = run("check", arg, "-f", fmt)
        assert result.exit_code == (1 if valid else 2), result.output
        assert_safe(result, fmt)
        if fmt == "text":
            assert safetext.terminal(path) in result.stdout
        elif fmt == "json":
            assert json.loads(result.stdout)["specs"][0]["path"] == path
        elif fmt == "github":
            assert result.stdout.startswith(f"::error file={safetext.github_property(path)},")
        elif fmt == "junit":
            case = ET.fromstring(result.stdout).find("testsuite/testcase")
            assert case is not None and case.get("name") == safetext.xml(path)


@pytest.mark.parametrize("hostile", FILE_CASES)
@pytest.mark.parametrize("fmt", ["table", "markdown", "json"])
def test_file_names_as_diff_labels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hostile: str, fmt: str
) -> None:
    monkeypatch.chdir(tmp_path)
    old = hostile_file(tmp_path, hostile)
    new = write_spec(tmp_path, SPEC.replace("out_channels: 2", "out_channels: 4"), "new.yaml")
    result = run("diff", old, new, "-f", fmt)
    assert result.exit_code == 0, result.output
    assert_safe(result, fmt)
    if fmt == "table":
        assert result.stdout.startswith(f"{safetext.terminal(old)} → ")
    elif fmt == "markdown":
        assert result.stdout.startswith(f"**{safetext.markdown(old)} → ")
    else:
        assert json.loads(result.stdout)["old"] == old


@pytest.mark.parametrize("hostile", FILE_CASES)
@pytest.mark.parametrize("command", ["summarize", "rf", "explain", "diff"])
@pytest.mark.parametrize("exists", [True, False], ids=["invalid-spec", "missing"])
def test_file_name_in_error_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hostile: str, command: str, exists: bool
) -> None:
    monkeypatch.chdir(tmp_path)
    name = f"{hostile}.yaml"
    if exists:
        name = hostile_file(tmp_path, hostile, "input: [3]\nlayers: [conv2d]\n")
    args = [name, name] if command == "diff" else [name]
    result = run(command, *args)
    assert result.exit_code == 2, result.output
    assert_safe(result)
    line = result.stderr.splitlines()[0]
    assert line.startswith(f"{safetext.terminal(name)}:"), line  # FILE:LINE:COL, one line


def test_a_file_name_that_is_not_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file name that is not UTF-8 is refused (exit 2), and shown escaped byte by byte, never
    written raw (its lone surrogates no encoder accepts)."""
    monkeypatch.chdir(tmp_path)
    try:
        fd = os.open(b"bad\xff\x1b.yaml", os.O_WRONLY | os.O_CREAT)
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    os.write(fd, (SPEC + "expect: {params: 1}\n").encode())
    os.close(fd)
    for fmt in CHECK_FORMATS:
        result = run("check", ".", "-f", fmt)
        assert result.exit_code == 2, result.output
        assert_safe(result, fmt)
        if fmt == "text":
            assert "bad\\xff\\x1b.yaml:1:1: the file name is not UTF-8" in result.stdout


# --- names and values inside a spec that make it invalid ----------------------------------

INVALID_SPECS = {
    "unknown-type": "input: [3, 8, 8]\nlayers: [{text}]\n",
    "unknown-type-with-args": "input: [3, 8, 8]\nlayers:\n  - {text}: {{out_channels: 2}}\n",
    "layer-name": "input: [3, 8, 8]\nlayers:\n  - relu: {{}}\n    name: {text}\n",
    "block-name": "input: [3, 8, 8]\nblocks:\n  {text}: {{layers: [relu]}}\nlayers: [relu]\n",
    "argument-value": (
        "input: [3, 8, 8]\nlayers:\n  - conv2d: {{out_channels: 2, kernel_size: 3,"
        " padding: {text}}}\n"
    ),
    "argument-name": "input: [3, 8, 8]\nlayers:\n  - relu: {{{text}: 1}}\n",
    "expectation": "input: [3, 8, 8]\nlayers: [relu]\nexpect: {{{text}: 1}}\n",
    "input-reference": "input: [3, 8, 8]\nlayers:\n  - relu: {{}}\n    from: {text}\n",
}


MESSAGE_CASES = [
    (where, fmt)
    for where in INVALID_SPECS
    for fmt in ["summarize", *CHECK_FORMATS]
    if not (where == "expectation" and fmt == "summarize")  # summarize does not read them
]


@pytest.mark.parametrize("hostile", HOSTILE_CASES)
@pytest.mark.parametrize(("where", "fmt"), MESSAGE_CASES, ids=["-".join(c) for c in MESSAGE_CASES])
def test_user_text_in_messages(tmp_path: Path, hostile: str, where: str, fmt: str) -> None:
    spec = write_spec(tmp_path, INVALID_SPECS[where].format(text=yaml_quoted(hostile)))
    result = run("summarize", spec) if fmt == "summarize" else run("check", spec, "-f", fmt)
    assert result.exit_code == 2, result.output
    assert_safe(result, fmt)
    if fmt in ("summarize", "text"):
        shown = result.stderr if fmt == "summarize" else result.stdout
        located = [x for x in shown.strip().splitlines() if not x[:1].isspace()]
        assert len(located) == (1 if fmt == "summarize" else 2), shown  # + its source line
        visible = safetext.terminal(hostile.strip())[:6]
        assert visible.replace("\\x3a", ":") in shown.replace("\\x3a", ":"), shown


@pytest.mark.parametrize("hostile", HOSTILE_CASES)
@pytest.mark.parametrize(
    "args",
    [
        ("rf", "--chain", "conv2d k3, {text}"),
        ("rf", "--chain", "conv2d k3 {text}"),
        ("rf", "--chain", "conv2d name={text}"),
        ("rf", "SPEC", "--layer", "{text}"),
        ("explain", "SPEC", "--layer", "{text}"),
        ("summarize", "SPEC", "--input", "{text}"),
        ("layers", "{text}"),
    ],
    ids=lambda a: "-".join(a[:3]),
)
def test_command_line_text_in_messages(tmp_path: Path, hostile: str, args: tuple[str, ...]) -> None:
    spec = write_spec(tmp_path, SPEC)
    argv = [spec if a == "SPEC" else a.format(text=hostile) for a in args]
    result = run(*argv)
    assert result.exit_code == 2, result.output
    assert_safe(result)
    lines = result.stderr.strip().splitlines()
    message = lines[-1]  # click's usage lines come first
    assert len(lines) == 1 or (len(lines) == 4 and message.startswith("Error: ")), lines


# --- the escaping functions themselves ----------------------------------------------------


@pytest.mark.slow
def test_terminal_escapes_every_unsafe_character_and_only_those() -> None:
    """The hand-written class in safetext matches Unicode's categories: every control, line
    separator, format character (but the joiners), surrogate and noncharacter, and nothing
    printable."""
    for n in range(0x110000):
        c = chr(n)
        if _unsafe(c):
            assert safetext.terminal(c) != c, f"U+{n:04X} passes raw"
        elif c not in "#:" and unicodedata.category(c) != "Cn":
            assert safetext.terminal(c) == c, f"U+{n:04X} escaped needlessly"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[2J", "\\x1b[2J"),
        ("a\nb\r\tc", "a\\nb\\r\\tc"),
        ("\u2028\u202e\ufffe", "\\u2028\\u202e\\ufffe"),
        ("\U000e0041", "\\U000e0041"),
        ("\udcff", "\\udcff"),
        ("::error::x", "\\x3a:error::x"),
        (" \u3000:x", " \u3000\\x3ax"),
        ("a::b", "a::b"),
        ("##[error]", "\\x23#[error]"),
        ("###[x", "#\\x23#[x"),
        ("zwj\u200d\u200cok", "zwj\u200d\u200cok"),
        ("snake_case é 日本", "snake_case é 日本"),
    ],
)
def test_terminal(text: str, shown: str) -> None:
    assert safetext.terminal(text) == shown
    assert safetext.terminal(shown) == shown  # escaping twice changes nothing


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a|b", "a\\|b"),
        ("**bold** _em_ snake_case", "\\*\\*bold\\*\\* \\_em\\_ snake_case"),
        ("[x](http://e) <b>&amp; `c` ~s~", "\\[x\\](http://e) \\<b\\>\\&amp; \\`c\\` \\~s\\~"),
        ("\x1b", "\\\\x1b"),
    ],
)
def test_markdown(text: str, shown: str) -> None:
    assert safetext.markdown(text) == shown


def test_markdown_code_span() -> None:
    assert safetext.markdown_code("conv1") == "`conv1`"
    assert safetext.markdown_code("a|b") == "`a\\|b`"
    assert safetext.markdown_code("a`b") == "a\\`b"  # a backtick would end the span


def test_github_escaping() -> None:
    assert safetext.github_data("50% a\nb") == "50%25 a\\nb"
    assert safetext.github_property("a,b:c%\r") == "a%2Cb%3Ac%25\\r"
    assert safetext.github_property("::x") == "\\x3a%3Ax"


def test_json_safe_keeps_the_strings() -> None:
    data = {"name": "\x1b\x7f\x9b\u2028\u202e##[x\U000e0041\udcff\ufffe"}
    encoded = safetext.json_safe(json.dumps(data, ensure_ascii=False, indent=2))
    assert encoded.isascii() and "##[" not in encoded
    assert json.loads(encoded) == data


def test_junit_accepts_a_type_holding_u_fffe(tmp_path: Path) -> None:
    """The issue's case: a layer type holding U+FFFE made the report unreadable."""
    spec = write_spec(tmp_path, 'input: [3]\nlayers: ["re\\uFFFElu"]\n')
    result = run("check", spec, "-f", "junit")
    assert result.exit_code == 2
    error = ET.fromstring(result.stdout).find("testsuite/testcase/error")
    assert error is not None and "re\\ufffelu" in (error.get("message") or "")
