"""`cnncalc diff`: layer matching, totals, formats, and the git:REV:PATH form."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import SPECS, run, write_spec


def edited(tmp_path: Path, spec: str, *replacements: tuple[str, str]) -> str:
    text = (SPECS / f"{spec}.yaml").read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return write_spec(tmp_path, text, f"{spec}-edited.yaml")


def field(size: int, stride: int, padding: int) -> dict[str, list[int]]:
    """A square receptive field as the JSON writes it."""
    return {"size": [size] * 2, "stride": [stride] * 2, "padding": [padding] * 2}


def diff_json(old: str, new: str) -> dict:  # type: ignore[type-arg]
    result = run("diff", old, new, "-f", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_identical_specs_have_no_changes() -> None:
    data = diff_json(str(SPECS / "resnet18.yaml"), str(SPECS / "resnet18.yaml"))
    assert data["changes"] == []
    assert data["totals"]["params"] == {
        "old": 11_689_512,
        "new": 11_689_512,
        "change": 0,
        "percent": 0.0,
    }


def test_a_changed_layer_shows_old_and_new(tmp_path: Path) -> None:
    new = edited(tmp_path, "resnet50", ("out_features: 1000", "out_features: 10"))
    data = diff_json(str(SPECS / "resnet50.yaml"), new)
    assert data["changes"] == [
        {
            "status": "changed",
            # linear 2048 → 1000 becomes 2048 → 10: weights 2048·out, a bias per output,
            # MACs 2048·out, FLOPs 2 per MAC + one bias add per output
            "old": {
                "name": "fc",
                "type": "linear",
                "output_shape": [1000],
                "params": 2_049_000,
                "weights": 2_048_000,
                "biases": 1000,
                "macs": 2_048_000,
                "flops": 2 * 2_048_000 + 1000,
                "receptive_field": {"global": True},
            },
            "new": {
                "name": "fc",
                "type": "linear",
                "output_shape": [10],
                "params": 20_490,
                "weights": 20_480,
                "biases": 10,
                "macs": 20_480,
                "flops": 2 * 20_480 + 10,
                "receptive_field": {"global": True},
            },
            "arguments": {"out_features": {"old": 1000, "new": 10}},
            "macs": {"old": 2_048_000, "new": 20_480},
            "flops": {"old": 4_097_000, "new": 40_970},
        }
    ]
    assert data["totals"]["params"]["change"] == 20_490 - 2_049_000
    assert data["totals"]["params"]["percent"] == round(100 * (20_490 - 2_049_000) / 25_557_032, 4)
    assert data["output_shape"] == {"old": [1000], "new": [10]}


def test_removed_block_is_listed_where_it_stood(tmp_path: Path) -> None:
    new = edited(tmp_path, "resnet50", ("planes: 512, blocks: 3", "planes: 512, blocks: 2"))
    data = diff_json(str(SPECS / "resnet50.yaml"), new)
    removed = [c["old"]["name"] for c in data["changes"] if c["status"] == "removed"]
    assert removed == [
        f"layer4.bottleneck_2.{n}"
        for n in (
            "conv1",
            "bn1",
            "relu_1",
            "conv2",
            "bn2",
            "relu_2",
            "conv3",
            "bn3",
            "add_1",
            "relu_3",
        )
    ]
    assert all(c["status"] == "removed" for c in data["changes"])
    assert data["totals"]["layers"] == {
        "old": 175,
        "new": 165,
        "change": -10,
        "percent": round(-1000 / 175, 4),
    }
    removed_params = 512 * 2048 + 2 * 512 + 512 * 512 * 9 + 2 * 512 + 2048 * 512 + 2 * 2048
    assert data["totals"]["params"]["change"] == -removed_params


def test_unnamed_layers_are_matched_by_position(tmp_path: Path) -> None:
    old = write_spec(
        tmp_path,
        "input: [8]\nlayers:\n  - linear: {out_features: 8}\n  - relu\n"
        "  - linear: {out_features: 4}\n",
        "old.yaml",
    )
    new = write_spec(
        tmp_path,
        "input: [8]\nlayers:\n  - linear: {out_features: 8}\n"
        "  - dropout: {p: 0.1}\n  - relu\n  - linear: {out_features: 2}\n",
        "new.yaml",
    )
    data = diff_json(old, new)
    assert [
        (c["status"], (c["old"] or {}).get("name"), (c["new"] or {}).get("name"))
        for c in data["changes"]
    ] == [
        ("added", None, "dropout_1"),
        ("changed", "linear_2", "linear_2"),
    ]
    assert data["unchanged_layers"] == 2


SMALL = """\
input: [3, 32, 32]
layers:
  - conv2d: {out_channels: 8, kernel_size: 3, padding: 1}
    name: c1
  - conv2d: {out_channels: 8, kernel_size: 3, padding: 1}
    name: c2
  - dropout: {p: 0.1}
  - add:
    from: [c2, c1]
