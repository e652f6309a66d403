"""Hostile model files given to `cnncalc import` and `verify --against`: each is refused with
one located line and exit code 2 (never a traceback or exit 3), within tests/bounds.py's CPU
time and memory where it could cost, and no file but the one named is read. Every model is
built here, with onnx.helper, json and zipfile; a seeded mutation fuzzer over small valid
ONNX and Keras files closes the module."""

from __future__ import annotations

import copy
import json
import os
import random
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bounds import assert_refused, run_bounded
from conftest import run

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

SECRET = 1234.5678  # the double a hostile model would read from a file it names
X = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])


def _save(
    path: Path,
    nodes: list[Any],
    inputs: Any = (X,),
    outputs: Any = None,
    inits: Any = (),
    **model: Any,
) -> str:
    outputs = outputs or [helper.make_tensor_value_info(nodes[-1].output[0], 1, None)]
    graph = helper.make_graph(nodes, "g", list(inputs), list(outputs), list(inits))
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], **model)
    path.write_bytes(proto.SerializeToString())
    return str(path)


def _imported(*args: str) -> tuple[int, str]:
    result = run("import", *args)
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stderr


def _refused(path: str, *phrases: str) -> None:
    """In process (a bug raises): exit 2, one line naming each phrase."""
    code, err = _imported(path)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    for phrase in phrases:
        assert phrase in err, err


# --- 1. external data is never resolved -----------------------------------------------------


def _external(name: str, location: str, dtype: int = TensorProto.DOUBLE, n: int = 1) -> Any:
    tensor = TensorProto(name=name, data_type=dtype, dims=[n])
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", str(8 * n))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return tensor


def _leaky_models(tmp: Path) -> dict[str, str]:
    """Models that would print bytes of `.git/config` if onnx resolved their external data."""
    ext = _external("c", ".git/config")
    xd = helper.make_tensor_value_info("x", TensorProto.DOUBLE, [1, 3, 8, 8])
    constant = helper.make_node("Constant", [], ["c"], value=ext)
    models = {
        "clip": _save(
            tmp / "clip.onnx", [constant, helper.make_node("Clip", ["x", "c"], ["y"])], [xd]
        ),
        "pad": _save(
            tmp / "pad.onnx",
            [
                helper.make_node("Constant", [], ["p"], value=_external("p", ".git/config", 7, 8)),
                helper.make_node("Pad", ["x", "p"], ["y"]),
            ],
        ),
    }
    shape = helper.make_node("Constant", [], ["s"], value=helper.make_tensor("s", 7, [1], [4]))
    fill = helper.make_node("ConstantOfShape", ["s"], ["f"], value=_external("v", ".git/config"))
    models["constantofshape"] = _save(
        tmp / "cos.onnx", [shape, fill, helper.make_node("Add", ["x", "f"], ["y"])], [xd]
    )
    sparse = helper.make_sparse_tensor(
        _external("sv", ".git/config"), helper.make_tensor("si", 7, [1], [0]), [4]
    )
    models["sparse"] = _save(
        tmp / "sparse.onnx",
        [
            helper.make_node("Constant", [], ["c"], sparse_value=sparse),
            helper.make_node("Relu", ["x"], ["y"]),
        ],
    )
    branch = helper.make_graph(
        [helper.make_node("Identity", ["w"], ["o"])],
        "b",
        [],
        [helper.make_tensor_value_info("o", TensorProto.DOUBLE, None)],
        [_external("w", ".git/config")],
    )
    cond = helper.make_tensor_value_info("cond", TensorProto.BOOL, [1, 1])
    models["subgraph"] = _save(
        tmp / "sub.onnx",
        [
            helper.make_node("If", ["cond"], ["z"], then_branch=branch, else_branch=branch),
            helper.make_node("Relu", ["x"], ["y"]),
        ],
        [X, cond],
    )
    return models


