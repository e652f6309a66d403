"""Spec → graph: names, `from`, blocks, repeat, trainable, layout, and topological order."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cnncalc.analysis import summarize
from cnncalc.errors import SpecError
from cnncalc.graph import Graph, build
from cnncalc.spec import from_text
from conftest import run, write_spec


def graph(text: str, **kwargs: object) -> Graph:
    return build(from_text(textwrap.dedent(text), "net.yaml"), **kwargs)  # type: ignore[arg-type]


def error(text: str) -> str:
    with pytest.raises(SpecError) as err:
        graph(text)
    return str(err.value)


def names(g: Graph) -> list[str]:
    return [layer.name for layer in g.layers]


def test_auto_names_count_per_type_and_skip_given_names() -> None:
    g = graph("""
        input: [3, 8, 8]
        layers:
          - conv2d: {out_channels: 4, kernel_size: 1}
          - relu
          - conv2d: {out_channels: 4, kernel_size: 1}
            name: conv2d_2
          - conv2d: {out_channels: 4, kernel_size: 1}
          - relu
        """)
    assert names(g) == ["conv2d_1", "relu_1", "conv2d_2", "conv2d_3", "relu_2"]


def test_block_instances_qualify_names_and_their_name_means_their_output() -> None:
    g = graph("""
        input: [4, 8, 8]
        blocks:
          unit:
            args: {c: null}
            layers:
              - conv2d: {out_channels: "${c}", kernel_size: 3, padding: 1}
                name: conv
              - relu
        layers:
          - unit: {c: 6}
            name: a
          - unit: {c: 8}
          - concat:
            from: [a, unit_1]
        """)
    assert names(g) == ["a.conv", "a.relu_1", "unit_1.conv", "unit_1.relu_1", "concat_1"]
    assert g.by_name["concat_1"].inputs == ("a.relu_1", "unit_1.relu_1")
    assert g.output_shape == (14, 8, 8)


def test_named_repeat_numbers_copies_like_sequential() -> None:
    g = graph("""
        input: [16]
        layers:
          - linear: {out_features: 16}
            name: fc
            repeat: 3
          - relu:
            from: fc
        """)
    assert names(g) == ["fc.0", "fc.1", "fc.2", "relu_1"]
    assert g.by_name["fc.1"].inputs == ("fc.0",)
    assert g.by_name["relu_1"].inputs == ("fc.2",)


def test_repeat_zero_passes_the_input_through() -> None:
    g = graph("""
        input: [16]
        layers:
          - linear: {out_features: 8}
          - relu:
            name: skipped
            repeat: 0
          - linear: {out_features: 4}
            from: skipped
        """)
    assert names(g) == ["linear_1", "linear_2"]
    assert g.by_name["linear_2"].inputs == ("linear_1",)


def test_repeat_and_names_are_evaluated_inside_blocks() -> None:
    g = graph("""
        input: [8]
        blocks:
          mlp:
            args: {depth: 2, width: 8}
            layers:
              - linear: {out_features: "${width}"}
                name: "hidden${depth}"
                repeat: "${depth - 1}"
        layers:
          - mlp: {depth: 3}
        """)
    assert names(g) == ["mlp_1.hidden3.0", "mlp_1.hidden3.1"]


def test_from_may_name_a_later_entry_and_order_follows_the_data() -> None:
    g = graph("""
        input: [3, 8, 8]
        layers:
          - add:
            from: [left, right]
          - conv2d: {out_channels: 2, kernel_size: 1}
            name: left
            from: input
          - conv2d: {out_channels: 2, kernel_size: 1}
            name: right
            from: input
        """)
    assert names(g) == ["left", "right", "add_1"]
    # The output is the last entry's, whatever the order of computation.
    assert g.output == "right"


def test_layers_inside_an_instance_are_reachable_by_qualified_name() -> None:
    g = graph(
        """
        input: [3, 8, 8]
        blocks:
          down:
            layers:
              - conv2d: {out_channels: 4, kernel_size: 3, padding: 1}
                name: conv
              - maxpool2d: {kernel_size: 2}
        layers:
          - down
            name: d1
          - upsample: {scale_factor: 2}
          - concat:
            from: [upsample_1, d1.conv]
        """.replace("- down\n", "- down:\n")
    )
    assert g.output_shape == (8, 8, 8)


def test_trainable_false_freezes_a_whole_instance() -> None:
    g = graph("""
        input: [3, 8, 8]
        blocks:
          cbr:
            layers:
              - conv2d: {out_channels: 4, kernel_size: 3, bias: false}
              - batchnorm2d
        layers:
          - cbr:
            trainable: false
          - flatten
          - linear: {out_features: 2}
        """)
    totals = summarize(g).totals
    frozen = 3 * 4 * 9 + 2 * 4
    assert totals.frozen_params == frozen
    assert totals.trainable_params == 4 * 6 * 6 * 2 + 2
    assert totals.buffers == 8
    assert totals.non_trainable_params == frozen + 8


def test_channels_last_layout_reads_and_prints_channels_last() -> None:
    g = graph("""
        input: {shape: [500, 500, 3], layout: channels_last}
        layers:
          - conv2d: {out_channels: 10, kernel_size: 5}
        """)
    assert g.input_shape == (3, 500, 500)
    s = summarize(g)
    assert s.input_shape == (500, 500, 3)
    assert s.output_shape == (496, 496, 10)
    assert s.totals.params == 760


def test_input_override() -> None:
    g = graph(
        """
        input: [3, 32, 32]
        layers:
          - conv2d: {out_channels: 8, kernel_size: 3, stride: 2, padding: same}
        """,
        input_shape=(3, 64, 48),
    )
    assert g.output_shape == (8, 32, 24)


def test_depth_collapses_instances_into_one_row() -> None:
    g = graph("""
        input: [4, 8, 8]
        blocks:
          inner:
            layers:
              - conv2d: {out_channels: 4, kernel_size: 3, padding: 1}
              - relu
          outer:
            layers:
              - inner:
                name: x
              - inner:
                name: y
        layers:
          - outer:
            name: o
          - flatten
        """)
    rows = summarize(g, depth=1).rows
    assert [(r.name, r.type, r.layers, r.params) for r in rows] == [
        ("o", "outer", 4, 2 * (4 * 4 * 9 + 4)),
        ("flatten_1", "flatten", 1, 0),
    ]
    rows = summarize(g, depth=2).rows
    assert [r.name for r in rows] == ["o.x", "o.y", "flatten_1"]
    assert rows[1].inputs == ("o.x",)
    assert len(summarize(g).rows) == 5


def test_unused_branch_gives_a_notice() -> None:
    g = graph("""
        input: [3, 8, 8]
        layers:
          - conv2d: {out_channels: 4, kernel_size: 1}
            name: dead
          - conv2d: {out_channels: 4, kernel_size: 1}
            from: input
        """)
    assert [str(n) for n in g.notices] == [
        "net.yaml:4:5: warning: layer 'dead': its output is never used (it is not the last"
        " layer and no 'from' names it)"
    ]


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (
            "  - conv2d: {out_channels: 8, kernel_size: [3, 1]}\n    name: a\n  - add:\n"
            "    from: [a, input]\n",
            "net.yaml:5:5: layer 'add_1': add needs inputs of the same shape (a size-1"
            " dimension may"
            " broadcast), got 30×32×8, 32×32×8: H differs",
        ),
        (
            "  - conv2d: {out_channels: 4, kernel_size: 3}\n    name: a\n  - add:\n"
            "    from: [a, input]\n",
            "net.yaml:5:5: layer 'add_1': add needs inputs of the same shape (a size-1"
            " dimension may"
            " broadcast), got 30×30×4, 32×32×8: channels, H and W differ",
        ),
        (
            "  - conv1d: {out_channels: 4, kernel_size: 3}\n",
            "net.yaml:3:5: layer 'conv1d_1': expects a 2-d input [C, L] (without the batch), got"
            " 32×32×8 (3-d)",
        ),
        # Where a message counts dimensions as PyTorch does, it gives PyTorch's order too.
        (
            "  - layernorm: {normalized_shape: [8]}\n",
            "net.yaml:3:35: layer 'layernorm_1': normalized_shape 8 does not match the trailing"
            " dimensions of the input 32×32×8 (8×32×32 in PyTorch's channels-first order)",
        ),
        (
            "  - linear: {in_features: 8, out_features: 2}\n",
            "net.yaml:3:27: layer 'linear_1': in_features is 8 but the input has 32 features (its"
            " last dimension; 8×32×32 in PyTorch's channels-first order)",
        ),
        (
            "  - conv2d: {out_channels: 8, kernel_size: 3}\n    name: a\n  - concat: {dim: 2}\n"
            "    from: [a, input]\n",
            "net.yaml:5:5: layer 'concat_1': concat along dim 2 needs every other"
            " dimension to match,"
            " got 30×30×8, 32×32×8 (8×30×30, 8×32×32 in PyTorch order)",
        ),
    ],
)
def test_messages_write_shapes_in_the_specs_layout(layers: str, message: str) -> None:
    """A channels_last spec's user wrote 32×32×8; its messages say so, and name the
    dimensions that differ rather than number them."""
    assert (
        error("input: {shape: [32, 32, 8], layout: channels_last}\nlayers:\n" + layers) == message
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "input: [3, 8, 8]\nlayers:\n  - batchnorm2d\n    name: bn2\n",
            "net.yaml:4:9: invalid YAML: mapping values are not allowed in this context (for the"
            " entry on the line above to take keys such as name or from, end it with a colon:"
            " '- batchnorm2d:')",
        ),
        (
            f"input: [3, 8, 8]\nlayers:\n  - {'b' * 50}\n    name: x\n",
            "net.yaml:4:9: invalid YAML: mapping values are not allowed in this context (for the"
            " entry on the line above to take keys such as name or from, end it with a colon)",
        ),
        (
            "input: [3, 8, 8]\nlayers:\n  - relu:\n    name: a: b\n",
            "net.yaml:4:12: invalid YAML: mapping values are not allowed in this context (a value"
            " holding ': ' needs quotes)",
        ),
        (
            "input: [3, 8, 8]\nblocks:\n  b:\n    args: {c: null}\n    layers:\n"
            "      - conv2d: {out_channels: ${c}, kernel_size: 1}\nlayers: [b]\n",
            "net.yaml:6:33: invalid YAML: did not find expected ',' or '}' (inside { } or"
            " [ ], quote"
            ' a placeholder: "${...}")',
        ),
        (
            "input: [3, 8, 8]\nlayers:\n  conv2d: {out_channels: 4, kernel_size: 1}\n",
            "net.yaml:3:3: 'layers' must be a list of entries, each starting with '- '"
            " ('- conv2d: {...}')",
        ),
    ],
)
def test_common_yaml_slips_get_a_hint(text: str, message: str) -> None:
    assert error(text) == message


def test_an_input_override_that_looks_channels_last_is_warned_as_such(tmp_path: Path) -> None:
    path = write_spec(tmp_path, "input: [3, 224, 224]\nlayers: [relu]\n")
    result = run("summarize", path, "--input", "224,224,3", "-f", "json")
    assert result.exit_code == 0
    assert result.stderr == (
        f"{path}:1:8: warning: --input 224,224,3 is read as 224 channels"
        " of 224×3: this spec's input is channels first, so an H×W×C image"
        " is --input 3,224,224\n"
    )
    assert run("summarize", path, "--input", "3,224,224", "-f", "json").stderr == ""


@pytest.mark.parametrize(
    ("input_", "warned"),
    [
        ("[224, 224, 3]", True),
        ("[32, 32, 1]", True),
        ("[64, 64, 64, 1]", True),  # D×H×W×C
        ("{shape: [224, 224, 3], layout: channels_first}", False),  # meant, and said so
        ("{shape: [224, 224, 3], layout: channels_last}", False),
        ("[3, 224, 224]", False),
        ("[100, 1, 1]", False),  # a DCGAN generator's latent vector
        ("[16, 8, 4]", False),  # 16 channels of 8×4: too few channels for a transposed image
        ("[500, 3]", False),  # [C, L]: a sequence, which may well be long and thin
    ],
)
def test_an_image_written_channels_last_without_saying_so_is_warned(
    input_: str, warned: bool
) -> None:
    g = graph(f"input: {input_}\nlayers: [relu]\n")
    expected = [
        "net.yaml:1:8: warning: the input [224, 224, 3] is read as 224 channels of 224×3; for an"
        " H×W×C image write input: {shape: [224, 224, 3], layout: channels_last}"
        " (layout: channels_first keeps this reading and this warning away)"
    ]
    if input_ == "[224, 224, 3]":
        assert [str(n) for n in g.notices] == expected
    assert bool(g.notices) == warned


def test_merges_broadcast_size_one_dimensions() -> None:
    g = graph(
        """
        input: [8, 6, 6]
        layers:
          - adaptiveavgpool2d: {output_size: 1}
          - sigmoid
            name: gate
          - multiply:
            from: [input, gate]
        """.replace("- sigmoid\n", "- sigmoid:\n")
    )
    assert g.output_shape == (8, 6, 6)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            """
     input: [3, 5, 5]
     layers:
       - conv2d: {out_channels: 8, kernel_size: 7, padding: 0}
     """,
            "net.yaml:4:44: layer 'conv2d_1': kernel_size 7 is larger than the input 5"
            " (no padding)",
        ),
        (
            """
     input: [3, 5, 5]
     layers:
       - conv2d: {out_channels: 8, kernel_size: 9, padding: 1}
     """,
            "net.yaml:4:44: layer 'conv2d_1': kernel_size 9 is larger than the padded input 7"
            " (input 5 + 2×1 padding)",
        ),
        (
            """
     input: [3, 5, 5]
     layers:
       - conv2d: {out_channels: 8, kernel_size: 3, dilation: 3}
     """,
            "net.yaml:4:44: layer 'conv2d_1': dilated kernel 7 (kernel_size 3, dilation 3) is"
            " larger than the input 5 (no padding)",
        ),
        (
            """
     input: [3, 8, 8]
     layers:
       - conv2d: {out_channels: 4, kernel_size: 1}
         name: a
       - add:
         from: [a, input]
     """,
            "net.yaml:6:5: layer 'add_1': add needs inputs of the same shape (a size-1 dimension"
            " may broadcast), got 4×8×8, 3×8×8: channels differ",
        ),
        (
            """
     input: [3, 8, 8]
     layers:
       - conv2d: {out_channels: 4, kernel_size: 1}
         from: c1
     """,
            "net.yaml:5:11: layer 'conv2d_1': 'from' names 'c1', which is not a layer here",
        ),
        (
            """
     input: [3, 8, 8]
     layers:
       - relu:
         name: a
         from: c
       - relu:
         name: b
         from: a
       - relu:
         name: c
         from: b
     """,
            "net.yaml:4:5: layer 'a': the layers form a cycle (a ← c ← b ← a: each takes input"
            " from the next)",
        ),
        (
            """
     input: [3, 8, 8]
     blocks:
       a: {layers: [b]}
       b: {layers: [a]}
     layers: [a]
     """,
            "layer 'a_1.b_1.a_1': block 'a' uses itself (a → b → a)",
        ),
        (
            """
     input: [3, 8, 8]
     layers:
       - conv2d: {out_chanels: 4, kernel_size: 1}
     """,
            "net.yaml:4:14: layer 'conv2d_1': conv2d has no argument 'out_chanels'; did you mean"
            " 'out_channels'?",
        ),
        (
            """
     input: [3, 8, 8]
     layers:
       - cnv2d: {out_channels: 4, kernel_size: 1}
     """,
            "net.yaml:4:5: unknown layer type 'cnv2d'; did you mean 'conv2d'?",
        ),
        (
            """
     input: [3, 8, 8]
     layers:
       - maxpool2d: {kernel_size: 2, padding: 2}
     """,
            "net.yaml:4:42: layer 'maxpool2d_1': padding 2 is more than half the kernel_size 2",
        ),
        (
            """
     input: [16]
     layers:
       - linear: {out_features: 4, in_features: 8}
     """,
            "net.yaml:4:44: layer 'linear_1': in_features is 8 but the input has 16 features",
        ),
        (
            """
     input: [3, 8, 8]
     layers:
       - conv2d: {out_channels: 4, kernel_size: 1, groups: 2}
     """,
            "layer 'conv2d_1': in_channels 3 is not divisible by groups 2",
        ),
        (
            """
     input: [3, 8, 8]
     layers:
       - convtranspose2d: {out_channels: 4, kernel_size: 3, stride: 2, output_padding: 2}
     """,
            "output_padding 2 must be smaller than stride 2 or dilation 1",
        ),
        (
            """
     input: [3, 8, 8]
     blocks:
       b:
         args: {c: null}
         layers:
           - conv2d: {out_channels: "${c * 2", kernel_size: 1}
     layers: [b]
     """,
            "net.yaml:8:10: layer 'b_1': block 'b' needs argument 'c'",
        ),
        (
            """
     input: [3, 8, 8]
     layers:
       - relu:
         repeat: -1
     """,
            "net.yaml:5:13: layer 'relu_1': repeat must be a whole number ≥ 0, got -1",
        ),
        (
            """
     input: [3, 8, 8]
     layers:
       - flatten: {start_dim: 0}
     """,
            "layer 'flatten_1': start_dim 0 is the batch dimension; name a dimension from 1 to 3",
        ),
        (
            """
     input: [3, 8, 8]
     layers:
       - batchnorm1d
     """,
            "layer 'batchnorm1d_1': expects an input [C] or [C, L] (without the batch), got"
            " 3×8×8 (3-d)",
        ),
        (
            """
     input: [3, 8, 8]
     layers:
       - relu
     blocks:
       conv2d: {layers: [relu]}
     """,
            "net.yaml:6:3: block name 'conv2d' is already a layer type; choose another",
        ),
        (
            """
     input: [3, 8, 8]
     layers:
       - relu: {inplace: true}
         relu6:
     """,
            "an entry has exactly one layer type or block; found 'relu', 'relu6'",
        ),
        (
            """
     input: [3, 8, 8]
     input: [3, 8, 8]
     layers: [relu]
     """,
            "net.yaml:3:1: duplicate key 'input' (first at line 2)",
        ),
        (
            """
     input: [3, 8, 8]
     layers: [relu]
     extra: 1
     """,
            "net.yaml:4:1: unknown top-level key 'extra'",
        ),
        (
            """
     input: !!python/object/apply:os.system ["true"]
     layers: [relu]
     """,
            "net.yaml:2:8: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not"
            " allowed in a spec (plain data only)",
        ),
    ],
)
def test_errors_name_the_place_the_layer_and_the_rule(text: str, message: str) -> None:
    assert message in error(text)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "- conv: {out_channels: 4, kernel_size: 1}",
            "net.yaml:3:3: unknown layer type 'conv'; did you mean 'conv1d', 'conv2d' or 'conv3d'?"
            " ('cnncalc layers' lists them all)",
        ),
        (
            "- cnv2d: {out_channels: 4, kernel_size: 1}",
            "net.yaml:3:3: unknown layer type 'cnv2d'; did you mean 'conv2d'? ('cnncalc"
            " layers' lists"
            " them all)",
        ),
        (
            "- relu:\n  nmae: r",
            "net.yaml:4:3: unknown key 'nmae' in a layer entry; did you mean 'name'?",
        ),
        (
            "- relu:\n  form: input",
            "net.yaml:4:3: unknown key 'form' in a layer entry; did you mean 'from'?",
        ),
    ],
)
def test_misspellings_get_every_close_suggestion(entry: str, message: str) -> None:
    assert error(f"input: [3, 8, 8]\nlayers:\n{entry}\n") == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "input: [[3, 8, 8]]\nlayers: [relu]\n",
            "net.yaml:1:9: input sizes must be positive integers, got [3, 8, 8]",
        ),
        (
            "input: [3, 8, 8]\nlayers:\n  - conv2d: [8, {k: 3}]\n",
            "net.yaml:3:13: the arguments of 'conv2d' must be a mapping such as {name: value},"
            " got [8, {k: 3}]",
        ),
        (
            "input: [3, 8, 8]\nlayers:\n  - relu: {inplace: [true, null]}\n",
            "net.yaml:3:21: layer 'relu_1': inplace must be true or false, got a list",
        ),
        (
            f"input: [3, 8, 8]\nlayers:\n  - relu:\n    name: '{'x!' * 100}'\n",
            f"net.yaml:4:11: name '{'x!' * 19}…'"
            " must be letters, digits, '_' and '-' (dots are added for block instances)",
        ),
    ],
)
def test_values_in_messages_are_shown_as_written(text: str, message: str) -> None:
    """A value in a message is YAML as the user wrote it, cut short, never a parsed node."""
    assert error(text) == message


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        (
            "conv2d: {out_channels: 4, kernel_size: 1, in_channels: 3}",
            "net.yaml:3:60: layer 'conv2d_1': in_channels is 3 but the input has 1 channel",
        ),
        (
            "groupnorm: {num_groups: 2}",
            "net.yaml:3:29: layer 'groupnorm_1': 1 channel is not divisible by num_groups 2",
        ),
    ],
)
def test_one_channel_is_singular(layer: str, message: str) -> None:
    assert error(f"input: [1, 8, 8]\nlayers:\n  - {layer}\n") == message