"""


def test_changes_that_keep_shapes_and_parameters_are_reported(tmp_path: Path) -> None:
    """A dilation, a dropout rate, a rewired merge and a frozen layer change the network
    though no shape or count moves; each is a changed layer, saying what changed."""
    old = write_spec(tmp_path, SMALL, "old.yaml")
    new = write_spec(
        tmp_path,
        SMALL.replace("padding: 1}\n    name: c1", "padding: 2, dilation: 2}\n    name: c1")
        .replace("name: c2", "name: c2\n    trainable: false")
        .replace("p: 0.1", "p: 0.5")
        .replace("[c2, c1]", "[dropout_1, c1]"),
        "new.yaml",
    )
    data = diff_json(old, new)
    # c1's dilation 2 makes its 3×3 window span 5 (padding 2); c2 adds 2 to that, and the
    # add sees the larger of its inputs' fields: 5 → 7 from c2 on
    c1_field = {"old": field(3, 1, 1), "new": field(5, 1, 2)}
    field_after = {"receptive_field": {"old": field(5, 1, 2), "new": field(7, 1, 3)}}
    assert [{k: v for k, v in c.items() if k not in ("old", "new")} for c in data["changes"]] == [
        {
            "status": "changed",
            "arguments": {
                "padding": {"old": [1, 1], "new": [2, 2]},
                "dilation": {"old": [1, 1], "new": [2, 2]},
            },
            "receptive_field": c1_field,
        },
        {"status": "changed", "trainable": {"old": True, "new": False}, **field_after},
        {"status": "changed", "arguments": {"p": {"old": 0.1, "new": 0.5}}, **field_after},
        {
            "status": "changed",
            "inputs": {"old": ["c2", "c1"], "new": ["dropout_1", "c1"]},
            **field_after,
        },
    ]
    assert data["unchanged_layers"] == 0
    table = run("diff", old, new).stdout
    for text in (
        "padding 1 → 2; dilation 1 → 2; RF 3 → 5, RF padding 1 → 2",
        "frozen; RF 5 → 7, RF padding 2 → 3",
        "p 0.1 → 0.5",
        "from c2, c1 → dropout_1, c1",
    ):
        assert text in table


def test_inputs_renamed_with_their_layers_are_not_a_change(tmp_path: Path) -> None:
    """An inserted layer renumbers the auto-named ones after it; a layer still reading its
    partner's partner is unchanged."""
    old = write_spec(
        tmp_path,
        "input: [8]\nlayers:\n  - relu\n  - linear: {out_features: 4}\n  - relu\n",
        "old.yaml",
    )
    new = write_spec(
        tmp_path,
        "input: [8]\nlayers:\n  - relu\n  - relu\n  - linear: {out_features: 4}\n  - relu\n",
        "new.yaml",
    )
    data = diff_json(old, new)
    assert [(c["status"], c["new"]["name"]) for c in data["changes"]] == [("added", "relu_2")]
    assert data["unchanged_layers"] == 3


