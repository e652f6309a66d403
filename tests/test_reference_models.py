"""Check the hand-written PyTorch reference models against published facts.

The parameter counts and output shapes below come from specs/ARCHITECTURES.md (torchvision,
the PyTorch DCGAN tutorial, the papers, and arithmetic on the exercises), never from cnncalc.
The counts of the LSTM classifier, the Siamese network and the two-input network have no
published figure: they are computed by hand in the comments beside them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from torch import nn

from reference_models import REFERENCES

pytestmark = pytest.mark.slow  # builds every reference model: the CI run, not the inner loop

# Published total parameter counts (None: no published number for this layout).
PARAM_COUNTS: dict[str, int | None] = {
    "lenet5": 61_706,
    "alexnet": 61_100_840,
    "vgg16": 138_357_544,
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
    "mobilenetv2": 3_504_872,
    "unet": None,
    "dcgan_generator": 3_576_704,
    "dcgan_discriminator": 2_765_568,
    "inception": None,
    "tiny_resnet": None,
    "exercise_dense": 75_000_100,
    "exercise_conv": 760,
    "exercise_stride": 602_240,
    "vit_b16": 86_567_656,
    "convnext_tiny": 28_589_128,
    "shufflenetv2": 2_278_604,
    # embedding 10,000·128 = 1,280,000; LSTM per direction 4H·I + 4H·H + 2·4H with H = 256:
    # layer 0 (I = 128) 2·(131,072 + 262,144 + 2,048) = 790,528, layer 1 (I = 2H = 512)
    # 2·(524,288 + 262,144 + 2,048) = 1,576,960; linear 512·2 + 2 = 1,026.
    "lstm_classifier": 1_280_000 + 790_528 + 1_576_960 + 1_026,
    # One tower, counted once: conv 64·1·10·10 + 64 = 6,464; conv 128·64·7·7 + 128 = 401,536;
    # conv 128·128·4·4 + 128 = 262,272; conv 256·128·4·4 + 256 = 524,544;
    # linear 9,216·4,096 + 4,096 = 37,752,832; then the head 4,096 + 1 = 4,097.
    "siamese": 6_464 + 401_536 + 262_272 + 524_544 + 37_752_832 + 4_097,
    # convs 16·3·9 + 16 = 448, 32·16·9 + 32 = 4,640, 64·32·9 + 64 = 18,496; metadata linear
    # 10·32 + 32 = 352; trunk 96·64 + 64 = 6,208; heads 64·5 + 5 = 325 and 64 + 1 = 65.
    "two_input": 448 + 4_640 + 18_496 + 352 + 6_208 + 325 + 65,
}

# Output shapes of a single sample, channels first, without the batch.
OUTPUT_SHAPES: dict[str, tuple[int, ...]] = {
    "lenet5": (10,),
    "alexnet": (1000,),
    "vgg16": (1000,),
    "resnet18": (1000,),
    "resnet50": (1000,),
    "mobilenetv2": (1000,),
    "unet": (2, 256, 256),
    "dcgan_generator": (3, 64, 64),
    "dcgan_discriminator": (1, 1, 1),
    "inception": (480, 14, 14),
    "tiny_resnet": (10,),
    "exercise_dense": (100,),
    "exercise_conv": (10, 496, 496),
    "exercise_stride": (128, 64, 64),
    "vit_b16": (1000,),
    "convnext_tiny": (1000,),
    "shufflenetv2": (1000,),
    "lstm_classifier": (2,),
    "siamese": (1,),
    "two_input": (5,),  # the class logits; the auxiliary output is in MORE_OUTPUT_SHAPES
}

# The outputs after the first, of the models that return several.
MORE_OUTPUT_SHAPES: dict[str, tuple[tuple[int, ...], ...]] = {
    "two_input": ((1,),),
}

# Published buffer sizes: BN running mean + running var elements (num_batches_tracked excluded).
BUFFER_COUNTS: dict[str, int] = {
    "resnet50": 53_120,
}

STEMS = list(OUTPUT_SHAPES)


def param_count(model: nn.Module) -> int:
    """Total number of parameter elements."""
    return sum(p.numel() for p in model.parameters())


def buffer_count(model: nn.Module) -> int:
    """Total number of buffer elements, leaving out BN's num_batches_tracked counters."""
    return sum(
        b.numel() for name, b in model.named_buffers() if not name.endswith("num_batches_tracked")
    )


@pytest.fixture(scope="module", params=STEMS)
def built(request: pytest.FixtureRequest) -> Iterator[tuple[str, nn.Module]]:
    """Build each reference once (module scope: pytest groups the tests by stem)."""
    stem: str = request.param
    torch.manual_seed(0)
    model = REFERENCES[stem].build()
    model.eval()
    yield stem, model
    del model


