"""Tiny specs that would cost without bound to expand: each is refused with one located line,
or answered, within tests/bounds.py's CPU time and memory (issue 10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bounds import assert_refused, run_bounded
from cnncalc.expand import MAX_NAME_CHARS, MAX_VALUE_ITEMS
from cnncalc.expr import MAX_TEXT_CHARS
from cnncalc.graph import DEFAULT_MAX_LAYERS

BUDGET = f"expands to more than {DEFAULT_MAX_LAYERS:,} layers and block instances"


def _nested(name: str, levels: int, args: str, first: list[str], use: str) -> list[str]:
    """Blocks name0 .. name{levels}: name0's layers are `first`, each later one uses the one
    before through `use` (formatted with {prev})."""
    lines = ["blocks:", f"  {name}0:", f"    args: {args}", "    layers:", *first]
    for k in range(1, levels + 1):
        lines += [f"  {name}{k}:", f"    args: {args}", "    layers:"]
        lines += [line.format(prev=f"{name}{k - 1}") for line in use.splitlines()]
    return lines


# These specs are large on purpose, past the 50,000 default: what they test is that the work
# grows linearly (no quadratic path), whatever limit the user raises it to.
BIG_LIMIT = "200000"


def _write(tmp_path: Path, lines: list[str]) -> str:
    path = tmp_path / "hostile.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _line_of(path: str, text: str) -> int:
    """The 1-based line of the first line of the file holding `text`."""
    return next(i for i, line in enumerate(Path(path).read_text().splitlines(), 1) if text in line)


def test_string_doubled_through_blocks(tmp_path: Path) -> None:
    """ "${s}${s}" through 40 blocks is 2^40 characters: refused at the first string too long."""
    lines = [
        "input: [4]",
        *_nested(
            "s",
            40,
            "{s: x}",
            ["      - relu: {}", '        name: "${s}"'],
            '      - {prev}: {{s: "${{s}}${{s}}"}}',
        ),
        "layers:",
        "  - s40: {s: a}",
    ]
    path = _write(tmp_path, lines)
    run = run_bounded("summarize", path)
    assert_refused(run, f"longer than {MAX_TEXT_CHARS:,} characters once its placeholders")
    assert run.stderr.startswith(f"{path}:{_line_of(path, '- s26:')}:"), run.describe()


def test_list_doubled_through_blocks(tmp_path: Path) -> None:
    """A list argument doubled through 40 blocks, with a repeat that depends on the arguments
    (so the count keys its memo on them): refused past MAX_VALUE_ITEMS, and the memo keys
    never grow with the value."""
    lines = [
        "input: [4]",
        *_nested(
            "l",
            40,
            "{s: [1], n: 1}",
            ["      - relu: {}", '        repeat: "${n}"'],
            '      - {prev}: {{s: ["${{s}}", "${{s}}"]}}',
        ),
        "layers:",
        "  - l40: {s: [1]}",
    ]
    run = run_bounded("summarize", _write(tmp_path, lines))
    assert_refused(run, f"argument 's' holds more than {MAX_VALUE_ITEMS:,} values")


def test_list_doubled_within_the_limit_is_answered(tmp_path: Path) -> None:
    """Doubled 19 times the list holds 2^20 - 1 values: under the limit at every level but
    the last, and 2^19 instances are counted in closed form, never visited one by one."""
    lines = [
        "input: [4]",
        *_nested(
            "l",
            18,
            "{s: [1], n: 1}",
            ["      - relu: {}", '        repeat: "${n}"'],
            '      - {prev}: {{s: ["${{s}}", "${{s}}"]}}',
        ),
        "layers:",
        "  - l18: {s: [1]}",
    ]
    run = run_bounded("summarize", "-f", "json", _write(tmp_path, lines))
    assert run.exit_code == 0, run.describe()


def test_empty_blocks_nested_63_deep(tmp_path: Path) -> None:
    """Blocks of no layers, each using the one before twice: 2^63 instances visited although
    none makes a layer. Every instance is counted."""
    lines = [
        "input: [4]",
        *_nested(
            "z",
            63,
            "{}",
            ["      - relu: {}", "        repeat: 0"],
            "      - {prev}\n      - {prev}",
        ),
        "layers:",
        "  - z63",
        "  - relu",
    ]
    run = run_bounded("summarize", _write(tmp_path, lines))
    assert_refused(run, BUDGET, "--max-layers N")


def test_huge_repeat_of_an_empty_block(tmp_path: Path) -> None:
    """`repeat: 90000000` of a block of no layers: ninety million instances, refused at once."""
    lines = [
        "input: [4]",
        "blocks:",
        "  z:",
        "    layers:",
        "      - relu: {}",
        "        repeat: 0",
        "layers:",
        "  - z: {}",
        "    repeat: 90000000",
    ]
    path = _write(tmp_path, lines)
    run = run_bounded("summarize", path)
    assert_refused(run, BUDGET)
    assert run.stderr.startswith(f"{path}:9:13:"), run.describe()


@pytest.mark.slow
def test_distinct_arguments_defeat_the_memo(tmp_path: Path) -> None:
    """Every instance with its own arguments (and a repeat that depends on them): the count
    cannot share work between them, and stops at the limit."""
    lines = [
        "input: [4]",
        *_nested(
            "b",
            40,
            "{n: 0}",
            ["      - relu: {}", '        repeat: "${n % 2}"'],
            '      - {prev}: {{n: "${{n * 2 % 1000003}}"}}\n'
            '      - {prev}: {{n: "${{n * 2 % 1000003 + 1}}"}}',
        ),
        "layers:",
        "  - b40: {n: 1}",
    ]
    run = run_bounded("summarize", _write(tmp_path, lines))
    assert_refused(run, BUDGET)


@pytest.mark.slow
def test_big_default_argument_is_not_copied_per_instance(tmp_path: Path) -> None:
    """A 400,000-item default argument, and 2,000 instances of its block."""
    items = ", ".join(["1"] * 400_000)
    lines = [
        "input: [4]",
        "blocks:",
        "  b:",
        f"    args: {{s: [{items}]}}",
        "    layers: [relu]",
        "layers:",
        "  - b: {}",
        "    repeat: 2000",
    ]
    run = run_bounded("summarize", "-f", "json", _write(tmp_path, lines))
    assert run.exit_code == 0, run.describe()


@pytest.mark.slow
def test_big_written_argument_is_read_once(tmp_path: Path) -> None:
    """A layer argument of 200,000 items written once and repeated 5,000 times: made plain
    once and parsed once, not per layer."""
    items = ", ".join(["1"] * 200_000)
    lines = [
        "input: [4]",
        "blocks:",
        "  b:",
        "    layers:",
        "      - relu: {}",
        "      - reshape: {shape: [" + items + "]}",
        "        repeat: 0",
        "layers:",
        "  - b: {}",
        "    repeat: 5000",
    ]
    run = run_bounded("summarize", "-f", "json", _write(tmp_path, lines))
    assert run.exit_code == 0, run.describe()


@pytest.mark.slow
def test_the_default_limit_is_answered(tmp_path: Path) -> None:
    """A spec right at the default limit answers within the test bound (10 CPU s, 1 GiB)."""
    path = _write(
        tmp_path,
        ["input: [3, 32, 32]", "layers:", "  - relu:", f"    repeat: {DEFAULT_MAX_LAYERS}"],
    )
    run = run_bounded("summarize", "-f", "json", path)
    assert run.exit_code == 0, run.describe()
    over = _write(
        tmp_path,
        ["input: [3, 32, 32]", "layers:", "  - relu:", f"    repeat: {DEFAULT_MAX_LAYERS + 1}"],
    )
    assert_refused(run_bounded("summarize", over), BUDGET, "--max-layers N")


def test_qualified_names_are_bounded(tmp_path: Path) -> None:
    """Long instance names nested 63 deep would make every layer's full name kilobytes."""
    lines = [
        "input: [4]",
        *_nested(
            "n", 63, "{}", ["      - relu"], "      - {prev}: {{}}\n        name: " + "x" * 100
        ),
        "layers:",
        "  - n63",
    ]
    run = run_bounded("summarize", _write(tmp_path, lines))
    assert_refused(run, f"is longer than {MAX_NAME_CHARS:,} characters")


