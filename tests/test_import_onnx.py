"""The ONNX importer against oracles that do not share its code: the PyTorch reference models
(exported by torch's legacy exporter, then compared with the torch module itself: parameters,
buffers, output shape, each weighted module's output shape by its qualified name) and small
graphs built with `onnx.helper` (compared with onnx's own shape inference and hand counts)."""

from __future__ import annotations

import contextlib
import io
import json
import math
import random
import sys
from pathlib import Path
from typing import Any

import onnx
import pytest
import torch
from onnx import TensorProto, helper
from torch import nn

from cnncalc.importers import ModelError, from_onnx, read_model
from conftest import run
from reference_models import REFERENCES

pytestmark = pytest.mark.filterwarnings(
    "ignore::UserWarning", "ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning"
)

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _summary(tmp_path: Path, text: str) -> dict[str, Any]:
    spec = tmp_path / "imported.yaml"
    spec.write_text(text)
    result = run("summarize", str(spec), "--format", "json")
    assert result.exit_code == 0, result.stderr
    return dict(json.loads(result.stdout))


Inputs = tuple[int, ...] | tuple[torch.Tensor, ...]  # one input's shape, or example tensors


def _example(inputs: Inputs) -> tuple[torch.Tensor, ...]:
    """The tensors a model runs on: zeros of one shape at batch 1, or the examples given."""
    if all(isinstance(n, int) for n in inputs):
        return (torch.zeros(1, *inputs),)  # type: ignore[misc]
    return inputs  # type: ignore[return-value]


def _export(
    model: nn.Module, input_shape: Inputs, path: Path, *, with_weights: bool = False
) -> nn.Module:
    """Export a model with torch's legacy exporter in training mode (BatchNorm kept, not
    folded into the convolutions). Without weights, the file refers to them as external
    data it does not hold: the importer reads only their dims, and the test stays small."""
    buf = io.BytesIO()
    torch.onnx.export(
        model,
        _example(input_shape),
        buf,
        dynamo=False,
        export_params=with_weights,
        training=torch.onnx.TrainingMode.TRAINING,
        do_constant_folding=False,
        input_names=["x"] if len(_example(input_shape)) == 1 else None,
    )
    proto = onnx.load_from_string(buf.getvalue())
    if not with_weights:
        _external_weights(proto, {n for n, _ in model.named_parameters()} | _buffers(model))
    onnx.save(proto, str(path))
    return model


def _buffers(model: nn.Module) -> set[str]:
    return {n for n, _ in model.named_buffers() if not n.endswith("num_batches_tracked")}


def _external_weights(proto: onnx.ModelProto, names: set[str]) -> None:
    """Turn the weights, which export_params=False leaves as graph inputs, into initializers
    stored as external data (dims only, as a model too large for one file is written)."""
    graph = proto.graph
    keep = []
    for value in graph.input:
        if value.name not in names:
            keep.append(value)
            continue
        t = value.type.tensor_type
        tensor = TensorProto(
            name=value.name, data_type=t.elem_type, dims=[d.dim_value for d in t.shape.dim]
        )
        tensor.data_location = TensorProto.EXTERNAL
        tensor.external_data.add(key="location", value="weights.bin")
        graph.initializer.append(tensor)
    del graph.input[:]
    graph.input.extend(keep)


def _torch_facts(
    model: nn.Module, input_shape: Inputs
) -> tuple[int, int, list[int], dict[str, list[int]]]:
    """Parameters, buffers, output shape and each weighted leaf module's output shape (a
    MultiheadAttention counts as one leaf, as it is one layer)."""
    shapes: dict[str, list[int]] = {}
    attention = [q for q, m in model.named_modules() if isinstance(m, nn.MultiheadAttention)]
    for qual, module in model.named_modules():
        leaf = not list(module.children()) or qual in attention
        inside = any(qual.startswith(f"{a}.") for a in attention)
        if qual and leaf and not inside and list(module.parameters()):
            module.register_forward_hook(
                lambda m, i, o, q=qual: shapes.__setitem__(
                    q, list((o[0] if isinstance(o, tuple) else o).shape[1:])
                )
            )
    model.eval()
    with torch.no_grad():
        out = model(*_example(input_shape))
        out = out[0] if isinstance(out, tuple) else out  # several outputs: the first
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for n, b in model.named_buffers() if n in _buffers(model))
    return params, buffers, list(out.shape[1:]), shapes