@pytest.mark.parametrize("case", ["clip", "pad", "constantofshape", "sparse", "subgraph"])
def test_external_data_is_never_read(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_bytes(struct.pack("<8d", *[SECRET] * 8))
    path = _leaky_models(tmp_path)[case]
    monkeypatch.chdir(tmp_path)
    opened: list[str] = []
    real_open = open

    def watched(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    spec = tmp_path / "s.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - relu: {}\n")
    monkeypatch.setattr("builtins.open", watched)
    for args in (("import", path), ("verify", str(spec), "--against", path)):
        result = run(*args)
        assert result.exit_code == 2, result.stderr
        assert "external data" in result.stderr and "never reads" in result.stderr
        assert str(SECRET) not in result.stdout + result.stderr
    assert not any("config" in name for name in opened), opened


def test_a_weight_kept_as_external_data_is_not_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The main graph's initializers may keep their data outside: the dims are all cnncalc
    reads, and the file they name is not opened (even a Reshape's shape: left unknown)."""
    (tmp_path / "shape.bin").write_bytes(struct.pack("<2q", 1, 192))
    reshape = helper.make_node("Reshape", ["x", "s"], ["y"])
    path = _save(tmp_path / "m.onnx", [reshape], inits=[_external("s", "shape.bin", 7, 2)])
    monkeypatch.chdir(tmp_path)
    code, err = _imported(path)
    assert code == 2 and "cannot be told before running the model" in err


# --- 2. shape inference rounds, nodes in subgraphs: bounded --------------------------------


@pytest.mark.slow
def test_shape_inference_rounds_are_bounded_by_the_node_count(tmp_path: Path) -> None:
    """40 chains of Shape → Neg → Neg → Reshape, each known only after the one before is
    folded, ahead of 49,800 nodes: 32 rounds took 19.6 CPU s and 694 MB; now 4 rounds."""
    nodes, a = [], "x"
    for k in range(40):
        nodes += [
            helper.make_node("Shape", [a], [f"s{k}"]),
            helper.make_node("Neg", [f"s{k}"], [f"n{k}"]),
            helper.make_node("Neg", [f"n{k}"], [f"m{k}"]),
            helper.make_node("Reshape", [a, f"m{k}"], [f"a{k}"]),
        ]
        a = f"a{k}"
    for i in range(49_800):
        nodes.append(helper.make_node("Relu", [a], [f"r{i}"]))
        a = f"r{i}"
    path = _save(tmp_path / "rounds.onnx", nodes)
    assert_refused(run_bounded("import", path), "after 4 rounds of it")


def _nested_ifs(depth: int) -> Any:
    out = helper.make_tensor_value_info("o", TensorProto.FLOAT, None)
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["o"])], "b", [], [out])
    for _ in range(depth):
        node = helper.make_node("If", ["cond"], ["o"], then_branch=graph, else_branch=graph)
        graph = helper.make_graph([node], "b", [], [out])
    return graph


@pytest.mark.slow
def test_nodes_in_subgraphs_count(tmp_path: Path) -> None:
    """A branch of 60,000 nodes counts as they do in the main graph: refused at 50,000."""
    out = helper.make_tensor_value_info("r59999", TensorProto.FLOAT, None)
    relus = [
        helper.make_node("Relu", [f"r{i - 1}" if i else "x"], [f"r{i}"]) for i in range(60_000)
    ]
    branch = helper.make_graph(relus, "b", [], [out])
    cond = helper.make_tensor_value_info("cond", TensorProto.BOOL, [1, 1])
    nodes = [helper.make_node("If", ["cond"], ["y"], then_branch=branch, else_branch=branch)]
    path = _save(tmp_path / "ifs.onnx", nodes, [X, cond])
    assert_refused(run_bounded("import", path), "subgraphs' and functions' included")


@pytest.mark.slow
def test_nested_subgraphs_are_refused_unparsed(tmp_path: Path) -> None:
    """If inside If, each branch the same subgraph: 2¹⁷ nodes in 3 MB of file (2 GB to parse
    once 217 MB): the walk before parsing stops at its field count."""
    cond = helper.make_tensor_value_info("cond", TensorProto.BOOL, [1, 1])
    sub = _nested_ifs(15)
    nodes = [helper.make_node("If", ["cond"], ["y"], then_branch=sub, else_branch=sub)]
    path = _save(tmp_path / "ifs.onnx", nodes, [X, cond])
    assert_refused(run_bounded("import", path), "larger than cnncalc reads")


# --- 3. only regular files ------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", ["m.json", "m.keras", "m.onnx"])
def test_a_fifo_is_refused_at_once(name: str, tmp_path: Path) -> None:
    fifo = tmp_path / name
    os.mkfifo(fifo)
    spec = tmp_path / "s.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - relu: {}\n")
    assert_refused(run_bounded("import", str(fifo)), "FIFO", "only regular files are read")
    assert_refused(run_bounded("verify", str(spec), "--against", str(fifo)), "FIFO")


# --- 4. malformed ONNX nodes ----------------------------------------------------------------


