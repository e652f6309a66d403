"""The Keras importer against Keras itself: models built with Keras 3 (torch backend), their
JSON written, imported, summarized through the CLI, and compared with what Keras counts —
`count_params()`, the non-trainable weights, each layer's output shape."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from math import prod
from pathlib import Path
from typing import Any

import pytest

from cnncalc.importers import ModelError, from_keras
from conftest import run, write_spec

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported, in the fixture


@pytest.fixture(scope="module")
def keras() -> Any:
    import keras

    return keras


def summary(text: str, tmp_path: Path) -> dict[str, Any]:
    result = run("summarize", "--format", "json", write_spec(tmp_path, text))
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def rows_of(document: dict[str, Any], layer: str) -> list[dict[str, Any]]:
    """The spec's rows for a Keras layer: named after it, or `layer-suffix` for the entries
    a layer becomes (conv then activation, depthwise then pointwise, ...)."""
    return [
        r for r in document["layers"] if r["name"] == layer or r["name"].startswith(layer + "-")
    ]


def round_trip(model: Any, tmp_path: Path) -> dict[str, Any]:
    """Import the model's JSON; assert the summary's figures are Keras's; the summary."""
    path = tmp_path / "model.json"
    path.write_text(model.to_json())
    imported = from_keras.read(str(path))
    assert imported.kind == "keras" and imported.source == str(path)
    assert imported.text.startswith(f"# Imported from the Keras model {path}\n")
    document = summary(imported.text, tmp_path)
    totals = document["totals"]
    frozen = sum(prod(w.shape) for w in model.non_trainable_weights)
    # Keras counts its moving statistics as weights; cnncalc as buffers
    assert totals["params"] + totals["buffers"] == model.count_params()
    assert totals["non_trainable_params"] == frozen
    # a shortcut's 1×1 field beside a 3×3 one is a true warning (receptive fields); any
    # other, a linear on a channels-last map say, would be the importer's fault
    assert [w for w in document["warnings"] if "not centred alike" not in w] == []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        rows = rows_of(document, layer.name)
        assert rows, f"no row for {layer.name}"
        assert tuple(rows[-1]["output_shape"]) == tuple(layer.output.shape[1:]), layer.name
    return document


def small_cnn(keras: Any) -> Any:
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(16, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, strides=2, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.AveragePooling2D(3, strides=2, padding="same"),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )


def resnet_block(keras: Any) -> Any:
    layers = keras.layers
    x = image = keras.Input((32, 32, 3))
    x = layers.Conv2D(16, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    y = layers.Conv2D(16, 3, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU()(y)
    y = layers.Conv2D(16, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    x = layers.ReLU()(layers.Add()([x, y]))
    short = layers.Conv2D(32, 1, strides=2)(x)
    y = layers.Conv2D(32, 3, strides=2, padding="same")(x)
    x = layers.Add()([short, y])
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(image, layers.Dense(10)(x))


def mobilenet_style(keras: Any) -> Any:
    layers = keras.layers
    x = image = keras.Input((64, 64, 3))
    x = layers.ZeroPadding2D(((0, 1), (0, 1)))(x)
    x = layers.Conv2D(8, 3, strides=2, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU(6.0)(x)
    x = layers.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU(6.0)(x)
    x = layers.DepthwiseConv2D(3, strides=2, depth_multiplier=2, padding="same")(x)
    x = layers.SeparableConv2D(24, 3, padding="same", activation="relu")(x)
    x = layers.SeparableConv2D(32, 3, strides=2, use_bias=False)(x)
    x = layers.GlobalMaxPooling2D()(x)
    return keras.Model(image, layers.Dense(5)(x))


def lstm_text(keras: Any) -> Any:
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((40,)),
            layers.Embedding(1000, 32),
            layers.LSTM(24, return_sequences=True),
            layers.LSTM(16),
            layers.Dense(3, activation="softmax"),
        ]
    )


def recurrent_stack(keras: Any) -> Any:
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((12, 6)),
            layers.SimpleRNN(8, return_sequences=True),
            layers.GRU(7, return_sequences=True),
            layers.GRU(5, reset_after=False, return_sequences=True),
            layers.SimpleRNN(4, activation="relu", use_bias=False, return_sequences=True),
            layers.LayerNormalization(),
            layers.Dense(3),
        ]
    )