def _round_trip(name: str, tmp_path: Path, *, with_weights: bool = False) -> str:
    ref = REFERENCES[name]
    path = tmp_path / f"{name}.onnx"
    model = _export(ref.build(), ref.example(), path, with_weights=with_weights)
    return _compare(model, ref.example(), path, tmp_path)


def _compare(model: nn.Module, input_shape: Inputs, path: Path, tmp_path: Path) -> str:
    """Import the file, summarize the spec, and hold the figures to the torch model's."""
    imported = read_model(str(path))
    assert imported.kind == "onnx"
    summary = _summary(tmp_path, imported.text)
    params, buffers, output, shapes = _torch_facts(model, input_shape)
    assert summary["totals"]["params"] == params
    assert summary["totals"]["buffers"] == buffers
    assert summary["output_shape"] == output
    rows = {row["name"]: row for row in summary["layers"]}
    # every weighted module of the model is a layer of the same qualified name and shape; a
    # module of several inputs (U-Net's `up1`) is written flat: `up1_up`, `up1_conv.0`
    for qual, shape in shapes.items():
        names = [qual.replace(".", "_", i) for i in range(qual.count(".") + 1)]
        name = next((n for n in names if n in rows), None)
        if name is None:  # a module written as a block instance of several layers: its last
            inside = [r for r in rows if any(r.startswith(n + ".") for n in names)]
            name = inside[-1] if inside else None
        assert name is not None, f"{qual} is not a layer of the imported spec"
        assert rows[name]["output_shape"] == shape, qual
    return imported.text


def _save(tmp_path: Path, graph: onnx.GraphProto, opset: int = 17) -> str:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    path = tmp_path / "model.onnx"
    onnx.save(model, str(path))
    return str(path)


def _weight(name: str, dims: list[int]) -> TensorProto:
    return helper.make_tensor(name, TensorProto.FLOAT, dims, [0.5] * math.prod(dims))


def _const(name: str, values: list[float], dtype: int = TensorProto.FLOAT) -> onnx.NodeProto:
    tensor = helper.make_tensor(f"{name}_v", dtype, [len(values)], values)
    return helper.make_node("Constant", [], [name], value=tensor)


def _inferred(path: str) -> dict[str, list[int]]:
    """onnx's shape inference on the file, batch fixed at 1: each tensor's shape, no batch."""
    model = onnx.load(path)
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 1
    inferred = onnx.shape_inference.infer_shapes(model)
    g = inferred.graph
    return {
        v.name: [d.dim_value for d in v.type.tensor_type.shape.dim][1:]
        for v in [*g.value_info, *g.output]
    }


# --------------------------------------------------------------------------------------------
# Graphs built with onnx.helper
# --------------------------------------------------------------------------------------------


