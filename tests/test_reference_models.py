"""Check the hand-written PyTorch reference models against published facts.

The parameter counts and output shapes below come from specs/ARCHITECTURES.md (torchvision,
the PyTorch DCGAN tutorial, the papers, and arithmetic on the exercises), never from cnncalc.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from torch import nn

from reference_models import REFERENCES

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
    x = torch.randn(1, *REFERENCES[stem].input_shape)
    with torch.no_grad():
        y = model(x)
    assert tuple(y.shape) == (1, *OUTPUT_SHAPES[stem])


@pytest.mark.parametrize("stem", sorted(BUFFER_COUNTS))
def test_buffer_count(stem: str) -> None:
    assert buffer_count(REFERENCES[stem].build()) == BUFFER_COUNTS[stem]


def test_exercise_conv_channels_last_output() -> None:
    """Printed channels-last, the exercise's output is [496, 496, 10]."""
    x = torch.randn(1, 500, 500, 3).permute(0, 3, 1, 2)  # an H x W x C image, as torch sees it
    with torch.no_grad():
        y = REFERENCES["exercise_conv"].build()(x)
    assert tuple(y.permute(0, 2, 3, 1).shape[1:]) == (496, 496, 10)