def test_layers_of_different_types_are_never_paired(tmp_path: Path) -> None:
    """An edit that replaces layers pairs those of the same type (changed) and lists the
    others as removed and added, never a relu 'changed' into a convolution."""
    old = write_spec(
        tmp_path,
        "input: [1, 28, 28]\nlayers:\n  - conv2d: {out_channels: 6,"
        " kernel_size: 5}\n  - relu\n  - flatten\n",
        "old.yaml",
    )
    new = write_spec(
        tmp_path,
        "input: [1, 28, 28]\nlayers:\n  - conv2d: {out_channels: 8,"
        " kernel_size: 3}\n    name: a\n  - conv2d: {out_channels: 8,"
        " kernel_size: 3}\n  - flatten\n",
        "new.yaml",
    )
    data = diff_json(old, new)
    pairs = [
        (c["status"], (c["old"] or {}).get("type"), (c["new"] or {}).get("type"))
        for c in data["changes"]
    ]
    assert all(o is None or n is None or o == n for _, o, n in pairs), pairs
    assert ("removed", "relu", None) in pairs
    assert sum(s == "changed" for s, _, _ in pairs) == 2  # conv2d_1 → a, and flatten_1


def test_writing_out_an_inferred_size_is_no_change(tmp_path: Path) -> None:
    """in_channels written where it was inferred: the layer is the same layer."""
    old = write_spec(tmp_path, SMALL, "old.yaml")
    new = write_spec(
        tmp_path,
        SMALL.replace(
            "{out_channels: 8, kernel_size: 3, padding: 1}\n    name: c1",
            "{out_channels: 8, kernel_size: 3, padding: 1, in_channels: 3}\n    name: c1",
        ),
        "new.yaml",
    )
    data = diff_json(old, new)
    assert data["changes"] == [] and data["unchanged_layers"] == 4


def test_a_named_layer_whose_type_changed_is_one_change(tmp_path: Path) -> None:
    """A name says which layer it is, whatever its type now: one changed row, both types."""
    old = write_spec(
        tmp_path,
        "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 3,"
        " kernel_size: 3, padding: 1}\n    name: head\n",
        "old.yaml",
    )
    new = write_spec(
        tmp_path,
        "input: [3, 8, 8]\nlayers:\n  - maxpool2d: {kernel_size: 3,"
        " stride: 1, padding: 1}\n    name: head\n",
        "new.yaml",
    )
    data = diff_json(old, new)
    assert [(c["status"], c["old"]["type"], c["new"]["type"]) for c in data["changes"]] == [
        ("changed", "conv2d", "maxpool2d")
    ]
    assert "arguments" not in data["changes"][0]  # different types: no argument to compare
    assert "conv2d → maxpool2d" in run("diff", old, new).stdout


def test_the_headline_names_a_changed_input(tmp_path: Path) -> None:
    new = edited(tmp_path, "lenet5", ("input: [1, 32, 32]", "input: [1, 36, 36]"))
    result = run("diff", str(SPECS / "lenet5.yaml"), new)
    assert "; input 1×32×32 → 1×36×36" in result.stdout.splitlines()[0]
    data = diff_json(str(SPECS / "lenet5.yaml"), new)
    assert data["input_shape"] == {"old": [1, 32, 32], "new": [1, 36, 36]}


