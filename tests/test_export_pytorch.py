"""`cnncalc export --to pytorch`: the generated module, run in PyTorch, agrees with cnncalc.

For every spec in specs/, every valid spec of tests/data/ and the specs below (which between
them use every layer type), the generated file passes `ruff check` (the project's rules), is
loaded from a temporary file with nothing but torch, and runs on zeros with a batch of 2 at the
spec's input shape. Then PyTorch and cnncalc's summary must agree on the totals (parameters,
trainable parameters, buffers without batch norm's step counter), on every output's shape, and
on every layer's output shapes, read by forward hooks keyed by module name (the spec's
qualified names); every tensor a module reads is checked too (forward pre-hooks), which covers
the merges written inline in `forward`.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch  # an oracle: installed with the test extras, never skipped
from hypothesis import given
from hypothesis import strategies as st

from cnncalc import api
from cnncalc.errors import SpecError
from cnncalc.exporters.pytorch import reserved
from cnncalc.safetext import python_class_name, python_string
from conftest import run, write_spec

ROOT = Path(__file__).resolve().parent.parent
BATCH = 2
SLOW = {"resnet50", "inception", "vgg16", "unet", "alexnet", "mobilenetv2"}


def _corpus() -> list[Any]:
    """specs/*.yaml and the valid tests/data/*.yaml, the big ones marked slow."""
    found = []
    for path in sorted([*ROOT.glob("specs/*.yaml"), *ROOT.glob("tests/data/*.yaml")]):
        try:
            api.graph_of(path)
        except SpecError:
            continue  # a spec written to fail
        marks = [pytest.mark.slow] if path.stem in SLOW else []
        found.append(pytest.param(path, id=str(path.relative_to(ROOT)), marks=marks))
    return found


def load(source: str, where: Path) -> Any:
    """The generated module, imported from a file as a user would."""
    path = where / "exported_model.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("exported_model", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ruff(path: Path) -> None:
    """`ruff check` with the project's rules, on the generated file."""
    exe = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    done = subprocess.run(
        [exe, "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _shapes(out: Any) -> list[tuple[int, ...]]:
    """Every tensor of a module's output, without the batch (which must be BATCH)."""
    if out is None:  # inside torch's own layers: attention without its weights
        return []
    if isinstance(out, torch.Tensor):
        assert out.shape[0] == BATCH, tuple(out.shape)
        return [tuple(out.shape[1:])]
    return [s for part in out for s in _shapes(part)]


def check_export(source: Any, tmp_path: Path, **kwargs: Any) -> Any:
    """Export, lint, load, run and compare; the model, for more checks."""
    graph = api.graph_of(source, **kwargs)
    summary = api.summarize(source, **kwargs)
    text = api.export(source, **kwargs)
    module = load(text, tmp_path)
    ruff(tmp_path / "exported_model.py")
    classes = [
        v for v in vars(module).values() if isinstance(v, type) and v.__module__ == module.__name__
    ]
    model = classes[-1]()
    model.eval()
    seen: dict[str, list[list[tuple[int, ...]]]] = {}
    read: dict[str, list[list[tuple[int, ...]]]] = {}
    for name, m in model.named_modules():
        m.register_forward_hook(
            lambda m, a, out, name=name: seen.setdefault(name, []).append(_shapes(out))
        )
        m.register_forward_pre_hook(
            lambda m, a, name=name: read.setdefault(name, []).append(_shapes(a))
        )
    xs = [torch.zeros(BATCH, *shape) for shape in graph.inputs.values()]
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = model(*xs)
    assert _shapes(out) == [graph.tensors[t] for t in graph.outputs]
    params = {id(p): p for p in model.parameters()}.values()
    assert sum(p.numel() for p in params) == summary.totals.params
    assert sum(p.numel() for p in params if p.requires_grad) == summary.totals.trainable_params
    buffers = [b for n, b in model.named_buffers() if not n.endswith("num_batches_tracked")]
    assert sum(b.numel() for b in buffers) == summary.totals.buffers
    modules = dict(model.named_modules())
    for layer in graph.layers:
        if layer.type == "parameter":
            assert tuple(model.get_parameter(layer.name).shape) == layer.shape
            continue
        if layer.name not in modules:  # written inline: + * - / torch.cat
            continue
        assert seen[layer.name] and seen[layer.name][0][: len(layer.result.shapes)] == list(
            layer.result.shapes
        ), layer.name
        if layer.shares is None:
            assert read[layer.name][0] == graph.input_shapes(layer), layer.name
    for name in modules:  # every module is the network, a layer, a group, or inside a layer
        parts = name.split(".")
        prefixes = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
        assert not name or prefixes & {*graph.by_name, *graph.group_outputs}, name
    return model


@pytest.mark.parametrize("path", _corpus())
def test_specs_export_exactly(path: Path, tmp_path: Path) -> None:
    check_export(path, tmp_path)


# Between them, these use every layer type `cnncalc layers` lists (test_every_type_is_covered).
TYPES_SPECS: dict[str, str] = {
    "conv_pool_same": """
input: [3, 17, 15]
layers:
  - conv2d: {out_channels: 8, kernel_size: 3, stride: 2, padding: same}
  - conv2d: {out_channels: 8, kernel_size: 4, padding: same, padding_mode: reflect}
  - conv2d: {out_channels: 8, kernel_size: 3, stride: 2, padding: same,
      padding_mode: replicate, groups: 2}
  - maxpool2d: {kernel_size: 3, stride: 2, padding: same}
  - avgpool2d: {kernel_size: 2, padding: same}
  - convtranspose2d: {out_channels: 4, kernel_size: 3, stride: 2, padding: 1, output_padding: 1}
  - maxpool2d: {kernel_size: 2, return_indices: true, ceil_mode: true}
  - avgpool2d: {kernel_size: 3, stride: 1, padding: 1, count_include_pad: false,
      divisor_override: 2}
  - adaptivemaxpool2d: {output_size: [2, null]}
  - adaptiveavgpool2d: {output_size: 1}
""",
    "one_d": """
input: [4, 20]
layers:
  - conv1d: {out_channels: 6, kernel_size: 3, dilation: 2, padding: valid}
  - batchnorm1d
  - maxpool1d: {kernel_size: 2}
  - avgpool1d: {kernel_size: 2, padding: 1}
  - convtranspose1d: {out_channels: 4, kernel_size: 2, stride: 2}
  - instancenorm1d: {affine: true}
  - adaptiveavgpool1d: {output_size: 3}
  - adaptivemaxpool1d: {output_size: 2}
  - zeropad1d: {padding: [1, 2]}
  - constantpad1d: {padding: 1, value: 0.5}
  - reflectionpad1d: {padding: 1}
  - replicationpad1d: {padding: [0, 1]}
  - circularpad1d: {padding: 1}
  - dropout1d
  - glu: {dim: 1}
""",
    "three_d": """
input: [2, 6, 6, 6]
layers:
  - conv3d: {out_channels: 4, kernel_size: 3, padding: 1}
  - batchnorm3d
  - instancenorm3d
  - maxpool3d: {kernel_size: 2}
  - avgpool3d: {kernel_size: 1}
  - convtranspose3d: {out_channels: 2, kernel_size: 2, stride: 2}
  - adaptiveavgpool3d: {output_size: 2}
  - adaptivemaxpool3d: {output_size: 1}
  - zeropad3d: {padding: 1}
  - constantpad3d: {padding: [1, 0, 0, 1, 1, 1], value: 1.0}
  - reflectionpad3d: {padding: 1}
  - replicationpad3d: {padding: 1}
  - circularpad3d: {padding: 1}
  - dropout3d: {p: 0.2}
""",
    "two_d_misc": """
input: [8, 8, 8]
layers:
  - zeropad2d: {padding: [1, 2, 0, 1]}
  - constantpad2d: {padding: -1, value: 2.0}
  - reflectionpad2d: {padding: 1}
  - replicationpad2d: {padding: 1}
  - circularpad2d: {padding: 1}
  - instancenorm2d
  - batchnorm2d: {momentum: 0.2, eps: 0.001}
  - groupnorm: {num_groups: 4}
  - layernorm2d
  - localresponsenorm: {size: 3}
  - dropout2d
  - pixelshuffle: {upscale_factor: 2}
  - pixelunshuffle: {downscale_factor: 2}
  - channelshuffle: {groups: 2}
  - upsample: {scale_factor: 2}
  - upsample: {size: [5, 7], mode: bilinear, align_corners: true}
  - upsample: {mode: nearest}
    from: [upsample_2, input]
  - layernorm: {normalized_shape: [8, 8]}
  - unflatten: {dim: 1, unflattened_size: [2, 4]}
  - reshape: {shape: [-1, 8]}
  - identity
  - flatten: {start_dim: 1, end_dim: 2}
""",
    "activations": """
input: [6, 10]
layers:
  - relu
  - relu6
  - leakyrelu: {negative_slope: 0.2}
  - prelu: {num_parameters: 6, init: 0.1}
  - elu: {alpha: 0.5}
  - celu
  - selu
  - gelu: {approximate: tanh}
  - silu
  - mish
  - sigmoid
  - logsigmoid
  - tanh
  - hardtanh: {min_val: -2.0, max_val: 2.0}
  - hardswish
  - hardsigmoid
  - softplus: {beta: 2.0}
  - softsign
  - tanhshrink
  - threshold: {threshold: 0.1, value: 20.0}
  - softmax
  - logsoftmax: {dim: 2}
  - softmin: {dim: -1}
  - dropout: {p: 0.1}
  - alphadropout
  - featurealphadropout
  - linear: {out_features: 3, bias: false}
""",
    "tensor_ops": """
input: [6, 4, 5]
layers:
  - chunk: {chunks: 3, dim: 1}
    name: [c0, c1, c2]
  - split: {split_size_or_sections: [2, 4], dim: 1}
    from: input
    name: [s0, s1]
  - unbind: {dim: 1}
    from: c1
    name: [u0, u1]
  - narrow: {dim: 3, start: 1, length: 3}
    from: input
  - permute: {dims: [0, 2, 3, 1]}
  - transpose: {dim0: 2, dim1: 3}
    from: c0
  - mean: {dim: [2, 3], keepdim: true}
    from: input
  - sum: {dim: 1}
    from: input
  - amax: {dim: -1, keepdim: true}
    from: c0
  - matmul:
    from: [c0, transpose_1]
  - einsum: {equation: 'bij,bkj->bik'}
    from: [u0, u1]
  - add:
    from: [c0, c2]
  - multiply:
    from: [add_1, c1]
  - subtract:
    from: [multiply_1, c0, c1]
  - divide:
    from: [subtract_1, amax_1]
  - concat: {dim: 1}
    from: [divide_1, c0, s1]
outputs: [concat_1, matmul_1, einsum_1, mean_1, sum_1, permute_1, s0, u1]
""",
    "sequences": """
inputs: {tokens: [12], memory: [7, 16]}
layers:
  - embedding: {num_embeddings: 100, embedding_dim: 16, padding_idx: 0}
  - lstm: {hidden_size: 8, num_layers: 2, bidirectional: true, proj_size: 4}
    name: [lstm, h_n, c_n]
  - gru: {hidden_size: 6, batch_first: true}
    from: embedding_1
    name: [gru, gru_h]
  - rnn: {hidden_size: 5, nonlinearity: relu, num_layers: 2}
    from: embedding_1
  - multiheadattention: {num_heads: 4}
    from: embedding_1
    name: [attn, weights]
  - multiheadattention: {num_heads: 2, kdim: 16, vdim: 16}
    from: [attn, memory, memory]
    name: [cross, cross_weights]
  - transformerencoderlayer: {nhead: 4, dim_feedforward: 32, norm_first: true}
    from: cross
  - transformerdecoderlayer: {nhead: 2, dim_feedforward: 24, activation: gelu}
    from: [transformerencoderlayer_1, memory]
  - linear: {out_features: 3}
    from: h_n
outputs: [transformerdecoderlayer_1, linear_1, c_n, lstm, gru_h, rnn_1:1, weights, cross_weights]
""",
    "parameters_shares_frozen": """
input: [5, 16]
blocks:
  tower:
    args: {width: 8}
    layers:
      - linear: {out_features: "${width}"}
        name: fc
      - relu
layers:
  - parameter: {shape: [1, 16]}
    name: token
  - concat: {dim: 1}
    from: [token, input]
  - parameter: {shape: [6, 16], trainable: false}
    name: pos
  - add:
    from: [concat_1, pos]
  - linear: {out_features: 16}
    name: encoder_fc
    trainable: false
  - linear: {out_features: 16}
    name: decoder_fc
    shares: encoder_fc
  - tower: {width: 8}
    name: tower_a
  - tower: {width: 8}
    name: tower_b
    from: decoder_fc
    shares: tower_a
  - tower: {width: 4}
    name: tower-c
    from: decoder_fc
    trainable: false
  - parameter: {shape: [4, 1, 1]}
    name: scale
outputs: [tower_a, tower_b, tower-c]
""",
    "names": """
name: "x\\"\\"\\"; import os  # \\u202e"
input: [3, 8, 8]
blocks:
  stage:
    args: {c: 4}
    layers:
      - conv2d: {out_channels: "${c}", kernel_size: 3, padding: 1}
        name: conv-1
      - relu:
        name: "0"
      - conv2d: {out_channels: "${c}", kernel_size: 1}
        name: class
layers:
  - stage: {c: 4}
    name: stem-1
  - stage: {c: 4}
    name: stages
    repeat: 3
  - conv2d: {out_channels: 2, kernel_size: 1}
    name: "1x1"
  - relu:
    name: lambda
    repeat: 2
""",
}


@pytest.mark.parametrize("name", TYPES_SPECS)
def test_every_layer_type_exports_exactly(name: str, tmp_path: Path) -> None:
    check_export(TYPES_SPECS[name], tmp_path)


def test_every_type_is_covered() -> None:
    from cnncalc.layers import TYPES

    used = {layer.type for text in TYPES_SPECS.values() for layer in api.graph_of(text).layers}
    assert set(TYPES) - used == set()


# Wiring and options beyond the layer types.
WIRING_SPECS: dict[str, str] = {
    "channels_last": """
input: {shape: [12, 10, 3], layout: channels_last}
layers:
  - conv2d: {out_channels: 4, kernel_size: 3, stride: 2, padding: same}
  - linear: {out_features: 5}
""",
    "read_inside_a_block": """
input: [3, 8, 8]
blocks:
  stage:
    args: {c: 4, deep: 1}
    layers:
      - conv2d: {out_channels: "${c}", kernel_size: 3, padding: 1}
        name: conv1
      - relu:
        when: "${deep > 1}"
      - conv2d: {out_channels: "${c * 2}", kernel_size: 1}
        name: conv2
layers:
  - stage: {c: 4}
    name: s1
  - stage: {c: 4, deep: 2}
    name: s2
    repeat: 2
  - concat:
    from: [s1.conv1, s2.0.conv1, s2]
  - conv2d: {out_channels: 2, kernel_size: 1}
    name: head
    repeat: 0
outputs: [head, s2.1.conv1]
""",
}


@pytest.mark.parametrize("name", WIRING_SPECS)
def test_wiring_exports_exactly(name: str, tmp_path: Path) -> None:
    check_export(WIRING_SPECS[name], tmp_path)


def test_another_input_shape(tmp_path: Path) -> None:
    """'same' padding at stride 2 is padded for the input size the module is built for."""
    check_export(WIRING_SPECS["channels_last"], tmp_path, input=(13, 9, 3))


def test_state_dict_keys_are_the_qualified_names(tmp_path: Path) -> None:
    model = check_export(ROOT / "specs" / "resnet18.yaml", tmp_path)
    keys = set(model.state_dict())
    assert {"conv1.weight", "layer1.0.conv1.weight", "layer2.0.downsample_conv.weight"} <= keys
    assert "layer4.1.bn2.running_var" in keys


def test_shared_and_frozen(tmp_path: Path) -> None:
    model = check_export(TYPES_SPECS["parameters_shares_frozen"], tmp_path)
    assert model.decoder_fc is model.encoder_fc
    assert model.tower_b.fc is model.tower_a.fc
    assert not model.encoder_fc.weight.requires_grad
    assert not model.pos.requires_grad and model.token.requires_grad
    assert not any(p.requires_grad for p in model.get_submodule("tower-c").parameters())
    assert "tower-c.fc.weight" in model.state_dict()


def test_module_attributes_are_all_known() -> None:
    """The names the exporter refuses cover every attribute nn.Module has in this torch."""
    attributes = set(dir(torch.nn.Module)) | set(vars(torch.nn.Module()))
    assert {name for name in attributes if not reserved(name)} == set()
    assert not reserved("conv1") and not reserved("_private") and not reserved("__x")


@pytest.mark.parametrize("name", ["train", "forward", "training", "_modules", "to", "__call__"])
def test_a_name_nn_module_uses_is_refused(tmp_path: Path, name: str) -> None:
    path = write_spec(
        tmp_path, f"input: [4]\nlayers:\n  - linear: {{out_features: 2}}\n    name: {name}\n"
    )
    result = run("export", path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert (
        f":3:5: layer '{name}': the name '{name}' is an attribute of torch's nn.Module"
        in result.stderr
    )


def test_a_block_named_so_is_refused(tmp_path: Path) -> None:
    text = "input: [4]\nblocks:\n  b:\n    layers: [relu]\nlayers:\n  - b:\n    name: eval\n"
    result = run("export", write_spec(tmp_path, text))
    assert result.exit_code == 2
    assert "layer 'eval': the name 'eval' is an attribute of torch's nn.Module" in result.stderr


def test_cli_writes_a_file(tmp_path: Path) -> None:
    out = tmp_path / "model.py"
    result = run("export", str(ROOT / "specs" / "lenet5.yaml"), "--to", "pytorch", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == f"wrote {out}\n"
    assert "class Lenet5(nn.Module):" in out.read_text()
    assert run("export", str(ROOT / "specs" / "lenet5.yaml")).stdout == out.read_text()


def test_cli_knows_only_pytorch(tmp_path: Path) -> None:
    result = run("export", str(ROOT / "specs" / "lenet5.yaml"), "--to", "keras")
    assert result.exit_code == 2
    assert "'keras' is not 'pytorch'" in result.stderr or "keras" in result.stderr


def test_a_bad_spec_is_located(tmp_path: Path) -> None:
    result = run("export", str(ROOT / "tests" / "data" / "bad_kernel.yaml"))
    assert result.exit_code == 2
    assert "bad_kernel.yaml:7:" in result.stderr


HOSTILE = [
    '"""; import os; os.system("x") #',
    "x'''\nimport os\n",
    "\x1b[2J\u202e\\n\\\\",
    "class",
    "123",
    "",
    "Ω-net",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_spec_name_stays_data(tmp_path: Path, name: str) -> None:
    """Whatever the name says, the module is imports, classes and the main guard; the name
    reads back exactly from the docstring, and the class name is a plain identifier."""
    import ast
    import json

    text = api.export(
        f"name: {json.dumps(name)}\ninput: [4]\nlayers:\n  - linear: {{out_features: 2}}\n"
    )
    tree = ast.parse(text)
    kinds = [type(node).__name__ for node in tree.body]
    assert kinds == ["Expr", "Import", "ImportFrom", "ClassDef", "If"]
    assert text.isascii()
    cls = tree.body[3]
    assert isinstance(cls, ast.ClassDef) and cls.name.isidentifier() and cls.name.isascii()
    name = name or "<string>"  # no name: the source's, as for a file's stem
    assert ast.get_docstring(cls, clean=False) == f"The spec '{name}'."
    assert ast.get_docstring(tree, clean=False) == (
        f"A PyTorch module written by cnncalc export from the spec '{name}'."
    )
    load(text, tmp_path)


@given(st.text())
def test_python_string_is_one_safe_literal(text: str) -> None:
    import ast

    literal = python_string(text)
    assert literal.isascii() and literal.isprintable()
    assert '"' not in literal and "'" not in literal[1:-1]
    assert ast.literal_eval(literal) == text


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("tiny-resnet", "TinyResnet"),
        ("resnet50", "Resnet50"),
        ("my net v2", "MyNetV2"),
        ("3d-unet", "Network3dUnet"),
        ("", "Network"),
        ("Ω", "Network"),
        ("None", "None_"),
        ('"""; import os', "ImportOs"),
    ],
)
def test_class_names(text: str, name: str) -> None:
    assert python_class_name(text, "Network") == name