def attention(keras: Any) -> Any:
    """PyTorch's weight layout (heads·key_dim = features), and Keras's own (value_dim,
    output_shape) written out op by op."""
    layers = keras.layers
    x = tokens = keras.Input((16, 32))
    x = layers.MultiHeadAttention(num_heads=4, key_dim=8)(x, x)
    x = layers.LayerNormalization()(layers.Add()([tokens, x]))
    y = layers.MultiHeadAttention(num_heads=2, key_dim=5, value_dim=3, output_shape=7)(x, tokens)
    return keras.Model(tokens, layers.GlobalAveragePooling1D()(y))


def text_cnn(keras: Any) -> Any:
    layers = keras.layers
    ids = keras.Input((50,))
    x = layers.Embedding(500, 16)(ids)
    a = layers.Conv1D(8, 3, padding="causal", dilation_rate=2, activation="relu")(x)
    b = layers.Conv1D(8, 5, padding="same")(x)
    x = layers.Concatenate()([a, b])
    x = layers.MaxPooling1D(2)(x)
    x = layers.GlobalAveragePooling1D()(x)
    return keras.Model(ids, layers.Dense(1, activation="sigmoid")(x))


def decoder(keras: Any) -> Any:
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((7, 7, 8)),
            layers.Conv2DTranspose(8, 3, strides=2, padding="same"),
            layers.Conv2DTranspose(4, 4, strides=2),
            layers.Cropping2D(((1, 0), (0, 1))),
            layers.UpSampling2D(),
            layers.BatchNormalization(center=False),
            layers.Conv2D(3, 1),
            layers.BatchNormalization(scale=False),
            layers.Reshape((-1, 3)),
            layers.Permute((2, 1)),
            layers.Softmax(),
        ]
    )


def volumes(keras: Any) -> Any:
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((8, 8, 8, 2)),
            layers.Conv3D(4, 3, padding="same"),
            layers.MaxPooling3D(),
            layers.Conv3DTranspose(2, 2, strides=2),
            layers.GlobalAveragePooling3D(),
            layers.Dense(4),
            layers.LeakyReLU(),
        ]
    )


def siamese(keras: Any) -> Any:
    """A layer called twice (its weights shared), two inputs, two outputs, a frozen layer."""
    layers = keras.layers
    a, b = keras.Input((20,), name="left"), keras.Input((20,), name="right")
    tower = layers.Dense(8, activation="relu", name="tower")
    u, v = tower(a), tower(b)
    head = layers.Dense(3, name="head", trainable=False)(layers.Concatenate()([u, v]))
    return keras.Model([a, b], [head, layers.Subtract(name="gap")([u, v])])


def signals(keras: Any) -> Any:
    """1-D layers: paddings, crops, depthwise and separable convolutions, upsampling."""
    layers = keras.layers
    x = signal = keras.Input((20, 6))
    x = layers.Cropping1D(1)(layers.ZeroPadding1D((1, 2))(x))
    x = layers.DepthwiseConv1D(3, depth_multiplier=2)(x)
    x = layers.SeparableConv1D(5, 3, padding="same", activation="elu")(x)
    x = layers.AveragePooling1D(2)(layers.UpSampling1D(2)(x))
    x = layers.Multiply()([x, layers.Activation("linear")(x)])
    x = layers.GaussianNoise(0.1)(layers.ELU()(x))
    return keras.Model(signal, layers.GlobalAveragePooling1D(keepdims=True)(x))


def dense_on_maps(keras: Any) -> Any:
    """Dense and LayerNormalization on the channels of a map, axes of softmax and concat."""
    layers = keras.layers
    x = image = keras.Input((6, 6, 3))
    x = layers.UpSampling2D(2, interpolation="bilinear")(x)
    x = layers.Dense(4, activation="gelu")(layers.SpatialDropout2D(0.1)(x))
    x = layers.Activation("hard_sigmoid")(layers.Activation("swish")(x))
    x = layers.Softmax(axis=1)(x)
    x = layers.LayerNormalization()(layers.Concatenate(axis=1)([x, x]))
    x = layers.ZeroPadding3D(1)(layers.Reshape((6, 4, 12, 4))(x))
    x = layers.Cropping3D(((1, 0), (0, 1), (1, 1)))(x)
    x = layers.GlobalMaxPooling3D()(layers.UpSampling3D(2)(x))
    return keras.Model(image, layers.Dense(3, use_bias=False)(x))