def _relu() -> Any:
    return helper.make_node("Relu", ["x"], ["y"])


def _attention_wrong_rank(tmp: Path) -> str:
    """A MultiheadAttention (known by its weights' names) whose softmax is of rank 1."""
    w = helper.make_tensor("attn.in_proj_weight", 1, [8], [0.0] * 8)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8])
    flat = helper.make_tensor("flat", 7, [1], [32])
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], "/attn/Transpose", perm=[1, 0, 2]),
        helper.make_node("Add", ["t", "attn.in_proj_weight"], ["u"], "/attn/Add"),
        helper.make_node("Reshape", ["u", "flat"], ["r"], "/attn/Reshape"),
        helper.make_node("Softmax", ["r"], ["y"], "/attn/Softmax"),
    ]
    return _save(tmp / "attn.onnx", nodes, [x], inits=[w, flat])


MALFORMED: dict[str, tuple[Callable[[Path], str], tuple[str, ...]]] = {
    "constant without output": (
        lambda t: _save(
            t / "m.onnx", [helper.make_node("Constant", [], [], "k", value_int=1), _relu()]
        ),
        ("node 'k'", "without an output"),
    ),
    "constant value as ints": (
        lambda t: _save(t / "m.onnx", [_constant_ints(), _relu()]),
        ("node 'k'", "of type INTS"),
    ),
    "identity without output on a weight": (
        lambda t: _save(
            t / "m.onnx",
            [helper.make_node("Identity", ["w"], [], "i"), _relu()],
            inits=[helper.make_tensor("w", 1, [2], [1.0, 2.0])],
        ),
        ("node 'i'", "without an output"),
    ),
    "input declared twice": (
        lambda t: _save(
            t / "m.onnx", [_relu()], [X, helper.make_tensor_value_info("x", 1, [1, 3, 8])]
        ),
        ("node 'x'", "declared twice"),
    ),
    "shape without input": (
        lambda t: _save(t / "m.onnx", [helper.make_node("Shape", [], ["s"], "sh"), _relu()]),
        ("node 'sh'", "without its first input"),
    ),
    "expand of an empty name": (
        lambda t: _save(t / "m.onnx", [helper.make_node("Expand", ["x", ""], ["y"], "e")]),
        ("node 'e'",),
    ),
    "expand from an empty name": (
        lambda t: _save(t / "m.onnx", [helper.make_node("Expand", ["", "x"], ["y"], "e")]),
        ("node 'e'", "without its first input"),
    ),
    "a tensor made twice": (
        lambda t: _save(
            t / "m.onnx",
            [
                helper.make_node("Relu", ["x"], ["y"], "a"),
                helper.make_node("Relu", ["x"], ["y"], "b"),
            ],
        ),
        ("node 'b'", "makes tensor 'y'"),
    ),
    "attention of the wrong rank": (_attention_wrong_rank, ("attn", "softmax has 1 dimensions")),
}


def _constant_ints() -> Any:
    node = helper.make_node("Constant", [], ["c"], "k")
    node.attribute.append(helper.make_attribute("value", [1, 2, 3]))
    return node


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_onnx_is_named(case: str, tmp_path: Path) -> None:
    make, phrases = MALFORMED[case]
    _refused(make(tmp_path), *phrases)


# --- 5. malformed Keras configs and .keras zips ---------------------------------------------


def _input(name: str = "in", shape: Any = (None, 4)) -> dict[str, Any]:
    return {
        "class_name": "InputLayer",
        "name": name,
        "config": {"batch_shape": list(shape), "name": name},
    }


def _sequential(*layers: Any) -> dict[str, Any]:
    return {"class_name": "Sequential", "config": {"layers": [_input(), *layers]}}


def _functional(*layers: Any) -> dict[str, Any]:
    return {
        "class_name": "Functional",
        "config": {
            "layers": [_input(), *layers],
            "input_layers": [["in", 0, 0]],
            "output_layers": [["d", 0, 0]],
        },
    }


def _tensor(config: Any) -> dict[str, Any]:
    return {"class_name": "__keras_tensor__", "config": config}


