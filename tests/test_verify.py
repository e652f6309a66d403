"""`cnncalc verify`: a spec against a model's graph, layer by layer (the core; the importers'
own tests run it against real ONNX, PyTorch and Keras models)."""

from __future__ import annotations

import json

import pytest

from cnncalc import graph, spec
from cnncalc.enums import VerifyFormat
from cnncalc.render.verify import RENDERERS, message
from cnncalc.verify import Difference, verify

MODEL = """
input: [3, 32, 32]
layers:
  - conv2d: {out_channels: 8, kernel_size: 3, padding: 1}
    name: conv1
  - batchnorm2d:
    name: bn1
  - relu
  - maxpool2d: {kernel_size: 2}
  - flatten
  - linear: {out_features: 10}
    name: fc
"""


def _graph(text: str, path: str = "spec.yaml") -> graph.Graph:
    return graph.build(spec.from_text(text, path))


def _verify(mine: str, theirs: str = MODEL):  # type: ignore[no-untyped-def]
    return verify(_graph(mine), _graph(theirs, "model.onnx"), "spec.yaml", "model.onnx")


def test_the_same_network_agrees() -> None:
    v = _verify(MODEL)
    assert v.agrees and v.paired == 3 and v.by == "name"
    assert RENDERERS[VerifyFormat.TEXT](v) == (
        "✓ spec.yaml agrees with model.onnx (3 weighted layers paired by name)\n"
    )


def test_a_changed_kernel_is_located_at_its_layer() -> None:
    v = _verify(MODEL.replace("kernel_size: 3, padding: 1", "kernel_size: 5, padding: 1"))
    lines = RENDERERS[VerifyFormat.TEXT](v).splitlines()
    assert lines[:2] == [
        "spec.yaml:4:5: layer 'conv1': output shape 8×30×30, the model has 8×32×32",
        "spec.yaml:4:5: layer 'conv1': params 608, the model has 224",
    ]
    assert "spec.yaml:11:5: layer 'fc': params 18,010, the model has 20,490" in lines
    assert lines[-1].startswith("✗ spec.yaml differs from model.onnx: ")


def test_other_names_pair_in_order() -> None:
    renamed = MODEL.replace("conv1", "c").replace("bn1", "b").replace("name: fc", "name: head")
    v = _verify(renamed)
    assert v.agrees and v.by == "what they compute" and v.paired == 3


def test_a_missing_layer_and_the_totals() -> None:
    v = _verify(MODEL.replace("  - batchnorm2d:\n    name: bn1\n", ""))
    whats = [(d.what, d.layer, d.model_layer) for d in v.differences]
    assert ("missing", None, "bn1") in whats
    assert ("params", None, None) in whats and ("buffers", None, None) in whats
    missing = next(d for d in v.differences if d.what == "missing")
    assert message(missing) == (
        "the model's layer 'bn1' (16 parameters) has no counterpart in the spec"
    )


def test_json_and_github_formats() -> None:
    v = _verify(MODEL.replace("out_features: 10", "out_features: 9"))
    data = json.loads(RENDERERS[VerifyFormat.JSON](v))
    assert data["agrees"] is False
    first = data["differences"][0]
    assert (first["what"], first["layer"], first["line"], first["column"]) == (
        "output shape",
        "fc",
        11,
        5,
    )
    assert first["spec"] == [9] and first["model"] == [10]
    github = RENDERERS[VerifyFormat.GITHUB](v).splitlines()
    assert github[0].startswith("::error file=spec.yaml,line=11,col=5,title=cnncalc verify::")


@pytest.mark.parametrize(
    ("d", "text"),
    [
        (
            Difference("extra", "x", None, 5, None),
            "layer 'x' (5 parameters) has no counterpart in the model",
        ),
        (
            Difference("output shape", None, None, [(10,)], [(10,), (1,)]),
            "the network's output shape: 10 in the spec, 10, 1 in the model",
        ),
        (
            Difference("type", "a", "b", "conv2d", "linear"),
            "layer 'a': type conv2d, the model's 'b' has linear",
        ),
    ],
)
def test_messages(d: Difference, text: str) -> None:
    assert message(d) == text
