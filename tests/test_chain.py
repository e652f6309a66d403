"""`--chain` on summarize, explain and rf: one-line answers, channels-last inputs, the errors
of a chain, and the Keras words a chain or spec may use. Figures are computed by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SPECS, run, write_spec


def _json(*args: str) -> dict:
    result = run(*args, "-f", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_summarize_chain_seed_question_stride() -> None:
    """96×128×128 through 128 filters of 7×7, stride 2, padding 3: ⌊(128 + 6 − 7) / 2⌋ + 1
    = 64, and (7·7·96 + 1)·128 = 602,240 parameters."""
    data = _json("summarize", "--chain", "conv2d 128 k7 s2 p3", "--input", "96,128,128")
    assert data["output_shape"] == [128, 64, 64]
    assert data["totals"]["params"] == (7 * 7 * 96 + 1) * 128 == 602_240
    assert data["totals"]["macs"] == 128 * 64 * 64 * 7 * 7 * 96


def test_summarize_chain_table_first_lines() -> None:
    result = run("summarize", "--chain", "conv2d 128 k7 s2 p3", "--input", "96,128,128")
    assert result.exit_code == 0
    header = "Layer      Type     Output shape    Params    MACs   RF   RF stride   RF padding"
    assert result.stdout.splitlines()[:4] == [
        "chain: 96×128×128 → 128×64×64",
        header,
        "━" * len(header),
        "conv2d_1   conv2d   128×64×64      602,240   2.47G    7           2            3",
    ]


def test_explain_chain_seed_question_conv() -> None:
    """A 5×5 convolution with 10 filters on RGB: (5·5·3 + 1)·10 = 760 parameters."""
    result = run("explain", "--chain", "conv2d 10 k5", "--input", "3,32,32")
    assert result.exit_code == 0
    assert result.stdout == (
        "conv2d_1  conv2d  3×32×32 → 10×28×28\n"
        "  H_out = ⌊(32 + 2·0 − 1·(5−1) − 1) / 1⌋ + 1 = 28     (W the same)\n"
        "  params = (3·5·5 + 1)·10 = 760\n"
        "         = 750 weights + 10 biases\n"
        "  MACs   = 10·28·28 · 3·5·5 = 588,000\n"
        "  RF     = 5, stride 1, padding 0\n"
    )


@pytest.mark.parametrize(
    "chain",
    [
        "conv2d 128 k7 s2 p3",
        "conv2d 128 7 2 3",  # values in order, as nn.Conv2d's without in_channels
        "conv2d k7 s2 p3 128",  # a value in order fills the first argument wherever it stands
        "conv2d out_channels=128 kernel_size=7 stride=2 padding=3",
    ],
)
def test_chain_spellings_agree(chain: str) -> None:
    data = _json("summarize", "--chain", chain, "--input", "96,128,128")
    assert (data["output_shape"], data["totals"]["params"]) == ([128, 64, 64], 602_240)


def test_linear_takes_its_size_in_order() -> None:
    data = _json("summarize", "--chain", "flatten, linear 100", "--input", "3,10,10")
    assert data["output_shape"] == [100]
    assert data["totals"]["params"] == 300 * 100 + 100


def test_channels_last_chain_prints_h_w_c() -> None:
    """500×500×3 (H×W×C) through 16 filters of 3×3, padding 1, then a 2×2 max pool:
    500×500×16, then 250×250×16; (3·3·3 + 1)·16 = 448 parameters."""
    args = ("--chain", "conv2d 16 k3 p1, maxpool2d 2", "--input", "500x500x3")
    args += ("--layout", "channels_last")
    data = _json("summarize", *args)
    assert data["layout"] == "channels_last"
    assert data["input_shape"] == [500, 500, 3]
    assert [x["output_shape"] for x in data["layers"]] == [[500, 500, 16], [250, 250, 16]]
    assert data["totals"]["params"] == 448
    assert data["totals"]["macs"] == 500 * 500 * 16 * 27
    table = run("summarize", *args)
    assert table.stdout.splitlines()[0] == "chain: 500×500×3 → 250×250×16"
    assert table.stderr == ""  # the layout is stated: no "this looks like H×W×C" warning
    assert "(3·3·3 + 1)·16 = 448" in run("explain", *args).stdout


def test_channels_last_rf_chain_default_input() -> None:
    """Without --input a chain for fields reads 1×224×224, shown in the layout asked for."""
    result = run("rf", "--chain", "conv2d k3", "--layout", "channels_last")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "chain: receptive fields on the 224×224×1 input"
    assert "conv2d_1   conv2d   222×222×1" in result.stdout


def test_channels_first_is_the_default_layout() -> None:
    a = _json("rf", "--chain", "conv2d k3", "--input", "3,32,32")
    b = _json("rf", "--chain", "conv2d k3", "--input", "3,32,32", "--layout", "channels_first")
    assert a == b
    assert a["layers"][0]["output_shape"] == [1, 30, 30]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("summarize", "--chain", "conv2d 10 k5"),
            "Error: --chain needs --input SHAPE here: shapes and parameters depend on the"
            " input's channels (e.g. --input 3,224,224)\n",
        ),
        (
            ("explain", "--chain", "conv2d 10 k5"),
            "Error: --chain needs --input SHAPE here: shapes and parameters depend on the"
            " input's channels (e.g. --input 3,224,224)\n",
        ),
        (
            ("summarize", str(SPECS / "vgg16.yaml"), "--layout", "channels_last"),
            "Error: --layout is for --chain; a spec file states its layout in input:"
            " {shape: [...], layout: channels_last}\n",
        ),
        (
            ("explain", str(SPECS / "vgg16.yaml"), "--chain", "relu"),
            "Error: give a SPEC file or --chain, not both or neither\n",
        ),
        (("summarize",), "Error: give a SPEC file or --chain, not both or neither\n"),
        (("explain",), "Error: give a SPEC file or --chain, not both or neither\n"),
    ],
)
def test_chain_usage_errors(args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.endswith(message)


@pytest.mark.parametrize(
    ("command", "chain", "message"),
    [
        # Parameters need out_channels: only a chain for fields alone may leave it out
        ("summarize", "conv2d k5", "<chain>:1:1: layer 'conv2d_1': conv2d needs argument"),
        ("explain", "relu, cnv2d k3", "<chain>:1:7: unknown layer type 'cnv2d'; did you mean"),
        (
            "summarize",
            "conv2d 8 k3 relu",
            "<chain>:1:13: 'relu' is a layer type: separate layers with commas (conv2d ..., relu)",
        ),
        ("summarize", "conv2d 8 k3 k5", "<chain>:1:13: conv2d's 'kernel_size' is given twice"),
        (
            "summarize",
            "conv2d 8 out_channels=4 k3",
            "<chain>:1:10: conv2d's 'out_channels' is given twice",
        ),
        (
            "summarize",
            "conv2d 1 2 3 4 5 6 7 8 9",
            "<chain>:1:24: '9' is one value too many: conv2d takes at most 8 values in order"
            " (out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode)",
        ),
        ("summarize", "flatten, identity 1", "<chain>:1:19: '1' is one value too many:"),
        ("explain", "conv2d 8 k=", "<chain>:1:12: no value after '='"),
    ],
)
def test_chain_errors_are_located(command: str, chain: str, message: str) -> None:
    result = run(command, "--chain", chain, "--input", "3,32,32")
    assert result.exit_code == 2
    assert result.stderr.startswith(message), result.stderr
    assert result.stdout == ""


def test_identity_takes_no_values() -> None:
    result = run("summarize", "--chain", "identity 1", "--input", "3,8,8")
    assert result.stderr == "<chain>:1:10: '1' is one value too many: identity takes no arguments\n"


def test_non_spatial_chain_has_no_fields() -> None:
    """flatten turns 1×224×224 into 50,176 values: no receptive field to show, so exit 2
    with the reason, not an empty table."""
    result = run("rf", "--chain", "flatten, linear out_features=100")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "<chain>:1:1: no layer has a spatial output, so there are no receptive fields: the"
        " output of 'flatten_1' (flatten) is 50,176, with no spatial axes\n"
    )


def test_non_spatial_spec_has_no_fields(tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path, "input: [3, 4, 4]\nlayers:\n  - flatten\n  - linear: {out_features: 10}\n"
    )
    result = run("rf", spec)
    assert result.exit_code == 2
    assert result.stderr == (
        f"{spec}:3:5: no layer has a spatial output, so there are no receptive fields: the"
        " output of 'flatten_1' (flatten) is 48, with no spatial axes\n"
    )


def test_non_spatial_chain_layer_asked_by_name_still_answers() -> None:
    """A layer asked for by name is shown whatever its shape (its field is global)."""
    result = run("rf", "--chain", "conv2d k3, flatten", "--layer", "flatten_1")
    assert result.exit_code == 0
    assert "flatten_1   flatten   49,284" in result.stdout  # 222·222


TYPE_SUGGESTIONS = [
    ("dense 10", "'dense'; did you mean 'linear' (Keras' Dense)?"),
    ("Dense 10", "'Dense'; did you mean 'linear' (Keras' Dense)?"),
    ("fc 10", "'fc'; did you mean 'linear' (Keras' fc)?"),
    ("MaxPooling2D 2", "'MaxPooling2D'; did you mean 'maxpool2d' (Keras' MaxPooling2D)?"),
    (
        "AveragePooling2D 2",
        "'AveragePooling2D'; did you mean 'avgpool2d' (Keras' AveragePooling2D)?",
    ),
    (
        "GlobalAveragePooling2D",
        "'GlobalAveragePooling2D'; did you mean 'adaptiveavgpool2d' (Keras'"
        " GlobalAveragePooling2D, with output_size 1, then flatten)?",
    ),
    (
        "GlobalMaxPooling2D",
        "'GlobalMaxPooling2D'; did you mean 'adaptivemaxpool2d' (Keras' GlobalMaxPooling2D,"
        " with output_size 1, then flatten)?",
    ),
    (
        "BatchNormalization",
        "'BatchNormalization'; did you mean 'batchnorm2d' (Keras' BatchNormalization, or"
        " batchnorm1d/batchnorm3d by the input's rank)?",
    ),
    (
        "LayerNormalization",
        "'LayerNormalization'; did you mean 'layernorm' (Keras' LayerNormalization)?",
    ),
    (
        "Conv2DTranspose 8 k2",
        "'Conv2DTranspose'; did you mean 'convtranspose2d' (Keras' Conv2DTranspose)?",
    ),
    (
        "DepthwiseConv2D k3",
        "'DepthwiseConv2D'; did you mean 'conv2d' (Keras' DepthwiseConv2D, with groups equal"
        " to its input channels)?",
    ),
    (
        "SeparableConv2D k3",
        "'SeparableConv2D'; did you mean 'conv2d' (Keras' SeparableConv2D, with groups ="
        " input channels, then a 1×1 conv2d)?",
    ),
    ("ZeroPadding2D 1", "'ZeroPadding2D'; did you mean 'zeropad2d' (Keras' ZeroPadding2D)?"),
    ("UpSampling2D", "'UpSampling2D'; did you mean 'upsample' (Keras' UpSampling2D)?"),
    (
        "SpatialDropout2D",
        "'SpatialDropout2D'; did you mean 'dropout2d' (Keras' SpatialDropout2D)?",
    ),
    ("Concatenate", "'Concatenate'; did you mean 'concat' (Keras' Concatenate)?"),
    (
        "Activation",
        "'Activation'; Keras' Activation is written as the activation itself here: relu,"
        " sigmoid, tanh, softmax, ...",
    ),
    (
        "InputLayer",
        "'InputLayer'; Keras' InputLayer is the spec's 'input:' here (or --input), not a layer",
    ),
]


@pytest.mark.parametrize(("chain", "hint"), TYPE_SUGGESTIONS)
def test_keras_type_suggestions(chain: str, hint: str) -> None:
    result = run("summarize", "--chain", chain, "--input", "3,32,32")
    assert result.exit_code == 2
    expected = f"<chain>:1:1: unknown layer type {hint} ('cnncalc layers' lists them all)\n"
    assert result.stderr == expected


def test_keras_and_pytorch_capitals_that_are_cnncalc_types() -> None:
    """Conv2D, Conv2d, Flatten and Dropout are cnncalc's words in other capitals: accepted."""
    data = _json("summarize", "--chain", "Conv2D 10 k5, Dropout, Flatten", "--input", "3,32,32")
    assert [x["type"] for x in data["layers"]] == ["conv2d", "dropout", "flatten"]
    assert data["totals"]["params"] == 760