def _image_graph(dynamic: bool = False) -> onnx.GraphProto:
    """Conv (symmetric and asymmetric pads, groups), BN, Relu, Pad, Clip, pools, Concat, a
    learned scale, a constant, Resize, GlobalAveragePool, Flatten, Gemm, Softmax."""
    h: Any = "H" if dynamic else 16
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, h, h])
    y = helper.make_tensor_value_info("probs", TensorProto.FLOAT, None)
    nodes = [
        helper.make_node("Conv", ["x", "c1.w", "c1.b"], ["t1"], "c1", pads=[1, 1, 1, 1]),
        helper.make_node(
            "BatchNormalization", ["t1", "bn.s", "bn.b", "bn.m", "bn.v"], ["t2"], "bn"
        ),
        helper.make_node("Relu", ["t2"], ["t3"], "relu"),
        _const("pads", [0, 0, 1, 1, 0, 0, 1, 1], TensorProto.INT64),
        helper.make_node("Pad", ["t3", "pads"], ["t4"], "pad", mode="reflect"),
        helper.make_node(
            "Conv", ["t4", "c2.w"], ["t5"], "c2", group=8, strides=[2, 2], pads=[0, 0, 1, 1]
        ),
        _const("lo", [0.0]),
        _const("hi", [6.0]),
        helper.make_node("Clip", ["t5", "lo", "hi"], ["t6"], "clip"),
        helper.make_node(
            "AveragePool", ["t6"], ["t7"], "avg", kernel_shape=[3, 3], pads=[1, 1, 1, 1]
        ),
        helper.make_node("Concat", ["t6", "t7"], ["t8"], "cat", axis=1),
        helper.make_node("Mul", ["t8", "gamma"], ["t9"], "scale"),
        _const("half", [0.5]),
        helper.make_node("Add", ["t9", "half"], ["t10"], "shift"),
        _const("scales", [1.0, 1.0, 2.0, 2.0]),
        helper.make_node("Resize", ["t10", "", "scales"], ["t11"], "up", mode="nearest"),
        helper.make_node("GlobalAveragePool", ["t11"], ["t12"], "gap"),
        helper.make_node("Flatten", ["t12"], ["t13"], "flat"),
        helper.make_node("Gemm", ["t13", "fc.w", "fc.b"], ["t14"], "fc", transB=1),
        helper.make_node("Softmax", ["t14"], ["probs"], "softmax", axis=1),
    ]
    weights = [
        _weight("c1.w", [8, 3, 3, 3]),
        _weight("c1.b", [8]),
        *(_weight(f"bn.{k}", [8]) for k in "sbmv"),
        _weight("c2.w", [8, 1, 3, 3]),
        _weight("gamma", [1, 16, 1, 1]),
        _weight("fc.w", [10, 16]),
        _weight("fc.b", [10]),
    ]
    return helper.make_graph(nodes, "image", [x], [y], weights)