MODELS: dict[str, Callable[[Any], Any]] = {
    "signals": signals,
    "dense_on_maps": dense_on_maps,
    "small_cnn": small_cnn,
    "resnet_block": resnet_block,
    "mobilenet_style": mobilenet_style,
    "lstm_text": lstm_text,
    "recurrent_stack": recurrent_stack,
    "attention": attention,
    "text_cnn": text_cnn,
    "decoder": decoder,
    "volumes": volumes,
    "siamese": siamese,
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MODELS))
def test_round_trip(name: str, keras: Any, tmp_path: Path) -> None:
    round_trip(MODELS[name](keras), tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["MobileNetV2", "ResNet50", "InceptionV3", "Xception"])
def test_keras_applications(name: str, keras: Any, tmp_path: Path) -> None:
    """Whole networks as keras.applications builds them (Xception's merge of fields that are
    not centred alike is a true warning of cnncalc's, kept out of the comparison)."""
    model = getattr(keras.applications, name)(weights=None)
    path = tmp_path / "model.json"
    path.write_text(model.to_json())
    document = summary(from_keras.read(str(path)).text, tmp_path)
    totals = document["totals"]
    assert totals["params"] + totals["buffers"] == model.count_params()
    assert totals["non_trainable_params"] == sum(prod(w.shape) for w in model.non_trainable_weights)
    assert tuple(document["output_shape"]) == tuple(model.output.shape[1:])


@pytest.mark.slow
def test_the_spec_reads_like_the_model(keras: Any, tmp_path: Path) -> None:
    document = round_trip(siamese(keras), tmp_path)
    rows = {r["name"]: r for r in document["layers"]}
    assert rows["tower-call1"]["shares"] == "tower"
    assert rows["head"]["trainable_params"] == 0
    text = from_keras.read(str(tmp_path / "model.json")).text
    assert "inputs:\n  left: [20]\n  right: [20]\n" in text
    assert text.endswith("outputs: [head, gap]\n")


@pytest.mark.slow
def test_a_keras_file(keras: Any, tmp_path: Path) -> None:
    """The config.json inside a .keras file, as model.save writes it."""
    model = small_cnn(keras)
    model.save(tmp_path / "model.keras")
    document = summary(from_keras.read(str(tmp_path / "model.keras")).text, tmp_path)
    assert document["totals"]["params"] + document["totals"]["buffers"] == model.count_params()


@pytest.mark.slow
def test_open_dimensions_come_from_the_input_shape(keras: Any, tmp_path: Path) -> None:
    layers = keras.layers
    model = keras.Sequential(
        [keras.Input((None, None, 3)), layers.Conv2D(4, 3), layers.GlobalAveragePooling2D()]
    )
    path = tmp_path / "model.json"
    path.write_text(model.to_json())
    with pytest.raises(ModelError, match=r"leaves dimensions open \(None\)"):
        from_keras.read(str(path))
    text = from_keras.read(str(path), input_shape=(3, 32, 24)).text  # channels first
    assert "input: {shape: [32, 24, 3], layout: channels_last}" in text
    with pytest.raises(ModelError, match=r"does not fit the input \(None, None, 3\)"):
        from_keras.read(str(path), input_shape=(4, 32, 24))


@pytest.mark.slow
def test_a_lambda_is_refused_by_name(keras: Any, tmp_path: Path) -> None:
    layers = keras.layers
    model = keras.Sequential(
        [keras.Input((8,)), layers.Dense(4), layers.Lambda(lambda t: t * 2, name="double")]
    )
    path = tmp_path / "model.json"
    path.write_text(model.to_json())
    with pytest.raises(ModelError) as caught:
        from_keras.read(str(path))
    assert caught.value.layer == "double"
    assert "a Lambda layer's computation is Python code" in str(caught.value)
    assert "write it by hand in the spec" in str(caught.value)


# --- fast: configs written here, no Keras needed ---------------------------------------------