def test_long_from_is_refused(tmp_path: Path) -> None:
    """A 5,000-character name in `from` (under the 10,000 any value may have), in a block
    repeated 1,000 times, would be megabytes of names: refused at the name's own limit."""
    lines = [
        "input: [4]",
        "blocks:",
        "  b:",
        "    layers:",
        "      - relu: {}",
        "        from: " + "y" * 5_000,
        "layers:",
        "  - b: {}",
        "    repeat: 1000",
    ]
    run = run_bounded("summarize", _write(tmp_path, lines))
    assert_refused(run, f"longer than the {MAX_NAME_CHARS:,} characters")


@pytest.mark.slow
def test_cycle_through_many_layers(tmp_path: Path) -> None:
    """A cycle through 60,000 layers: found in linear time, and named in a short message."""
    n = 60_000
    lines = ["input: [4]", "layers:"]
    for i in range(n):
        lines += ["  - relu: {}", f"    name: a{i}", f"    from: a{(i + 1) % n}"]
    run = run_bounded("summarize", "--max-layers", BIG_LIMIT, _write(tmp_path, lines))
    assert_refused(run, "form a cycle (a0 ← a1", "59,993 more")
    assert len(run.stderr) < 500, run.describe()


@pytest.mark.slow
def test_alias_chain_read_many_times(tmp_path: Path) -> None:
    """20,000 `repeat: 0` aliases, each naming the one before, and 20,000 layers reading the
    last: each alias is followed once, not once per reader (57 CPU s before)."""
    n = 20_000
    lines = ["input: [4]", "layers:", "  - relu: {}", "    name: z0"]
    for i in range(1, n):
        lines += ["  - relu: {}", f"    name: z{i}", f"    from: z{i - 1}", "    repeat: 0"]
    for i in range(n):
        lines += ["  - relu: {}", f"    name: q{i}", f"    from: z{n - 1}"]
    lines += ["  - add: {}", "    from: [" + ", ".join(f"q{i}" for i in range(n)) + "]"]
    run = run_bounded("summarize", "--max-layers", BIG_LIMIT, "-f", "json", _write(tmp_path, lines))
    assert run.exit_code == 0, run.describe()