def _sequence_graph() -> onnx.GraphProto:
    """LayerNorm, MatMul + Add as a linear, Split, attention as matmul/transpose/softmax
    pieces with a constant scale, a residual Add, Reshape, Unsqueeze/Squeeze, two outputs."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 8])
    out = helper.make_tensor_value_info("out", TensorProto.FLOAT, None)
    attn = helper.make_tensor_value_info("attn", TensorProto.FLOAT, None)
    nodes = [
        helper.make_node("LayerNormalization", ["x", "ln.s", "ln.b"], ["n"], "ln", axis=-1),
        helper.make_node("MatMul", ["n", "qkv.w"], ["m"], "qkv"),
        helper.make_node("Add", ["m", "qkv.b"], ["qkv_out"], "qkv_bias"),
        _const("sizes", [8, 8, 8], TensorProto.INT64),
        helper.make_node("Split", ["qkv_out", "sizes"], ["q", "k", "v"], "split", axis=2),
        helper.make_node("Transpose", ["k"], ["kt"], "kt", perm=[0, 2, 1]),
        helper.make_node("MatMul", ["q", "kt"], ["s"], "scores"),
        _const("root", [8**0.5]),
        helper.make_node("Div", ["s", "root"], ["s2"], "scaled"),
        helper.make_node("Softmax", ["s2"], ["attn"], "softmax", axis=-1),
        helper.make_node("MatMul", ["attn", "v"], ["ctx"], "context"),
        helper.make_node("Add", ["ctx", "x"], ["res"], "residual"),
        _const("shape", [0, 32], TensorProto.INT64),
        helper.make_node("Reshape", ["res", "shape"], ["flat"], "flat"),
        _const("axes", [1], TensorProto.INT64),
        helper.make_node("Unsqueeze", ["flat", "axes"], ["u"], "unsq"),
        helper.make_node("Squeeze", ["u", "axes"], ["sq"], "sq"),
        helper.make_node("Gemm", ["sq", "head.w"], ["out"], "head"),
    ]
    weights = [
        _weight("ln.s", [8]),
        _weight("ln.b", [8]),
        _weight("qkv.w", [8, 24]),
        _weight("qkv.b", [24]),
        _weight("head.w", [32, 5]),
    ]
    return helper.make_graph(nodes, "attention", [x], [out, attn], weights)


def _layer_shapes_match(
    summary: dict[str, Any], inferred: dict[str, list[int]], names: dict[str, str]
) -> None:
    rows = {row["name"]: row for row in summary["layers"]}
    for layer, tensor in names.items():
        assert rows[layer]["output_shape"] == inferred[tensor], layer


def test_helper_image_graph(tmp_path: Path) -> None:
    path = _save(tmp_path, _image_graph())
    imported = from_onnx.read(path)
    summary = _summary(tmp_path, imported.text)
    # conv 8·27+8, bn 2·8 (+ 2·8 buffers), grouped conv 8·9, gamma 16, fc 16·10+10
    assert summary["totals"]["params"] == 224 + 16 + 72 + 16 + 170
    assert summary["totals"]["buffers"] == 16
    assert summary["output_shape"] == [10]
    inferred = _inferred(path)
    _layer_shapes_match(
        summary,
        inferred,
        {
            "c1": "t1",
            "bn": "t2",
            "pad": "t4",
            "c2": "t5",
            "clip": "t6",
            "avg": "t7",
            "cat": "t8",
            "scale": "t9",
            "shift": "t10",
            "up": "t11",
            "gap": "t12",
            "fc": "t14",
        },
    )
    text = imported.text
    assert "- reflectionpad2d: {padding: [1, 1, 1, 1]}" in text
    assert "- zeropad2d: {padding: [0, 1, 0, 1]}" in text  # c2's unequal pads, before it
    assert "- relu6:" in text
    assert "{kernel_size: 3, stride: 1, padding: 1, count_include_pad: false}" in text
    assert "- parameter: {shape: [16, 1, 1]}" in text
    assert "Add by a constant: an identity here" in text
    assert "- upsample: {scale_factor: 2, mode: nearest}" in text


def test_helper_sequence_graph(tmp_path: Path) -> None:
    path = _save(tmp_path, _sequence_graph())
    imported = from_onnx.read(path)
    summary = _summary(tmp_path, imported.text)
    assert summary["totals"]["params"] == 16 + (8 * 24 + 24) + 32 * 5
    assert summary["output_shape"] == [5]
    inferred = _inferred(path)
    _layer_shapes_match(
        summary,
        inferred,
        {
            "ln": "n",
            "qkv": "qkv_out",
            "kt": "kt",
            "scores": "s",
            "softmax": "attn",
            "context": "ctx",
            "residual": "res",
            "flat": "flat",
            "unsq": "u",
            "head": "out",
        },
    )
    text = imported.text
    assert "- linear: {out_features: 24}" in text  # MatMul + Add of the bias: one linear
    assert "- split: {split_size_or_sections: [8, 8, 8], dim: 2}" in text
    assert "from: [split, kt]" in text and "from: [softmax, split:2]" in text
    assert "outputs: [head, softmax]" in text


def test_dynamic_sizes_come_from_input_shape(tmp_path: Path) -> None:
    path = _save(tmp_path, _image_graph(dynamic=True))
    with pytest.raises(ModelError, match=r"dimension 2 of the input is dynamic.*--input"):
        from_onnx.read(path)
    imported = from_onnx.read(path, input_shape=(3, 32, 32))
    assert "input: [3, 32, 32]" in imported.text
    fixed = _save(tmp_path, _image_graph())
    with pytest.raises(ModelError, match="fixes dimension 2 of its input at 16; --input gives 32"):
        from_onnx.read(fixed, input_shape=(3, 32, 32))


def test_reference_model_with_embedded_weights(tmp_path: Path) -> None:
    text = _round_trip("tiny_resnet", tmp_path, with_weights=True)
    assert text.startswith("# Imported from tiny_resnet.onnx by cnncalc's ONNX importer")


# --------------------------------------------------------------------------------------------
# Every reference model, exported by torch
# --------------------------------------------------------------------------------------------


# What the ONNX importer does not translate yet, refused by name (docs/importing.md).
UNSUPPORTED = {
    "lstm_classifier": "moves the batch dimension",  # batch_first's transposes round the LSTM
    "siamese": "tied weights",  # one tower called twice: written by hand with `shares:`
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(REFERENCES) - set(UNSUPPORTED)))
def test_reference_round_trip(name: str, tmp_path: Path) -> None:
    _round_trip(name, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_reference_models_with_unsupported_ops_are_refused_by_name(
    name: str, tmp_path: Path
) -> None:
    ref = REFERENCES[name]
    path = tmp_path / f"{name}.onnx"
    _export(ref.build(), ref.example(), path)
    with pytest.raises(ModelError, match=UNSUPPORTED[name]):
        read_model(str(path))


class TinyViT(nn.Module):
    """Patches, a class token and position embedding, two encoder layers, the class head."""

    def __init__(self) -> None:
        super().__init__()
        self.patch = nn.Conv2d(3, 32, 4, 4)
        self.cls = nn.Parameter(torch.zeros(1, 1, 32))
        self.pos = nn.Parameter(torch.zeros(1, 17, 32))
        layer = nn.TransformerEncoderLayer(32, 4, 64, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        return self.head(self.enc(x)[:, 0])


class Attention(nn.Module):
    """Self-attention that returns its weights too: a layer of two outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(16, 4, batch_first=True)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out, weights = self.attn(x, x, x)
        return out, weights