KERAS_BAD: dict[str, tuple[Any, tuple[str, ...]]] = {
    "config a string": (
        _sequential({"class_name": "Dense", "name": "d", "config": "x"}),
        ("node 'd'", "config is a str"),
    ),
    "input of rank 0": (
        {
            "class_name": "Sequential",
            "config": {
                "layers": [
                    _input(shape=[None]),
                    {"class_name": "Dense", "config": {"name": "d", "units": 3}},
                ]
            },
        },
        ("not a shape",),
    ),
    "input layer config an int": (
        {
            "class_name": "Sequential",
            "config": {"layers": [{"class_name": "InputLayer", "name": "in", "config": 1}]},
        },
        ("config is a int",),
    ),
    "inbound nodes an int": (
        _functional(
            {"class_name": "Dense", "name": "d", "config": {"units": 3}, "inbound_nodes": 5}
        ),
        ("node 'd'", "inbound_nodes is a int"),
    ),
    "kwargs a list": (
        _functional(
            {
                "class_name": "Dense",
                "name": "d",
                "config": {"units": 3},
                "inbound_nodes": [{"args": [], "kwargs": [None]}],
            }
        ),
        ("node 'd'", "kwargs is not a mapping"),
    ),
    "tensor config a list": (
        _functional(
            {
                "class_name": "Dense",
                "name": "d",
                "config": {"units": 3},
                "inbound_nodes": [{"args": [_tensor([-1, 3])]}],
            }
        ),
        ("node 'd'", "not a Keras tensor"),
    ),
    "a layer named null": (
        _sequential({"class_name": "Dense", "name": None, "config": {"units": 3}}),
        ("without a name",),
    ),
    "config a list in a functional model": (
        _functional({"class_name": "Dense", "name": "d", "config": [1], "inbound_nodes": []}),
        ("node 'd'", "config is a list"),
    ),
    "an input listed twice": (
        {
            "class_name": "Functional",
            "config": {
                "layers": [_input()],
                "input_layers": [["in", 0, 0], ["in", 0, 0]],
                "output_layers": [],
            },
        },
        ("names an input more than once",),
    ),
    "two layers of one name": (
        _sequential({"class_name": "Dense", "name": "in", "config": {"units": 3}}),
        ("node 'in'", "two layers of this name"),
    ),
}


@pytest.mark.parametrize("case", list(KERAS_BAD))
def test_malformed_keras_is_named(case: str, tmp_path: Path) -> None:
    config, phrases = KERAS_BAD[case]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(config))
    _refused(str(path), *phrases)


GOOD_KERAS = _sequential({"class_name": "Dense", "config": {"name": "d", "units": 3}})


def _zip(path: Path, method: int = zipfile.ZIP_DEFLATED) -> bytearray:
    with zipfile.ZipFile(path, "w", method) as archive:
        archive.writestr("config.json", json.dumps(GOOD_KERAS))
    return bytearray(path.read_bytes())


def _encrypted(data: bytearray) -> bytearray:
    """The 'encrypted' flag set in the local header and the central directory."""
    for signature, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        data[data.find(signature) + at] |= 1
    return data


def _method(data: bytearray, method: int) -> bytearray:
    for signature, at in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        i = data.find(signature) + at
        data[i : i + 2] = struct.pack("<H", method)
    return data


def _corrupt(data: bytearray) -> bytearray:
    """The deflate stream's first 20 bytes inverted (the CRC is not reached)."""
    i = data.find(b"PK\x03\x04")
    start = i + 30 + struct.unpack("<H", data[i + 26 : i + 28])[0]
    for k in range(start, start + 20):
        data[k] ^= 0xFF
    return data


@pytest.mark.parametrize(
    ("change", "phrase"),
    [
        (_encrypted, "encrypted"),
        (lambda d: _method(d, 99), "compression method"),
        (_corrupt, "a broken .keras (zip) file"),
    ],
)
def test_broken_keras_zips(change: Any, phrase: str, tmp_path: Path) -> None:
    path = tmp_path / "m.keras"
    _zip(path)  # a good one first: it imports
    assert _imported(str(path))[0] == 0
    path.write_bytes(change(_zip(path)))
    _refused(str(path), phrase)


# --- 6. memory: the sizes read are bounded, MemoryError is exit 2 ---------------------------


def test_a_keras_config_past_16_mib_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(b" " * (16 * 2**20 + 1))
    _refused(str(path), "cnncalc reads at most 16,777,216")


@pytest.mark.slow
def test_the_largest_keras_config_parses_within_a_gib(tmp_path: Path) -> None:
    """16 MiB of `[[]],` (the JSON that parses to the most memory per byte, 36×) beside a
    valid model: it imports within 1 GiB of address space."""
    text = json.dumps(GOOD_KERAS)[:-1] + ', "junk": [' + "[[]]," * 3_355_000 + "[]]}"
    path = tmp_path / "m.json"
    path.write_text(text)
    assert 15 * 2**20 < path.stat().st_size <= 16 * 2**20
    run = run_bounded("import", str(path))
    assert run.exit_code == 0, run.describe()