def test_registry_covers_every_architecture() -> None:
    assert set(REFERENCES) == set(STEMS) == set(PARAM_COUNTS)


def test_parameter_count(built: tuple[str, nn.Module]) -> None:
    stem, model = built
    expected = PARAM_COUNTS[stem]
    if expected is None:
        assert param_count(model) > 0
    else:
        assert param_count(model) == expected


def test_output_shape(built: tuple[str, nn.Module]) -> None:
    stem, model = built
    with torch.no_grad():
        y = model(*REFERENCES[stem].example())
    outputs = y if isinstance(y, tuple) else (y,)
    expected = (OUTPUT_SHAPES[stem], *MORE_OUTPUT_SHAPES.get(stem, ()))
    assert tuple(tuple(out.shape) for out in outputs) == tuple((1, *shape) for shape in expected)


def test_inputs_are_named_when_several() -> None:
    """A model with several inputs names every one of them (the spec's `inputs:` keys)."""
    for stem, reference in REFERENCES.items():
        if reference.more_inputs:
            assert len(reference.input_names) == len(reference.input_shapes), stem
        else:
            assert reference.input_names == (), stem


@pytest.mark.slow
def test_siamese_tower_is_one_module_used_twice() -> None:
    """Both images go through the same tower: one set of weights, two calls per forward."""
    model = REFERENCES["siamese"].build()
    calls: list[int] = []
    tower = model.get_submodule("tower")
    tower.register_forward_hook(lambda module, inputs, output: calls.append(id(module)))
    left, right = REFERENCES["siamese"].example()
    with torch.no_grad():
        model(left, right)
    assert calls == [id(tower), id(tower)]
    assert param_count(tower) == PARAM_COUNTS["siamese"] - (4_096 + 1)  # all but the head


@pytest.mark.slow
def test_siamese_distance_is_symmetric() -> None:
    """|a - b| makes the score independent of the order of the two images."""
    torch.manual_seed(0)
    model = REFERENCES["siamese"].build().eval()
    left, right = torch.randn(2, 1, 1, 105, 105)
    with torch.no_grad():
        assert torch.equal(model(left, right), model(right, left))


@pytest.mark.slow
def test_lstm_classifier_reads_token_ids() -> None:
    """The classifier's input is a sequence of 64 token ids, not floats."""
    (tokens,) = REFERENCES["lstm_classifier"].example()
    assert tokens.dtype == torch.long and tuple(tokens.shape) == (1, 64)
    model = REFERENCES["lstm_classifier"].build().eval()
    with torch.no_grad():
        y = model(torch.full((3, 64), 9_999, dtype=torch.long))  # the largest id, batch 3
    assert tuple(y.shape) == (3, 2)


@pytest.mark.parametrize(
    ("stem", "name", "shape"),
    [
        ("vit_b16", "class_token", (1, 1, 768)),
        ("vit_b16", "pos_embedding", (1, 197, 768)),
        ("convnext_tiny", "features.1.0.layer_scale", (96, 1, 1)),
        ("convnext_tiny", "features.7.2.layer_scale", (768, 1, 1)),
    ],
)
def test_free_parameters(stem: str, name: str, shape: tuple[int, ...]) -> None:
    """The learnable tensors that belong to no layer: ViT's tokens, ConvNeXt's layer scale."""
    params = dict(REFERENCES[stem].build().named_parameters())
    assert tuple(params[name].shape) == shape


def test_vit_attention_parameters() -> None:
    """nn.MultiheadAttention(768, 12): in_proj 3·768·768 + 3·768, out_proj 768·768 + 768."""
    model = REFERENCES["vit_b16"].build()
    attention = model.get_submodule("layers.0.self_attention")
    sizes = {name: p.numel() for name, p in attention.named_parameters()}
    assert sizes == {
        "in_proj_weight": 3 * 768 * 768,
        "in_proj_bias": 3 * 768,
        "out_proj.weight": 768 * 768,
        "out_proj.bias": 768,
    }


@pytest.mark.parametrize("stem", sorted(BUFFER_COUNTS))
def test_buffer_count(stem: str) -> None:
    assert buffer_count(REFERENCES[stem].build()) == BUFFER_COUNTS[stem]


def test_exercise_conv_channels_last_output() -> None:
    """Printed channels-last, the exercise's output is [496, 496, 10]."""
    x = torch.randn(1, 500, 500, 3).permute(0, 3, 1, 2)  # an H x W x C image, as torch sees it
    with torch.no_grad():
        y = REFERENCES["exercise_conv"].build()(x)
    assert tuple(y.permute(0, 2, 3, 1).shape[1:]) == (496, 496, 10)
