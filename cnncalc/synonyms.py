"""Other frameworks' words for cnncalc's: Keras layer classes and arguments → a suggestion.

cnncalc names layers and arguments as PyTorch does. A Keras user writes `Dense`, `filters`,
`strides`; a string distance finds nothing close, so this one table says what they are here.
A leaf: the spec reader and the graph builder ask it when a word is unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from cnncalc.errors import did_you_mean


class Synonym(NamedTuple):
    """A foreign word: its own spelling, cnncalc's words for it (first one present wins), and
    a note for what it becomes (or why it has no counterpart)."""

    word: str
    targets: tuple[str, ...] = ()
    note: str = ""


def _table(*entries: Synonym) -> dict[str, Synonym]:
    return {s.word.lower(): s for s in entries}


TYPES = _table(
    Synonym("Dense", ("linear",)),
    Synonym("fc", ("linear",)),
    Synonym("Conv1DTranspose", ("convtranspose1d",)),
    Synonym("Conv2DTranspose", ("convtranspose2d",)),
    Synonym("Conv3DTranspose", ("convtranspose3d",)),
    Synonym("DepthwiseConv2D", ("conv2d",), "with groups equal to its input channels"),
    Synonym("SeparableConv2D", ("conv2d",), "with groups = input channels, then a 1×1 conv2d"),
    Synonym("MaxPooling1D", ("maxpool1d",)),
    Synonym("MaxPooling2D", ("maxpool2d",)),
    Synonym("MaxPooling3D", ("maxpool3d",)),
    Synonym("AveragePooling1D", ("avgpool1d",)),
    Synonym("AveragePooling2D", ("avgpool2d",)),
    Synonym("AveragePooling3D", ("avgpool3d",)),
    Synonym("GlobalAveragePooling1D", ("adaptiveavgpool1d",), "with output_size 1, then flatten"),
    Synonym("GlobalAveragePooling2D", ("adaptiveavgpool2d",), "with output_size 1, then flatten"),
    Synonym("GlobalAveragePooling3D", ("adaptiveavgpool3d",), "with output_size 1, then flatten"),
    Synonym("GlobalMaxPooling1D", ("adaptivemaxpool1d",), "with output_size 1, then flatten"),
    Synonym("GlobalMaxPooling2D", ("adaptivemaxpool2d",), "with output_size 1, then flatten"),
    Synonym("GlobalMaxPooling3D", ("adaptivemaxpool3d",), "with output_size 1, then flatten"),
    Synonym(
        "BatchNormalization", ("batchnorm2d",), "or batchnorm1d/batchnorm3d by the input's rank"
    ),
    Synonym("LayerNormalization", ("layernorm",)),
    Synonym("GroupNormalization", ("groupnorm",)),
    Synonym("SpatialDropout1D", ("dropout1d",)),
    Synonym("SpatialDropout2D", ("dropout2d",)),
    Synonym("SpatialDropout3D", ("dropout3d",)),
    Synonym("ZeroPadding1D", ("zeropad1d",)),
    Synonym("ZeroPadding2D", ("zeropad2d",)),
    Synonym("ZeroPadding3D", ("zeropad3d",)),
    Synonym("UpSampling1D", ("upsample",)),
    Synonym("UpSampling2D", ("upsample",)),
    Synonym("UpSampling3D", ("upsample",)),
    Synonym("Concatenate", ("concat",)),
    Synonym(
        "Activation",
        note="is written as the activation itself here: relu, sigmoid, tanh, softmax, ...",
    ),
    Synonym("InputLayer", note="is the spec's 'input:' here (or --input), not a layer"),
)

_NO_COUNTERPART = "has no counterpart here: initial values, penalties and limits change no count"

ARGS = _table(
    Synonym("filters", ("out_channels",)),
    Synonym("units", ("out_features",)),
    Synonym("strides", ("stride",)),
    Synonym("dilation_rate", ("dilation",)),
    Synonym("pool_size", ("kernel_size",)),
    Synonym("rate", ("p",)),
    Synonym("epsilon", ("eps",)),
    Synonym("use_bias", ("bias",)),
    Synonym("axis", ("dim",)),
    Synonym("alpha", ("negative_slope",)),
    Synonym("center", ("affine",), "center and scale at once"),
    Synonym("scale", ("affine", "elementwise_affine"), "center and scale at once"),
    Synonym("target_shape", ("shape",)),
    Synonym("interpolation", ("mode",)),
    Synonym("input_dim", ("num_embeddings", "in_features")),
    Synonym("output_dim", ("embedding_dim",)),
    Synonym(
        "activation",
        note="is a layer of its own here: add it after this one (e.g. relu)",
    ),
    Synonym(
        "data_format",
        note="is the input's layout here: input: {shape: ..., layout: channels_last},"
        " or --layout with --chain",
    ),
    Synonym("input_shape", note="is the spec's 'input:' here (or --input)"),
)

_NO_COUNTERPART_ENDINGS = ("_initializer", "_regularizer", "_constraint")


def type_hint(word: str, options: Sequence[str]) -> str:
    """'; did you mean 'linear' (Keras' Dense)?' for a foreign layer class, else the closest
    of `options` by spelling ('' when nothing is close)."""
    synonym = TYPES.get(word.lower())
    if synonym is None:
        return did_you_mean(word.lower(), options)
    return _hint(synonym, [t for t in synonym.targets if t in options])


def argument_hint(word: str, options: Sequence[str]) -> str:
    """'; did you mean 'out_channels' (Keras' filters)?' for a foreign argument this layer
    type has a counterpart of, a note when it has none, else the closest by spelling."""
    key = word.lower()
    if key.endswith(_NO_COUNTERPART_ENDINGS):
        return f"; Keras' {word} {_NO_COUNTERPART}"
    synonym = ARGS.get(key)
    present = [] if synonym is None else [t for t in synonym.targets if t in options]
    if synonym is None or (synonym.targets and not present):
        return did_you_mean(word, options)
    return _hint(synonym, present[:1])


def _hint(synonym: Synonym, present: list[str]) -> str:
    if not present:
        return f"; Keras' {synonym.word} {synonym.note}" if synonym.note else ""
    note = f", {synonym.note}" if synonym.note else ""
    return f"; did you mean '{present[0]}' (Keras' {synonym.word}{note})?"