KERAS2 = {
    "class_name": "Functional",
    "keras_version": "2.15.0",
    "config": {
        "name": "k2",
        "layers": [
            {
                "class_name": "InputLayer",
                "name": "image",
                "config": {"batch_input_shape": [None, 16, 16, 3], "name": "image"},
                "inbound_nodes": [],
            },
            {
                "class_name": "Conv2D",
                "name": "conv",
                "config": {
                    "name": "conv",
                    "filters": 8,
                    "kernel_size": [3, 3],
                    "strides": [2, 2],
                    "padding": "same",
                    "activation": "relu",
                    "use_bias": True,
                },
                "inbound_nodes": [[["image", 0, 0, {}]]],
            },
            {
                "class_name": "BatchNormalization",
                "name": "bn",
                "config": {"name": "bn", "axis": [3], "epsilon": 0.001},
                "inbound_nodes": [[["conv", 0, 0, {}]]],
            },
            {
                "class_name": "Add",
                "name": "sum",
                "config": {"name": "sum"},
                "inbound_nodes": [[["conv", 0, 0, {}], ["bn", 0, 0, {}]]],
            },
            {
                "class_name": "GlobalAveragePooling2D",
                "name": "pool",
                "config": {"name": "pool"},
                "inbound_nodes": [[["sum", 0, 0, {}]]],
            },
            {
                "class_name": "Dense",
                "name": "out",
                "config": {"name": "out", "units": 4, "activation": "linear"},
                "inbound_nodes": [[["pool", 0, 0, {}]]],
            },
        ],
        "input_layers": [["image", 0, 0]],
        "output_layers": [["out", 0, 0]],
    },
}


def keras2(tmp_path: Path, config: dict[str, Any] = KERAS2) -> str:
    path = tmp_path / "model.json"
    path.write_text(json.dumps(config))
    return str(path)


def test_a_keras2_config(tmp_path: Path) -> None:
    """Keras 2's format: nested-list inbound nodes, batch_input_shape, axis as a list."""
    text = from_keras.read(keras2(tmp_path)).text
    document = summary(text, tmp_path)
    # conv (3·3·3 + 1)·8 = 224, batch norm 2·8 + 2·8 statistics, dense (8 + 1)·4 = 36
    assert document["totals"]["params"] == 224 + 16 + 36
    assert document["totals"]["buffers"] == 16
    assert [r["name"] for r in document["layers"]] == [
        "conv", "conv-relu", "bn", "sum", "pool", "pool-flatten", "out"
    ]  # fmt: skip
    assert document["layers"][1]["output_shape"] == [8, 8, 8]
    assert "  - conv2d: {out_channels: 8, kernel_size: 3, stride: 2, padding: same}\n" in text
    assert "    from: [conv-relu, bn]\n" in text


def test_a_keras_zip_with_its_config(tmp_path: Path) -> None:
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(KERAS2))
        archive.writestr("metadata.json", "{}")
    assert from_keras.read(str(path)).text == from_keras.read(keras2(tmp_path)).text.replace(
        str(tmp_path / "model.json"), str(path)
    )


def test_a_keras_zip_without_a_config(tmp_path: Path) -> None:
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.weights.h5", "")
    with pytest.raises(ModelError, match=r"this \.keras file has no config\.json"):
        from_keras.read(str(path))


def test_a_large_config_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(from_keras, "MAX_CONFIG_BYTES", 100)
    with pytest.raises(ModelError, match="cnncalc reads at most 100"):
        from_keras.read(keras2(tmp_path))


def with_layer(cls: str, config: dict[str, Any]) -> dict[str, Any]:
    """KERAS2 with its batch norm replaced."""
    model = json.loads(json.dumps(KERAS2))
    layer = model["config"]["layers"][2]
    layer["class_name"], layer["config"] = cls, {"name": "bn", **config}
    return model