CONV_ARGS = (
    "out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, in_channels"
)
ARGUMENT_SUGGESTIONS = [
    (
        "conv2d filters=8 k3",
        8,
        "conv2d",
        "filters",
        "did you mean 'out_channels' (Keras' filters)?",
    ),
    ("conv2d 8 k3 strides=2", 13, "conv2d", "strides", "did you mean 'stride' (Keras' strides)?"),
    (
        "conv2d 8 k3 dilation_rate=2",
        13,
        "conv2d",
        "dilation_rate",
        "did you mean 'dilation' (Keras' dilation_rate)?",
    ),
    (
        "conv2d 8 k3 use_bias=false",
        13,
        "conv2d",
        "use_bias",
        "did you mean 'bias' (Keras' use_bias)?",
    ),
    (
        "conv2d 8 k3 kernel_initializer=he_normal",
        13,
        "conv2d",
        "kernel_initializer",
        "Keras' kernel_initializer has no counterpart here: initial values, penalties and"
        " limits change no count",
    ),
    (
        "conv2d 8 k3 kernel_regularizer=l2",
        13,
        "conv2d",
        "kernel_regularizer",
        "Keras' kernel_regularizer has no counterpart here: initial values, penalties and"
        " limits change no count",
    ),
    (
        "conv2d 8 k3 activation=relu",
        13,
        "conv2d",
        "activation",
        "Keras' activation is a layer of its own here: add it after this one (e.g. relu)",
    ),
    (
        "conv2d 8 k3 data_format=channels_last",
        13,
        "conv2d",
        "data_format",
        "Keras' data_format is the input's layout here: input: {shape: ..., layout:"
        " channels_last}, or --layout with --chain",
    ),
]