def test_compute_and_memory_totals_change(tmp_path: Path) -> None:
    """MACs, FLOPs and memory are totals of the diff too, hand-computed here: a linear 8 → 4
    becomes 8 → 2."""
    old = write_spec(tmp_path, "input: [8]\nlayers:\n  - linear: {out_features: 4}\n", "old.yaml")
    new = write_spec(tmp_path, "input: [8]\nlayers:\n  - linear: {out_features: 2}\n", "new.yaml")
    totals = diff_json(old, new)["totals"]
    assert totals["macs"] == {"old": 32, "new": 16, "change": -16, "percent": -50.0}
    # FLOPs: 2 per MAC plus one bias add per output
    assert (totals["flops"]["old"], totals["flops"]["new"]) == (2 * 32 + 4, 2 * 16 + 2)
    # training, float32 + Adam: params, grads, two moments (4 × 4 bytes each) + the input
    # the linear keeps for backward; inference: params + the input and output alive together
    assert totals["training_memory_bytes"]["old"] == 16 * 36 + 4 * 8
    assert totals["inference_memory_bytes"]["new"] == 4 * 18 + 4 * (8 + 2)


def test_one_inserted_layer_in_a_long_chain_is_one_row(tmp_path: Path) -> None:
    """Auto-named layers are renumbered by an insertion; the alignment (by type and
    arguments) still finds the one added layer among 2,000 alike, and quickly."""
    conv = "  - conv2d: {out_channels: 4, kernel_size: 3, padding: 1}\n  - relu\n"
    head = "input: [4, 8, 8]\nlayers:\n"
    old = write_spec(tmp_path, head + conv * 1000, "old.yaml")
    new = write_spec(
        tmp_path,
        head + conv * 400 + "  - conv2d: {out_channels: 4, kernel_size: 1}\n" + conv * 600,
        "new.yaml",
    )
    data = diff_json(old, new)
    assert [(c["status"], c["new"]["name"]) for c in data["changes"]] == [("added", "conv2d_401")]
    assert data["unchanged_layers"] == 2000
    assert run("diff", old, new).stdout.startswith(
        f"{old} → {new}: 1 layer differs, 2,000 unchanged"
    )


def test_renamed_layer_is_a_change(tmp_path: Path) -> None:
    new = edited(tmp_path, "vgg16", ("name: pool5", "name: last_pool"))
    data = diff_json(str(SPECS / "vgg16.yaml"), new)
    assert [(c["status"], c["old"]["name"], c["new"]["name"]) for c in data["changes"]] == [
        ("changed", "pool5", "last_pool")
    ]


def test_markdown_is_a_pull_request_comment(tmp_path: Path) -> None:
    new = edited(tmp_path, "resnet50", ("out_features: 1000", "out_features: 10"))
    out = run("diff", str(SPECS / "resnet50.yaml"), new, "-f", "markdown").stdout
    lines = out.splitlines()
    assert (
        lines[0] == f"**{SPECS / 'resnet50.yaml'} → {new}: 1 layer differs, 174 unchanged;"
        " output 1000 → 10**"
    )
    assert (
        "| changed | `fc` | linear | 1000 | 10 | 2,049,000 | 20,490 | out_features 1000 → 10;"
        " MACs 2.05M → 20.5K |" in lines
    )
    assert "| Parameters | 25,557,032 | 23,528,522 | −2,028,510 | −7.94% |" in lines


def test_table_format(tmp_path: Path) -> None:
    new = edited(tmp_path, "lenet5", ("out_features: 84", "out_features: 42"))
    out = run("diff", str(SPECS / "lenet5.yaml"), new).stdout
    assert "changed" in out and "f6" in out and "10,164" in out and "5,082" in out
    assert "params" in out and "−5,502" in out


def test_invalid_side_exits_2(tmp_path: Path) -> None:
    bad = write_spec(tmp_path, "input: [3]\nlayers: [conv2d]\n")
    result = run("diff", str(SPECS / "lenet5.yaml"), bad)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{bad}:2:10: layer 'conv2d_1'")


CHAIN = """\
input: [1, 32, 32]
layers:
  - conv2d: {out_channels: 4, kernel_size: 3, stride: 2, padding: 1}
    name: c1
  - conv2d: {out_channels: 4, kernel_size: 3, padding: 1}
    name: c2
  - conv2d: {out_channels: 4, kernel_size: 3, padding: 1}
    name: c3
"""