def test_one_error_type_for_the_budget() -> None:
    """The budget is refused with BudgetError, a SpecError, in one message."""
    from cnncalc.errors import BudgetError, SpecError
    from cnncalc.graph import build
    from cnncalc.spec import from_text

    for text in (
        "input: [4]\nlayers:\n  - relu:\n    repeat: 11\n",
        "input: [4]\nlayers: [relu, relu, relu, relu, relu, relu, relu, relu, relu, relu, relu]\n",
        "input: [4]\nblocks:\n  b:\n    layers: [relu, relu]\nlayers:\n  - b:\n    repeat: 4\n",
    ):
        with pytest.raises(BudgetError) as info:
            build(from_text(text, "x.yaml"), max_layers=10)
        assert isinstance(info.value, SpecError)
        assert info.value.message == (
            "the spec expands to more than 10 layers and block instances"
            " (inputs past a layer's first count too; raise the limit with --max-layers N)"
        )


def test_inputs_count_in_the_budget(tmp_path: Path) -> None:
    """A layer reading 900 inputs, repeated through blocks 1,000 times, would hold 900,000
    edges of the graph from a spec of a few lines: each input counts in the budget."""
    names = ", ".join(["r"] * 900)
    lines = [
        "input: [4]",
        "blocks:",
        "  b:",
        "    layers:",
        "      - relu: {}",
        "        name: r",
        "      - add: {}",
        f"        from: [{names}]",
        "layers:",
        "  - b: {}",
        "    repeat: 1000",
    ]
    run = run_bounded("summarize", _write(tmp_path, lines))
    assert_refused(run, BUDGET, "inputs past a layer's first count too")