@pytest.mark.parametrize(("chain", "column", "kind", "word", "hint"), ARGUMENT_SUGGESTIONS)
def test_keras_argument_suggestions_on_conv(
    chain: str, column: int, kind: str, word: str, hint: str
) -> None:
    result = run("summarize", "--chain", chain, "--input", "3,32,32")
    assert result.exit_code == 2
    assert result.stderr == (
        f"<chain>:1:{column}: layer '{kind}_1': {kind} has no argument '{word}'; {hint}"
        f" (its arguments: {CONV_ARGS})\n"
    )


@pytest.mark.parametrize(
    ("chain", "message"),
    [
        (
            "flatten, linear units=10",
            "linear has no argument 'units'; did you mean 'out_features' (Keras' units)?"
            " (its arguments: out_features, bias, in_features)",
        ),
        (
            "maxpool2d pool_size=2",
            "maxpool2d has no argument 'pool_size'; did you mean 'kernel_size' (Keras'"
            " pool_size)? (its arguments: kernel_size, stride, padding, dilation,"
            " return_indices, ceil_mode)",
        ),
        (
            "dropout rate=0.3",
            "dropout has no argument 'rate'; did you mean 'p' (Keras' rate)? (its arguments:"
            " p, inplace)",
        ),
        (
            "batchnorm2d epsilon=0.001",
            "batchnorm2d has no argument 'epsilon'; did you mean 'eps' (Keras' epsilon)? (its"
            " arguments: eps, momentum, affine, track_running_stats, num_features)",
        ),
        (
            "batchnorm2d center=false",
            "batchnorm2d has no argument 'center'; did you mean 'affine' (Keras' center,"
            " center and scale at once)? (its arguments: eps, momentum, affine,"
            " track_running_stats, num_features)",
        ),
        (
            "leakyrelu alpha=0.2",
            "leakyrelu has no argument 'alpha'; did you mean 'negative_slope' (Keras' alpha)?"
            " (its arguments: negative_slope, inplace)",
        ),
        (
            "softmax axis=-1",
            "softmax has no argument 'axis'; did you mean 'dim' (Keras' axis)? (its"
            " arguments: dim)",
        ),
        (
            "flatten, linear 10 input_dim=300",
            "linear has no argument 'input_dim'; did you mean 'in_features' (Keras'"
            " input_dim)? (its arguments: out_features, bias, in_features)",
        ),
    ],
)
def test_keras_argument_suggestions(chain: str, message: str) -> None:
    result = run("summarize", "--chain", chain, "--input", "3,32,32")
    assert result.exit_code == 2
    assert result.stderr.startswith("<chain>:1:")
    assert result.stderr.endswith(f": {message}\n"), result.stderr