@pytest.mark.slow
def test_transformer_round_trip(tmp_path: Path) -> None:
    """The exporter's MultiheadAttention becomes one layer; Shape → Slice → Concat sizes are
    folded; the class token (an Expand of a weight) is a parameter; `x[:, 0]` a narrow."""
    path = tmp_path / "vit.onnx"
    model = _export(TinyViT(), (3, 16, 16), path, with_weights=True)
    text = _compare(model, (3, 16, 16), path, tmp_path)
    assert (
        "- multiheadattention: {num_heads: 4, batch_first: true}\n        name: self_attn" in text
    )
    assert "  - parameter: {shape: [1, 32]}\n    name: cls\n" in text
    assert "- narrow: {dim: 1, start: 0, length: 1}" in text


def test_attention_weights_are_a_second_output(tmp_path: Path) -> None:
    path = tmp_path / "attention.onnx"
    _export(Attention(), (5, 16), path, with_weights=True)
    summary = _summary(tmp_path, from_onnx.read(str(path)).text)
    assert summary["totals"]["params"] == 4 * 16 * 16 + 4 * 16
    (row,) = summary["layers"]
    assert (row["name"], row["output_shape"]) == ("attn", [5, 16])
    assert "outputs: [attn, attn:1]" in from_onnx.read(str(path)).text


FIXTURES = Path(__file__).resolve().parent / "data" / "onnx"


def test_dynamo_export_vit(tmp_path: Path) -> None:
    """torch.export's exporter (dynamo=True) names nodes node_*, and keeps the module path in
    each node's metadata: the layers take the model's names from there."""
    text = _compare(TinyViT(), (3, 16, 16), FIXTURES / "tiny_vit_dynamo.onnx", tmp_path)
    assert "  - parameter: {shape: [1, 32]}\n    name: cls\n" in text


@pytest.mark.slow
def test_dynamo_export_resnet(tmp_path: Path) -> None:
    model = REFERENCES["resnet18"].build()
    text = _compare(model, (3, 224, 224), FIXTURES / "resnet18_dynamo.onnx", tmp_path)
    assert (
        "  - layer1_0: {out_channels: 64}  # [64, 56, 56]\n    name: layer1\n    repeat: 2\n"
        in text
    )