def test_big_value_with_placeholder_is_refused(tmp_path: Path) -> None:
    """A value with ${...} in it is worked out for every instance, so its size is bounded."""
    names = ", ".join(["r"] * 5000)
    lines = [
        "input: [4]",
        "blocks:",
        "  b:",
        "    args: {x: r}",
        "    layers:",
        "      - relu: {}",
        "        name: r",
        "      - add: {}",
        f'        from: [{names}, "${{x}}"]',
        "layers:",
        "  - b: {}",
        "    repeat: 20",
    ]
    path = _write(tmp_path, lines)
    run = run_bounded("summarize", path)
    assert_refused(run, "holds at most 100 items", "this one holds 5,002")
    assert run.stderr.startswith(f"{path}:9:15:"), run.describe()


@pytest.mark.parametrize("rank", [65, 20_000])
def test_input_rank_is_bounded(tmp_path: Path, rank: int) -> None:
    """`add` on inputs of 20,000 size-1 dimensions did per-dimension work per dimension
    (minutes); every tensor has at most MAX_RANK dimensions."""
    dims = ", ".join(["1"] * rank)
    lines = [
        f"input: [{dims}]",
        "layers:",
        "  - relu: {}",
        "    name: a",
        "  - relu: {}",
        "    from: input",
        "  - add: {}",
        "    from: [a, relu_1]",
    ]
    path = _write(tmp_path, lines)
    run = run_bounded("summarize", path)
    assert_refused(run, f"the input shape has {rank:,} dimensions; cnncalc takes at most 64")
    assert run.stderr.startswith(f"{path}:1:8:"), run.describe()


def test_command_line_input_rank_is_bounded(tmp_path: Path) -> None:
    path = _write(tmp_path, ["input: [3, 8, 8]", "layers: [relu]"])
    run = run_bounded("summarize", path, "--input", ",".join(["1"] * 5000))
    assert_refused(run, "the input shape has 5,000 dimensions; cnncalc takes at most 64")


def test_sixty_four_dimensions_are_answered(tmp_path: Path) -> None:
    dims = ", ".join(["1"] * 62 + ["2", "3"])
    path = _write(tmp_path, [f"input: [{dims}]", "layers:", "  - relu: {}", "  - flatten: {}"])
    run = run_bounded("summarize", "-f", "json", path)
    assert run.exit_code == 0, run.describe()


def test_elements_past_int64_with_thousands_of_digits(tmp_path: Path) -> None:
    """A shape whose element count has 1,200 digits: refused, and the count not written out."""
    dims = ", ".join(["9223372036854775807"] * 64)
    path = _write(tmp_path, [f"input: [{dims}]", "layers: [relu]"])
    run = run_bounded("summarize", path)
    assert_refused(run, "more elements than a PyTorch tensor can hold (9,223,372,036,854,775,807)")
    assert len(run.stderr) < 300, run.describe()


@pytest.mark.slow
def test_layer_with_many_inputs(tmp_path: Path) -> None:
    """`add` over 45,000 distinct layers: each row's inputs gathered in linear time."""
    n = 45_000
    lines = ["input: [4]", "layers:"]
    for i in range(n):
        lines += ["  - relu: {}", f"    name: r{i}", "    from: input"]
    lines += ["  - add: {}", "    from: [" + ", ".join(f"r{i}" for i in range(n)) + "]"]
    run = run_bounded("summarize", "--max-layers", BIG_LIMIT, "-f", "json", _write(tmp_path, lines))
    assert run.exit_code == 0, run.describe()
    assert '"r44999"]' in run.stdout.replace(" ", "").replace("\n", ""), run.describe()