def test_dilation_moves_the_receptive_field_of_its_layer_and_those_after(
    tmp_path: Path,
) -> None:
    """Three 3×3 convs, the first with stride 2. By hand (size, stride, padding):
    c1 (3, 2, 1); c2 adds (3−1)·2 = 4 → (7, 2, 3); c3 adds 4 → (11, 2, 5). Dilation 2 on c2
    widens its window to 5, so c2 adds (5−1)·2 = 8 to c1's 3 → (11, 2, 5), and c3 → (15, 2, 7).
    c1, before the change, is unchanged; c3, written as before, is listed as moved by an
    upstream change."""
    old = write_spec(tmp_path, CHAIN, "old.yaml")
    new = write_spec(
        tmp_path,
        CHAIN.replace("padding: 1}\n    name: c2", "padding: 2, dilation: 2}\n    name: c2"),
        "new.yaml",
    )
    data = diff_json(old, new)
    assert data["unchanged_layers"] == 1
    assert [(c["new"]["name"], c["receptive_field"]) for c in data["changes"]] == [
        ("c2", {"old": field(7, 2, 3), "new": field(11, 2, 5)}),
        ("c3", {"old": field(11, 2, 5), "new": field(15, 2, 7)}),
    ]
    assert ["upstream" in c for c in data["changes"]] == [False, True]
    assert all("macs" not in c for c in data["changes"])  # the same 4×16×16 outputs
    assert data["changes"][1]["new"]["receptive_field"] == field(15, 2, 7)
    lines = run("diff", old, new).stdout.splitlines()
    assert lines[0] == (
        f"{old} → {new}: 2 layers differ (1 only through an upstream change), 1 unchanged"
    )
    assert lines[3].split(None, 7)[7] == (
        "padding 1 → 2; dilation 1 → 2; RF 7 → 11, RF padding 3 → 5"
    )
    assert lines[4].split(None, 7)[7] == "(upstream) RF 11 → 15, RF padding 5 → 7"
    md = run("diff", old, new, "-f", "markdown").stdout
    assert "| (upstream) RF 11 → 15, RF padding 5 → 7 |" in md


def test_a_wider_layer_moves_the_macs_after_it_but_not_their_fields(tmp_path: Path) -> None:
    """c2 with 8 filters instead of 4: its MACs double (8·16·16 outputs · 4·3·3 taps: 36,864
    → 73,728), and so do c3's, which reads 8 channels (4·16·16 · 8·3·3 = 73,728), though c3
    is written as before. No field moves; c1 is unchanged."""
    old = write_spec(tmp_path, CHAIN, "old.yaml")
    new = write_spec(
        tmp_path,
        CHAIN.replace(
            "out_channels: 4, kernel_size: 3, padding: 1}\n    name: c2",
            "out_channels: 8, kernel_size: 3, padding: 1}\n    name: c2",
        ),
        "new.yaml",
    )
    data = diff_json(old, new)
    assert data["unchanged_layers"] == 1
    changes = {c["new"]["name"]: c for c in data["changes"]}
    assert list(changes) == ["c2", "c3"]
    for c in changes.values():
        assert c["macs"] == {"old": 36_864, "new": 73_728}
        assert "receptive_field" not in c
    # FLOPs: 2 per MAC + a bias add per output (c2: 8·16·16 of them, c3: 4·16·16)
    assert changes["c2"]["flops"] == {"old": 2 * 36_864 + 1024, "new": 2 * 73_728 + 2048}
    assert changes["c3"]["flops"] == {"old": 2 * 36_864 + 1024, "new": 2 * 73_728 + 1024}
    assert changes["c3"]["upstream"] is True
    assert changes["c3"]["new"]["weights"] == 8 * 9 * 4 and changes["c3"]["new"]["biases"] == 4
    table = run("diff", old, new).stdout
    assert "out_channels 4 → 8; MACs 36.9K → 73.7K" in table
    assert "(upstream) MACs 36.9K → 73.7K" in table