@pytest.mark.slow
def test_resnet_reads_like_the_model(tmp_path: Path) -> None:
    text = _round_trip("resnet18", tmp_path)
    # BasicBlock is one block whose width is an argument; layer2..layer4 one block too
    assert (
        "  - layer1_0: {out_channels: 64}  # [64, 56, 56]\n    name: layer1\n    repeat: 2\n"
        in text
    )
    assert "  - layer2: {out_channels: 256}  # [256, 14, 14]\n    name: layer3\n" in text
    assert "    args: {out_channels: null}" in text
    assert '{out_channels: "${out_channels}", kernel_size: 3, padding: 1, bias: false}' in text


@pytest.mark.slow
def test_eval_export_keeps_each_copied_weight(tmp_path: Path) -> None:
    """An eval-mode export without constant folding keeps BatchNorm, but writes weights equal
    in value as Identity copies of one initializer: each copy is still its own weight."""
    ref = REFERENCES["resnet18"]
    model = ref.build().eval()
    path = tmp_path / "eval.onnx"
    torch.onnx.export(
        model,
        (torch.zeros(1, *ref.input_shape),),
        str(path),
        dynamo=False,
        do_constant_folding=False,
    )
    assert any(n.op_type == "Identity" for n in onnx.load(str(path)).graph.node)
    summary = _summary(tmp_path, read_model(str(path)).text)
    assert summary["totals"]["params"] == sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------------------------
# Errors and hostile files
# --------------------------------------------------------------------------------------------


def _one_node(
    tmp_path: Path,
    node: onnx.NodeProto,
    shape: list[Any] | None = None,
    weights: tuple[TensorProto, ...] = (),
) -> str:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, shape or [1, 3, 8, 8])
    y = helper.make_tensor_value_info(node.output[0], TensorProto.FLOAT, None)
    return _save(tmp_path, helper.make_graph([node], "g", [x], [y], list(weights)))


@pytest.mark.parametrize(
    ("node", "message"),
    [
        (
            helper.make_node("TopK", ["x", "k"], ["y", "i"], "top", axis=1),
            "node 'top': TopK: cnncalc has no layer for this operator; write that part",
        ),
        (
            helper.make_node("Custom", ["x"], ["y"], "mine", domain="com.example"),
            "node 'mine': Custom: an operator of domain 'com.example'",
        ),
        (
            helper.make_node("Flatten", ["x"], ["y"], "f", axis=2),
            "node 'f': Flatten: flattens from axis 2, mixing the batch",
        ),
        (
            helper.make_node("Transpose", ["x"], ["y"], "t", perm=[1, 0, 2, 3]),
            "node 't': Transpose: perm [1, 0, 2, 3] moves the batch dimension",
        ),
        (
            helper.make_node("Conv", ["x", "x"], ["y"], "c", kernel_shape=[3, 3]),
            "node 'c': Conv: input 1 ('x') is not a weight stored in the file",
        ),
    ],
)
def test_unsupported_is_named(tmp_path: Path, node: onnx.NodeProto, message: str) -> None:
    k = helper.make_tensor("k", TensorProto.INT64, [1], [2])
    path = _one_node(tmp_path, node, weights=(k,))
    with pytest.raises(ModelError) as err:
        from_onnx.read(path)
    assert message in str(err.value)
    assert err.value.layer == node.name