@pytest.mark.slow
def test_did_you_mean_in_a_large_scope(tmp_path: Path) -> None:
    """A misspelt `from` among 90,000 names of 400 characters: the suggestion compares it
    with a bounded number of them, not with every one."""
    long = "a" * 400
    lines = [
        "input: [4]",
        "layers:",
        "  - relu: {}",
        f"    name: {long}",
        "    repeat: 90000",
        "  - relu: {}",
        f"    from: {long}.x",
    ]
    path = _write(tmp_path, lines)
    run = run_bounded("summarize", "--max-layers", BIG_LIMIT, path)
    assert_refused(run, "which is not a layer here; did you mean")
    assert run.stderr.startswith(f"{path}:7:11:"), run.describe()


@pytest.mark.parametrize(
    ("where", "phrase"),
    [
        ("  - *a", "longer than any layer type"),  # an unknown type, thousands of times
        ("  - conv2d: {out_channels: 1, kernel_size: 1, padding: *a}", "padding must be"),
    ],
)
def test_a_long_value_aliased_thousands_of_times_is_read_once(
    tmp_path: Path, where: str, phrase: str
) -> None:
    """An anchor holds a 9,000-character word and 40,000 entries alias it: each place used to
    read the word whole (13 s for 2,000 places of a 1 MB word), now each costs a constant."""
    head = "  - conv2d: {out_channels: 1, kernel_size: 1, padding: &a " + "a" * 9_000 + "}"
    anchor = "  - &a " + "a" * 9_000 if where.startswith("  - *") else head
    lines = ["input: [1, 4, 4]", "layers:", anchor, *[where] * 40_000]
    run = run_bounded("summarize", _write(tmp_path, lines))
    assert_refused(run, phrase)


def test_a_value_past_10000_characters_is_refused_where_it_is_written(tmp_path: Path) -> None:
    lines = ["input: [1, 4, 4]", "layers:", "  - &a " + "a" * 1_000_000, *["  - *a"] * 2_000]
    run = run_bounded("summarize", _write(tmp_path, lines))
    assert_refused(
        run, ":3:5: the value 'aaaa", "1,000,000 characters long, longer than the 10,000"
    )


@pytest.mark.slow
def test_a_long_chain_of_shared_weights_is_linear(tmp_path: Path) -> None:
    """l1 shares l0, l2 shares l1, ...: each layer is walked once (it was cubic)."""
    lines = ["input: [6]", "layers:", "  - linear: {out_features: 6}", "    name: l0"]
    for i in range(1, 40_000):
        lines += ["  - linear: {out_features: 6}", f"    name: l{i}", f"    shares: l{i - 1}"]
    path = tmp_path / "chain.yaml"
    path.write_text("\n".join(lines) + "\n")
    result = run_bounded("summarize", str(path), "--format", "json")
    assert result.exit_code == 0, result.describe()
    assert '"params": 42,' in result.stdout


def test_a_cycle_of_shared_weights_is_reported_once(tmp_path: Path) -> None:
    n = 1_000
    lines = ["input: [6]", "layers:"]
    for i in range(n):
        lines += ["  - linear: {out_features: 6}", f"    name: l{i}", f"    shares: l{(i + 1) % n}"]
    path = tmp_path / "cycle.yaml"
    path.write_text("\n".join(lines) + "\n")
    result = run_bounded("summarize", str(path))
    assert result.exit_code == 2, result.describe()
    first = result.stderr.splitlines()[0]
    assert first.endswith(
        "layer 'l0': the layers share weights in a cycle (l0 → l1 → l2 → l3 → … 993 more … →"
        " l997 → l998 → l999 → l0): one of them must own them, without 'shares'"
    )
    assert result.stderr.count("share weights in a cycle") == 1


@pytest.mark.slow
def test_export_of_a_long_chain_is_linear(tmp_path: Path) -> None:
    """45,000 layers in one list: ordering them for forward was quadratic (133+ CPU s)."""
    path = tmp_path / "relus.yaml"
    path.write_text("input: [6]\nlayers:\n" + "  - relu:\n" * 45_000)
    result = run_bounded("export", str(path), "--to", "pytorch")
    assert result.exit_code == 0, result.describe()
    assert "self.relu_45000 = nn.ReLU()" in result.stdout
