"""The shared vocabularies: output formats per command, dtypes, optimizers.

A leaf, as torchinfo's enums.py: the CLI offers these as choices without loading the core
(`cnncalc --help` imports only cli, enums and errors), and the core and renderers use them.
"""

from __future__ import annotations

import enum


class Format(str, enum.Enum):
    """`summarize --format`."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    CSV = "csv"
    HTML = "html"


class RfFormat(str, enum.Enum):
    """`rf --format`."""

    TABLE = "table"
    JSON = "json"


class CheckFormat(str, enum.Enum):
    """`check --format`: text for people, github for workflow annotations, junit for CI."""

    TEXT = "text"
    JSON = "json"
    GITHUB = "github"
    JUNIT = "junit"


class DiffFormat(str, enum.Enum):
    """`diff --format`."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"


class ExplainFormat(str, enum.Enum):
    """`explain --format`."""

    TEXT = "text"
    JSON = "json"


class VerifyFormat(str, enum.Enum):
    """`verify --format`: text for people, JSON, GitHub workflow annotations."""

    TEXT = "text"
    JSON = "json"
    GITHUB = "github"


class ConvolveFormat(str, enum.Enum):
    """`convolve --format`."""

    TEXT = "text"
    JSON = "json"


class DrawFormat(str, enum.Enum):
    """`draw --format`: mermaid and dot as text, svg and png through Graphviz's `dot`."""

    MERMAID = "mermaid"
    DOT = "dot"
    SVG = "svg"
    PNG = "png"


class Dtype(str, enum.Enum):
    FLOAT32 = "float32"
    FLOAT16 = "float16"
    BFLOAT16 = "bfloat16"
    FLOAT64 = "float64"
    INT8 = "int8"

    @property
    def bytes(self) -> int:
        return {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8, "int8": 1}[self.value]


class Optimizer(str, enum.Enum):
    SGD = "sgd"
    MOMENTUM = "momentum"
    NESTEROV = "nesterov"
    ADAGRAD = "adagrad"
    RMSPROP = "rmsprop"
    ADAM = "adam"
    ADAMW = "adamw"
    LION = "lion"

    @property
    def states(self) -> int:
        """Tensors of state kept per trainable parameter tensor."""
        return STATE_TENSORS[self][0]


# Optimizer → (state tensors per parameter, what they are). PyTorch's defaults: RMSprop without
# momentum or centering, Adam/AdamW without amsgrad.
STATE_TENSORS: dict[Optimizer, tuple[int, str]] = {
    Optimizer.SGD: (0, "none"),
    Optimizer.MOMENTUM: (1, "the velocity"),
    Optimizer.NESTEROV: (1, "the velocity"),
    Optimizer.ADAGRAD: (1, "the sum of squared gradients"),
    Optimizer.RMSPROP: (1, "the moving average of squared gradients"),
    Optimizer.ADAM: (2, "the first and second moment estimates m and v"),
    Optimizer.ADAMW: (2, "the first and second moment estimates m and v"),
    Optimizer.LION: (1, "the momentum (Lion keeps no second moment)"),
}


class ExportTarget(str, enum.Enum):
    """`export --to`: the framework whose code is written."""

    PYTORCH = "pytorch"