def test_a_change_after_a_layer_leaves_it_unchanged(tmp_path: Path) -> None:
    """Dilation on the last conv: c1 and c2, before it, report no field or MAC change. c3's
    window spans 5 instead of 3 at c2's jump of 2: 7 + (5−1)·2 = 15, padding 3 + 2·2 = 7."""
    old = write_spec(tmp_path, CHAIN, "old.yaml")
    new = write_spec(
        tmp_path,
        CHAIN.replace("padding: 1}\n    name: c3", "padding: 2, dilation: 2}\n    name: c3"),
        "new.yaml",
    )
    data = diff_json(old, new)
    assert data["unchanged_layers"] == 2
    assert [(c["new"]["name"], c["receptive_field"]) for c in data["changes"]] == [
        ("c3", {"old": field(11, 2, 5), "new": field(15, 2, 7)})
    ]
    assert "upstream" not in data["changes"][0]


def test_argument_sizes_have_separators(tmp_path: Path) -> None:
    """A size of five digits or more reads as the counts beside it do: 750,000."""
    old = write_spec(tmp_path, "input: [8]\nlayers:\n  - linear: {out_features: 9999}\n", "a.yaml")
    new = write_spec(tmp_path, "input: [8]\nlayers:\n  - linear: {out_features: 12000}\n", "b.yaml")
    out = run("diff", old, new).stdout
    assert "out_features 9999 → 12,000; MACs 80K → 96K" in out
    assert "9999        12,000" in out  # the shapes: 9999, then 12,000


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    (tmp_path / "specs").mkdir()
    model = tmp_path / "specs" / "model.yaml"
    model.write_text((SPECS / "lenet5.yaml").read_text())
    git("add", ".")
    git("commit", "-q", "-m", "first")
    model.write_text(model.read_text().replace("out_features: 10", "out_features: 5"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_git_revision_against_the_working_tree(repo: Path) -> None:
    data = diff_json("git:main:specs/model.yaml", "specs/model.yaml")
    assert data["old"] == "git:main:specs/model.yaml"
    assert [c["new"]["params"] for c in data["changes"]] == [84 * 5 + 5]
    assert data["totals"]["params"]["change"] == -5 * 85


def test_git_paths_start_at_the_top_unless_dot_relative(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the README says: git:REV:PATH is git show's path, from the repository's top wherever
    the command runs; ./PATH is from the current directory."""
    monkeypatch.chdir(repo / "specs")
    top = diff_json("git:main:specs/model.yaml", "model.yaml")
    here = diff_json("git:main:./model.yaml", "model.yaml")
    assert top["totals"] == here["totals"]
    assert top["totals"]["params"]["change"] == -5 * 85
    assert run("diff", "git:main:model.yaml", "model.yaml").exit_code == 2


def test_git_errors_are_located(repo: Path) -> None:
    result = run("diff", "git:nope:specs/model.yaml", "specs/model.yaml")
    assert result.exit_code == 2
    assert result.stderr == ("git:nope:specs/model.yaml:1:1: git has no revision 'nope' here\n")
    result = run("diff", "git:main", "specs/model.yaml")
    assert result.stderr == (
        "git:main:1:1: write a git version as git:REV:PATH, e.g. git:main:specs/model.yaml\n"
    )


def test_git_errors_in_a_spec_point_into_the_revision(repo: Path) -> None:
    subprocess.run(["git", "rm", "-q", "--cached", "specs/model.yaml"], check=True)
    (repo / "specs" / "model.yaml").write_text("input: [3]\nlayers: [conv2d]\n")
    subprocess.run(["git", "add", "."], check=True)
    subprocess.run(["git", "commit", "-q", "-m", "broken"], check=True)
    result = run("summarize", "git:HEAD:specs/model.yaml")
    assert result.exit_code == 2
    assert result.stderr.startswith("git:HEAD:specs/model.yaml:2:10: layer 'conv2d_1'")