def test_keras_word_absent_from_the_type_falls_back_to_spelling() -> None:
    """linear has no 'dim', so 'axis' gets the ordinary spelling suggestion (none here)."""
    result = run("summarize", "--chain", "flatten, linear 10 axis=1", "--input", "3,4,4")
    assert result.stderr == (
        "<chain>:1:20: layer 'linear_1': linear has no argument 'axis' (its arguments:"
        " out_features, bias, in_features)\n"
    )


def test_keras_words_in_a_spec_file(tmp_path: Path) -> None:
    """The same suggestions for a YAML spec, at the word's line and column."""
    spec = write_spec(
        tmp_path,
        "input: [3, 32, 32]\nlayers:\n  - conv2d: {filters: 8, kernel_size: 3}\n  - Dense\n",
    )
    result = run("summarize", spec)
    # every independent error, in file order, each with its source line and a caret
    assert result.stderr == (
        f"{spec}:3:14: layer 'conv2d_1': conv2d has no argument 'filters'; did you mean"
        " 'out_channels' (Keras' filters)? (its arguments: out_channels, kernel_size, stride,"
        " padding, dilation, groups, bias, padding_mode, in_channels)\n"
        "    3 |   - conv2d: {filters: 8, kernel_size: 3}\n"
        "      |              ^\n"
        f"{spec}:4:5: unknown layer type 'Dense'; did you mean 'linear' (Keras' Dense)?"
        " ('cnncalc layers' lists them all)\n"
        "    4 |   - Dense\n"
        "      |     ^\n"
    )
    spec = write_spec(tmp_path, "input: [3, 32, 32]\nlayers:\n  - conv2d: {filters: 8, k: 3}\n")
    result = run("summarize", spec)
    assert result.stderr.startswith(
        f"{spec}:3:14: layer 'conv2d_1': conv2d has no argument 'filters'; did you mean"
        " 'out_channels' (Keras' filters)?"
    )


def test_misspellings_still_get_spelling_suggestions() -> None:
    result = run("summarize", "--chain", "conv2d 8 k3 strid=2", "--input", "3,32,32")
    assert "has no argument 'strid'; did you mean 'stride'?" in result.stderr


def test_every_synonym_names_a_cnncalc_word() -> None:
    """A typo in the table would suggest a word that does not exist."""
    from cnncalc.layers import TYPES
    from cnncalc.synonyms import ARGS
    from cnncalc.synonyms import TYPES as TYPE_SYNONYMS

    arguments = {a.name for t in TYPES.values() for a in t.args}
    for synonym in TYPE_SYNONYMS.values():
        assert synonym.targets or synonym.note, synonym
        assert all(t in TYPES for t in synonym.targets), synonym
        assert synonym.word.lower() not in TYPES, synonym  # it would never be asked
    for synonym in ARGS.values():
        assert synonym.targets or synonym.note, synonym
        assert all(t in arguments for t in synonym.targets), synonym
