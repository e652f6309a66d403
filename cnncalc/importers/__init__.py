"""Models people already have → cnncalc specs: ONNX files, PyTorch modules, Keras JSON.

Each importer reads a model through its own optional package, imported only when it is used
(`pip install 'cnncalc[onnx]'`, `'cnncalc[torch]'`; Keras JSON needs none), and writes a spec's
YAML text: readable, with comments naming the source, which `spec.from_text` reads like any
other. An operator or layer it cannot translate is a ModelError naming the op, the node and
what the user can do; nothing is dropped silently.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from typing import BinaryIO, NamedTuple

from cnncalc.errors import CnncalcError, UsageError
from cnncalc.source import not_regular

Shape = tuple[int, ...]


class Imported(NamedTuple):
    """A model as a spec: its YAML text, what kind of model it was and where it came from."""

    text: str
    kind: str  # "onnx", "torch" or "keras"
    source: str  # the path or torch:module:factory it was read from


class ModelError(CnncalcError):
    """A model that cannot be read or translated (exit code 2): the message names the node
    or layer (`node`, shown as the 'layer' of the error), the op, and what to do."""

    def __init__(self, message: str, source: str, node: str | None = None) -> None:
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{f'node {node!r}: ' if node else ''}{message}")
        self.file = source
        self.layer = node
        self.message = message


def missing_package(package: str, extra: str, source: str) -> ModelError:
    """The error for an optional package that is not installed."""
    return ModelError(
        f"reading this model needs the {package} package: pip install 'cnncalc[{extra}]'",
        source,
    )


def open_regular(target: str) -> BinaryIO:
    """`target` opened for reading in binary, when it is a regular file: opened without
    blocking and checked before any read (as spec files are), so that a FIFO, a device or a
    directory is refused at once, never waited on."""
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except ValueError:  # a NUL byte in the name
        raise ModelError("no such file (the name holds a NUL character)", target) from None
    except OSError as err:
        raise ModelError(f"cannot read it: {err.strerror}", target) from None
    try:
        kind = stat.S_IFMT(os.fstat(fd).st_mode)
        if kind != stat.S_IFREG:
            raise ModelError(f"{not_regular(kind)}; only regular files are read", target)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def kind_of(target: str) -> str:
    """Which importer reads a target: `torch:pkg.module:factory`, `*.onnx`, `*.json`/`*.keras`."""
    if target.startswith("torch:"):
        return "torch"
    lower = target.lower()
    if lower.endswith(".onnx"):
        return "onnx"
    if lower.endswith((".json", ".keras")):
        return "keras"
    raise UsageError(
        f"cannot tell what kind of model {target!r} is: give an .onnx file, a Keras .json or"
        " .keras file, or torch:package.module:factory (a callable returning an nn.Module)"
    )


def read_model(
    target: str, *, input_shape: Sequence[int] | Sequence[Sequence[int]] | None = None
) -> Imported:
    """A model as a spec; `input_shape` (channels first, no batch) fills dimensions the model
    leaves open (a dynamic ONNX input) and is required for PyTorch modules, one shape per
    input of `forward` where it takes several."""
    kind = kind_of(target)
    shapes = _shapes(input_shape)
    if kind == "torch":
        from cnncalc.importers import from_torch

        return from_torch.read(target, input_shape=shapes[0] if len(shapes) == 1 else shapes)
    if len(shapes) > 1:
        raise UsageError(f"a {kind} model takes one --input shape, got {len(shapes)}")
    shape = shapes[0] if shapes else None
    if kind == "onnx":
        from cnncalc.importers import from_onnx

        return from_onnx.read(target, input_shape=shape)
    from cnncalc.importers import from_keras

    return from_keras.read(target, input_shape=shape)


def _shapes(given: Sequence[int] | Sequence[Sequence[int]] | None) -> list[Shape]:
    """One shape, or several, as a list of tuples of ints."""
    if given is None or len(given) == 0:
        return []
    if all(isinstance(n, int) for n in given):
        return [tuple(int(n) for n in given)]  # type: ignore[arg-type]
    return [tuple(int(n) for n in shape) for shape in given]  # type: ignore[union-attr]