def _wire(field: int, payload: bytes) -> bytes:
    """A protobuf length-delimited field (lengths here are under 2²¹)."""
    n, out = len(payload), bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes([field << 3 | 2]) + bytes(out) + payload


@pytest.mark.slow
def test_empty_attributes_are_refused_before_protobuf_parses_them(tmp_path: Path) -> None:
    """One node of 2 million empty attributes in 4 MiB: protobuf would make 0.4 GB of it."""
    node = _wire(1, b"x") + _wire(2, b"y") + _wire(4, b"Relu") + _wire(5, b"") * (1 << 21)
    graph = _wire(1, node) + _wire(11, X.SerializeToString())
    path = tmp_path / "m.onnx"
    path.write_bytes(b"\x08\x08" + _wire(7, graph) + _wire(8, b"\x10\x11"))
    assert_refused(run_bounded("import", str(path)), "larger than cnncalc reads")


@pytest.mark.slow
def test_inline_weights_are_never_loaded(tmp_path: Path) -> None:
    """A 400 MB weight written in the file: skipped, not read, so it imports within 1 GiB
    (it ran out of memory before)."""
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[25_000, 4_096])
    w.raw_data = bytes(4 * 25_000 * 4_096)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4_096])
    path = _save(
        tmp_path / "m.onnx", [helper.make_node("Gemm", ["x", "w"], ["y"], transB=1)], [x], inits=[w]
    )
    del w
    run = run_bounded("import", path)
    assert run.exit_code == 0, run.describe()
    assert "out_features: 25000" in run.stdout


def test_out_of_memory_is_exit_2(tmp_path: Path) -> None:
    """A model within the limits but past the process's memory: exit 2, one line."""
    text = json.dumps(GOOD_KERAS)[:-1] + ', "junk": [' + "[[]]," * 2_000_000 + "[]]}"
    path = tmp_path / "m.json"
    path.write_text(text)
    run = run_bounded("import", str(path), memory_bytes=300 * 2**20)
    assert_refused(run, "out of memory reading the model")


# --- 7. a seeded mutation fuzzer over small valid models ------------------------------------