def test_tied_weights_are_refused(tmp_path: Path) -> None:
    """One weight used by two layers would be counted twice: an error names both nodes."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])
    y = helper.make_tensor_value_info("b", TensorProto.FLOAT, None)
    nodes = [
        helper.make_node("Gemm", ["x", "w"], ["a"], "first", transB=1),
        helper.make_node("Gemm", ["a", "w"], ["b"], "second", transB=1),
    ]
    path = _save(tmp_path, helper.make_graph(nodes, "g", [x], [y], [_weight("w", [8, 8])]))
    with pytest.raises(ModelError, match="uses the weight 'w', which node 'first' uses too") as err:
        from_onnx.read(path)
    assert err.value.layer == "second"


def test_missing_onnx_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ModelError, match=r"needs the onnx package: pip install 'cnncalc\[onnx\]'"):
        from_onnx.read("model.onnx")


def test_not_a_model(tmp_path: Path) -> None:
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\xff\xfe not protobuf at all \x00" * 10)
    with pytest.raises(ModelError, match="not an ONNX model"):
        from_onnx.read(str(junk))
    with pytest.raises(ModelError, match="not a regular file"):
        from_onnx.read(str(tmp_path))


def test_file_and_node_caps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _save(tmp_path, _image_graph())
    monkeypatch.setattr(from_onnx, "MAX_FILE_BYTES", 100)
    with pytest.raises(ModelError, match=r"an ONNX model holds at most 100"):
        from_onnx.read(path)
    monkeypatch.setattr(from_onnx, "MAX_FILE_BYTES", 2**31 - 1)
    monkeypatch.setattr(from_onnx, "DEFAULT_MAX_LAYERS", 5)
    with pytest.raises(ModelError, match=r"the graph has 20 nodes; cnncalc reads at most 5"):
        from_onnx.read(path)


def test_hostile_dims(tmp_path: Path) -> None:
    node = helper.make_node("Conv", ["x", "w"], ["y"], "c")
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[-1, 3, 1, 1])
    path = _one_node(tmp_path, node, weights=(w,))
    with pytest.raises(ModelError, match=r"initializer 'w' has a size -1, outside 0..2⁶³−1"):
        from_onnx.read(path)
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2**62, 3, 2**20, 1])
    path = _one_node(tmp_path, node, weights=(w,))
    with pytest.raises(ModelError, match="does not build"):
        from_onnx.read(path)
    # sizes the file claims are only arithmetic: an input of 2⁶⁰ × 2⁶⁰ is refused at once
    relu = helper.make_node("Relu", ["x"], ["y"], "r")
    path = _one_node(tmp_path, relu, shape=[1, 3, 2**60, 2**60])
    with pytest.raises(ModelError, match="does not build"):
        from_onnx.read(path)


@pytest.mark.slow
def test_mangled_files_give_model_errors(tmp_path: Path) -> None:
    """Attributes and weight dims changed at random: the importer gives a spec or a
    ModelError, never another exception (a bug, exit code 3)."""
    rng = random.Random(14)
    good = _image_graph()
    for i in range(80):
        graph = onnx.GraphProto()
        graph.CopyFrom(good)
        node = rng.choice([n for n in graph.node if n.attribute] or list(graph.node))
        for attr in node.attribute:
            if attr.ints:
                attr.ints[rng.randrange(len(attr.ints))] = rng.choice([-3, 0, 1, 7, 2**40])
                if rng.random() < 0.3:
                    attr.ints.append(rng.choice([0, 1, 5]))
            elif attr.type == onnx.AttributeProto.INT:
                attr.i = rng.choice([-2, 0, 1, 3, 2**40])
        weight = rng.choice(list(graph.initializer))
        if rng.random() < 0.5:
            weight.dims[rng.randrange(len(weight.dims))] = rng.choice([0, 1, 5, 2**40])
        path = tmp_path / f"m{i}.onnx"
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
        with contextlib.suppress(ModelError):
            from_onnx.read(str(path))


def test_shape_arithmetic_is_not_evaluated_past_the_cap(tmp_path: Path) -> None:
    """A constant of 2⁴⁰ elements the file asks for is never made: the shape it would give
    stays unknown, and the Add that reads it is an error."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [
        _const("size", [1, 2**40], TensorProto.INT64),
        helper.make_node("ConstantOfShape", ["size"], ["big"], "big"),
        helper.make_node("Add", ["x", "big"], ["y"], "add"),
    ]
    path = _save(tmp_path, helper.make_graph(nodes, "g", [x], [y]))
    with pytest.raises(ModelError, match="node 'add': the shape of 'y' cannot be told before"):
        from_onnx.read(path)


def test_operators_listed_in_docs() -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "importing.md").read_text()
    section = docs.split("## ONNX", 1)[1].split("\n## ", 1)[0]
    for op in from_onnx.SUPPORTED:
        assert f"`{op}`" in section, op
