"""The README stays true: its console examples are run, every command is documented."""

from __future__ import annotations

import re
import shlex

import pytest

from cnncalc.cli import main
from conftest import ROOT, run

README = ROOT / "README.md"
_CONSOLE = re.compile(r"```console\n\$ (cnncalc [^\n]*)\n(.*?)```", re.S)


def _examples(text: str) -> list[re.Match[str]]:
    return list(_CONSOLE.finditer(text))


def test_readme_has_console_examples() -> None:
    assert len(_examples(README.read_text())) >= 3


def test_readme_console_examples_match_the_tool(
    update_golden: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.chdir(ROOT)
    text = README.read_text()
    fresh = text
    mismatched = []
    for m in reversed(_examples(text)):
        command = m.group(1)
        result = run(*shlex.split(command)[1:])
        if result.output != m.group(2):
            mismatched.append(command)
            block = f"```console\n$ {command}\n{result.output}```"
            fresh = fresh[: m.start()] + block + fresh[m.end() :]
    if update_golden:
        README.write_text(fresh)
        return
    assert not mismatched, f"README examples out of date (pytest --update-golden): {mismatched}"


def test_readme_setup_commands_are_what_ci_runs() -> None:
    readme = README.read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = (
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && pytest"
    )
    assert test_command in readme
    assert test_command in ci
    assert "pip install . && cnncalc summarize specs/resnet50.yaml" in readme


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_has_help_and_is_in_the_readme(name: str) -> None:
    result = run(name, "--help")
    assert result.exit_code == 0
    assert main.commands[name].help, f"'{name}' has no help text"
    assert f"cnncalc {name}" in README.read_text()


def test_readme_lists_every_layer_type() -> None:
    from cnncalc.layers import TYPES

    readme = README.read_text()
    missing = []
    for name in TYPES:
        family = re.sub(r"[123]d$", "", name)
        if f"`{name}`" in readme or f"`{family}" in readme or f"{family}1d/2d/3d" in readme:
            continue
        missing.append(name)
    assert not missing, f"layer types missing from the README: {missing}"


def test_spec_files_are_documented_in_specs_readme() -> None:
    index = (ROOT / "specs" / "README.md").read_text()
    for path in sorted((ROOT / "specs").glob("*.yaml")):
        assert f"({path.name})" in index, f"{path.name} is not in specs/README.md"


def test_readme_example_spec_is_the_tiny_resnet_spec() -> None:
    """The format example in the README is the one tested as specs/tiny_resnet.yaml."""
    readme = README.read_text()
    example = readme.split("## The spec format\n\n```yaml\n", 1)[1].split("```", 1)[0]
    spec_text = (ROOT / "specs" / "tiny_resnet.yaml").read_text()
    body = "\n".join(line for line in spec_text.splitlines() if not line.startswith("#"))
    assert example.strip() in body


def test_readme_python_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's Python API session (```pycon blocks) runs as written, with its output."""
    import doctest

    monkeypatch.chdir(ROOT)
    blocks = re.findall(r"```pycon\n(.*?)```", README.read_text(), re.S)
    assert blocks
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for i, block in enumerate(blocks):
        runner.run(parser.get_doctest(block, {}, f"README.md pycon block {i + 1}", None, 0))
    assert runner.summarize(verbose=False).failed == 0