def _small_onnx() -> Any:
    w = helper.make_tensor("w", 1, [4, 3, 3, 3], [0.1] * 108)
    b = helper.make_tensor("b", 1, [4], [0.0] * 4)
    fc = helper.make_tensor("fc", 1, [2, 4], [0.1] * 8)
    pads = helper.make_tensor("pads", 7, [8], [0, 0, 1, 1, 0, 0, 1, 1])
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], "conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], "relu"),
        helper.make_node("Constant", [], ["p"], "pads", value=pads),
        helper.make_node("Pad", ["r", "p"], ["q"], "pad"),
        helper.make_node("MaxPool", ["q"], ["m"], "pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Shape", ["m"], ["s"], "shape"),
        helper.make_node("GlobalAveragePool", ["m"], ["g"], "gap"),
        helper.make_node("Flatten", ["g"], ["f"], "flat", axis=1),
        helper.make_node("Gemm", ["f", "fc"], ["y"], "fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "g", [X], [helper.make_tensor_value_info("y", 1, None)], [w, b, fc]
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


INTS = [0, -1, 1, 2, 3, 7, 1024, 2**31, 2**40, -(2**40), 2**62]
OPS = [
    "Conv",
    "Gemm",
    "MatMul",
    "Reshape",
    "Concat",
    "Slice",
    "Gather",
    "Transpose",
    "Pad",
    "Resize",
    "Softmax",
    "BatchNormalization",
    "MaxPool",
    "Flatten",
    "Add",
    "Identity",
    "Constant",
    "Shape",
    "Expand",
    "Split",
    "ConstantOfShape",
    "Range",
]


def _mutate_onnx(model: Any, rng: random.Random) -> Any:
    model = copy.deepcopy(model)
    g = model.graph
    node = rng.choice(g.node)
    r = rng.random()
    if r < 0.3 and node.attribute:
        a = rng.choice(node.attribute)
        if a.type == onnx.AttributeProto.INTS:
            if a.ints and rng.random() < 0.7:
                a.ints[rng.randrange(len(a.ints))] = rng.choice(INTS)
            else:
                a.ints.append(rng.choice(INTS))
        elif a.type == onnx.AttributeProto.INT:
            a.i = rng.choice(INTS)
        elif a.type == onnx.AttributeProto.TENSOR:
            a.t.dims.append(rng.choice(INTS))
    elif r < 0.45 and node.input:
        node.input[rng.randrange(len(node.input))] = rng.choice(["", "x", "y", "nope", "w"])
    elif r < 0.55:
        if node.input and rng.random() < 0.5:
            node.input.pop()
        elif node.output:
            node.output.pop()
    elif r < 0.7:
        node.op_type = rng.choice(OPS)
    elif r < 0.8:
        init = rng.choice(g.initializer)
        init.dims[rng.randrange(len(init.dims))] = rng.choice(INTS)
    elif r < 0.9:
        del g.node[rng.randrange(len(g.node))]
    else:
        rng.choice(g.input[0].type.tensor_type.shape.dim).dim_value = rng.choice(INTS)
    return model


def _small_keras() -> dict[str, Any]:
    def layer(cls: str, name: str, src: str, shape: list[Any], **config: Any) -> Any:
        tensor = _tensor({"shape": shape, "keras_history": [src, 0, 0]})
        return {
            "class_name": cls,
            "name": name,
            "config": {"name": name, **config},
            "inbound_nodes": [{"args": [tensor], "kwargs": {}}],
        }

    image = [None, 8, 8, 3]
    return {
        "class_name": "Functional",
        "config": {
            "name": "m",
            "layers": [
                _input("img", image),
                layer(
                    "Conv2D",
                    "conv",
                    "img",
                    image,
                    filters=4,
                    kernel_size=[3, 3],
                    strides=[1, 1],
                    padding="same",
                    activation="relu",
                    use_bias=True,
                ),
                layer("BatchNormalization", "bn", "conv", [None, 8, 8, 4], axis=-1, epsilon=0.001),
                layer(
                    "MaxPooling2D",
                    "pool",
                    "bn",
                    [None, 8, 8, 4],
                    pool_size=[2, 2],
                    strides=[2, 2],
                    padding="valid",
                ),
                layer("Flatten", "flat", "pool", [None, 4, 4, 4]),
                layer("Dense", "d", "flat", [None, 64], units=3, activation="softmax"),
            ],
            "input_layers": [["img", 0, 0]],
            "output_layers": [["d", 0, 0]],
        },
    }


ODD = [None, True, -1, 0, 2**40, 1.5, "", "x", [], {}, [None], [1, 2, 3], {"a": 1}]


def _mutate_json(value: Any, rng: random.Random) -> Any:
    """One random place in a JSON tree replaced by an odd value, deleted or duplicated."""
    value = copy.deepcopy(value)
    parent, key = None, None
    here = value
    while isinstance(here, (dict, list)) and here and rng.random() < 0.8:
        parent = here
        key = rng.choice(list(here)) if isinstance(here, dict) else rng.randrange(len(here))
        here = here[key]
    if parent is None:
        return value
    r = rng.random()
    if r < 0.6:
        parent[key] = rng.choice(ODD)
    elif r < 0.8:
        del parent[key]
    elif isinstance(parent, list):
        parent.append(copy.deepcopy(parent[key]))
    return value


@pytest.mark.slow
def test_fuzz_onnx(tmp_path: Path) -> None:
    rng = random.Random(20261202)
    base = _small_onnx()
    path = tmp_path / "m.onnx"
    path.write_bytes(base.SerializeToString())
    assert _imported(str(path))[0] == 0
    for _ in range(400):
        model = _mutate_onnx(base, rng)
        if rng.random() < 0.4:
            model = _mutate_onnx(model, rng)
        path.write_bytes(model.SerializeToString())
        code, err = _imported(str(path))
        assert code in (0, 2), err


@pytest.mark.slow
def test_fuzz_keras(tmp_path: Path) -> None:
    rng = random.Random(20261202)
    base = _small_keras()
    path = tmp_path / "m.json"
    path.write_text(json.dumps(base))
    assert _imported(str(path))[0] == 0
    for _ in range(1_000):
        config = _mutate_json(base, rng)
        for _ in range(rng.randrange(3)):
            config = _mutate_json(config, rng)
        path.write_text(json.dumps(config))
        code, err = _imported(str(path))
        assert code in (0, 2), f"{err}\n{json.dumps(config)}"