@pytest.mark.parametrize(
    ("cls", "config", "message"),
    [
        ("Rescaling", {"scale": 0.5}, "cnncalc does not translate Keras's Rescaling layer"),
        ("Lambda", {"function": "..."}, "a Lambda layer's computation is Python code"),
        ("Sequential", {"layers": []}, "a Sequential model used as a layer"),
        (
            "MaxPooling2D",
            {"data_format": "channels_first"},
            "data_format 'channels_first': cnncalc reads channels-last Keras models",
        ),
        ("BatchNormalization", {"axis": 1}, "axis 1: cnncalc normalizes over the channels"),
        ("Conv2D", {"filters": 4}, "Conv2D: kernel_size None is not 2 integers"),
    ],
)
def test_what_is_refused_is_named(
    cls: str, config: dict[str, Any], message: str, tmp_path: Path
) -> None:
    with pytest.raises(ModelError, match=message) as caught:
        from_keras.read(keras2(tmp_path, with_layer(cls, config)))
    assert caught.value.layer == "bn"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not a Keras JSON config"),
        ('{"class_name": "Sequential"}', "not a Keras model config"),
        ('{"class_name": "MyModel", "config": {"layers": []}}', "a MyModel model"),
    ],
)
def test_what_is_not_a_model(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text(text)
    with pytest.raises(ModelError, match=message):
        from_keras.read(str(path))


def test_channels_a_keras2_config_does_not_state(tmp_path: Path) -> None:
    """A depthwise convolution's groups are its input's channels: Keras 3 states them, and
    for Keras 2 the importer builds the spec so far to find them."""
    depthwise = {"kernel_size": 3, "padding": "same", "use_bias": False}
    text = from_keras.read(keras2(tmp_path, with_layer("DepthwiseConv2D", depthwise))).text
    assert (
        "conv2d: {out_channels: 8, kernel_size: 3, padding: same, groups: 8, bias: false}" in text
    )


def test_layers_read_in_any_order(tmp_path: Path) -> None:
    """A config listing a layer before the layers it reads is translated in the graph's order,
    and one reading a tensor nothing makes is named."""
    model = json.loads(json.dumps(KERAS2))
    model["config"]["layers"].reverse()
    assert from_keras.read(keras2(tmp_path, model)).text == from_keras.read(keras2(tmp_path)).text
    model["config"]["layers"][0]["inbound_nodes"] = [[["nowhere", 0, 0, {}]]]
    with pytest.raises(ModelError, match="reads 'nowhere', which no layer makes") as caught:
        from_keras.read(keras2(tmp_path, model))
    assert caught.value.layer == "out"


@pytest.mark.slow
def test_a_shape_the_config_contradicts(keras: Any, tmp_path: Path) -> None:
    """The config states the shape of every tensor a layer reads (Keras 3): a spec that
    disagrees is refused, naming the layer, rather than returned."""
    config = json.loads(small_cnn(keras).to_json())
    conv = config["config"]["layers"][1]
    assert conv["class_name"] == "Conv2D"
    conv["config"]["strides"] = [2, 2]  # the stated shapes still say stride 1
    path = tmp_path / "model.json"
    path.write_text(json.dumps(config))
    with pytest.raises(
        ModelError,
        match=r"Keras says this layer's output is \(13, 13, 16\);"
        r" the translated spec gives \(6, 6, 16\)",
    ) as caught:
        from_keras.read(str(path))
    pool = config["config"]["layers"][2]["config"]["name"]
    assert caught.value.layer == pool  # the first layer whose output the config states


@pytest.mark.slow
def test_transposed_convolutions_size_as_keras(keras: Any, tmp_path: Path) -> None:
    """Keras's output size for every kernel, stride and padding here (one branch each),
    through PyTorch's padding and output_padding; the one size PyTorch cannot give is named."""
    layers = keras.layers
    image = keras.Input((5, 7, 2))
    branches = []
    for k in (1, 2, 3, 4, 5):
        for s in (1, 2, 3):
            for padding in ("valid", "same"):
                if (k, s, padding) != (2, 1, "same") and (k, s, padding) != (4, 1, "same"):
                    branches.append(layers.Conv2DTranspose(3, k, strides=s, padding=padding)(image))
    branches.append(layers.Conv2DTranspose(3, 3, strides=2, output_padding=0)(image))
    branches.append(layers.Conv2DTranspose(3, 3, strides=2, dilation_rate=1, padding="same",
                                           output_padding=1)(image))  # fmt: skip
    round_trip(keras.Model(image, branches), tmp_path)
    even = keras.Sequential([image, layers.Conv2DTranspose(3, 2, padding="same", name="even")])
    path = tmp_path / "even.json"
    path.write_text(even.to_json())
    with pytest.raises(ModelError, match="needs output_padding 1, which PyTorch refuses"):
        from_keras.read(str(path))
