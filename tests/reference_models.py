"""Hand-written PyTorch reference models: the independent oracle for cnncalc's specs.

Every architecture in ``specs/ARCHITECTURES.md`` is written here directly with ``torch.nn``,
the way a PyTorch user would write it, without torchvision and without reading cnncalc's
specs or parser. ``REFERENCES`` maps each spec file stem to its builder and input shape.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

__all__ = [
    "REFERENCES",
    "Reference",
    "alexnet",
    "convnext_tiny",
    "dcgan_discriminator",
    "dcgan_generator",
    "exercise_conv",
    "exercise_dense",
    "exercise_stride",
    "inception",
    "lenet5",
    "lstm_classifier",
    "mobilenetv2",
    "resnet18",
    "resnet50",
    "shufflenetv2",
    "siamese",
    "tiny_resnet",
    "two_input",
    "unet",
    "vgg16",
    "vit_b16",
]


@dataclass(frozen=True)
class Reference:
    """A reference model builder and its inputs (channels first, without the batch).

    Most models take one float tensor of ``input_shape``. A model with several inputs lists
    the others in ``more_inputs`` and names them all in ``input_names`` (the spec's ``inputs:``
    keys, in ``forward``'s order); a model whose input holds token ids sets ``vocabulary``.
    """

    build: Callable[[], nn.Module]
    input_shape: tuple[int, ...]
    more_inputs: tuple[tuple[int, ...], ...] = ()
    input_names: tuple[str, ...] = ()
    vocabulary: int | None = None

    @property
    def input_shapes(self) -> tuple[tuple[int, ...], ...]:
        """Every input's shape, in ``forward``'s order."""
        return (self.input_shape, *self.more_inputs)

    def example(self, batch: int = 1) -> tuple[Tensor, ...]:
        """Zero-filled inputs of batch ``batch`` (token id 0 for a ``vocabulary`` input)."""
        dtype = torch.float32 if self.vocabulary is None else torch.long
        return tuple(torch.zeros(batch, *shape, dtype=dtype) for shape in self.input_shapes)


# --------------------------------------------------------------------------------------------
# 1. LeNet-5
# --------------------------------------------------------------------------------------------


def lenet5() -> nn.Module:
    """LeNet-5 with tanh activations and average pooling, for 1x32x32 inputs."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5),
        nn.Tanh(),
        nn.AvgPool2d(kernel_size=2),
        nn.Conv2d(6, 16, kernel_size=5),
        nn.Tanh(),
        nn.AvgPool2d(kernel_size=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120),
        nn.Tanh(),
        nn.Linear(120, 84),
        nn.Tanh(),
        nn.Linear(84, 10),
    )


# --------------------------------------------------------------------------------------------
# 2. AlexNet
# --------------------------------------------------------------------------------------------


class AlexNet(nn.Module):
    """torchvision's AlexNet layout (the single-GPU variant)."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def alexnet() -> nn.Module:
    """AlexNet as in torchvision, 1000 classes."""
    return AlexNet()


# --------------------------------------------------------------------------------------------
# 3. VGG-16
# --------------------------------------------------------------------------------------------

# Output channels of each stage's 3x3 convs; every stage ends with a 2x2 max pool.
_VGG16_STAGES: tuple[tuple[int, ...], ...] = (
    (64, 64),
    (128, 128),
    (256, 256, 256),
    (512, 512, 512),
    (512, 512, 512),
)


class VGG16(nn.Module):
    """torchvision's vgg16 (no batch norm); convs named conv1_1..conv5_3, pools pool1..pool5."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        in_channels = 3
        for stage, widths in enumerate(_VGG16_STAGES, start=1):
            for index, width in enumerate(widths, start=1):
                layers[f"conv{stage}_{index}"] = nn.Conv2d(in_channels, width, 3, padding=1)
                layers[f"relu{stage}_{index}"] = nn.ReLU(inplace=True)
                in_channels = width
            layers[f"pool{stage}"] = nn.MaxPool2d(kernel_size=2, stride=2)
        self.features = nn.Sequential(layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def vgg16() -> nn.Module:
    """VGG-16 (configuration D) as in torchvision, 1000 classes."""
    return VGG16()


# --------------------------------------------------------------------------------------------
# 4-5. ResNet-18 / ResNet-50
# --------------------------------------------------------------------------------------------


def _downsample(in_channels: int, out_channels: int, stride: int) -> nn.Sequential:
    """The projection shortcut: conv1x1 (bias=False) with the block's stride, then BN."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),
        nn.BatchNorm2d(out_channels),
    )


class BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 convs, identity or projection shortcut."""

    expansion = 1

    def __init__(self, in_channels: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        out_channels = planes * self.expansion
        self.conv1 = nn.Conv2d(in_channels, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = (
            _downsample(in_channels, out_channels, stride)
            if stride != 1 or in_channels != out_channels
            else None
        )

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """ResNet v1.5 bottleneck: 1x1 reduce, 3x3 (carrying the stride), 1x1 expand by 4."""

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        out_channels = planes * self.expansion
        self.conv1 = nn.Conv2d(in_channels, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (
            _downsample(in_channels, out_channels, stride)
            if stride != 1 or in_channels != out_channels
            else None
        )

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """torchvision-style ResNet for ImageNet: 7x7 stem, four stages, global pool, fc."""

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        blocks_per_stage: tuple[int, int, int, int],
        num_classes: int = 1000,
    ) -> None:
        super().__init__()
        self.in_channels = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_stage(block, 64, blocks_per_stage[0], stride=1)
        self.layer2 = self._make_stage(block, 128, blocks_per_stage[1], stride=2)
        self.layer3 = self._make_stage(block, 256, blocks_per_stage[2], stride=2)
        self.layer4 = self._make_stage(block, 512, blocks_per_stage[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def _make_stage(
        self, block: type[BasicBlock] | type[Bottleneck], planes: int, count: int, stride: int
    ) -> nn.Sequential:
        layers: list[nn.Module] = []
        for index in range(count):
            layers.append(block(self.in_channels, planes, stride if index == 0 else 1))
            self.in_channels = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def resnet18() -> nn.Module:
    """ResNet-18: BasicBlock, [2, 2, 2, 2]."""
    return ResNet(BasicBlock, (2, 2, 2, 2))


def resnet50() -> nn.Module:
    """ResNet-50 (v1.5): Bottleneck, [3, 4, 6, 3]."""
    return ResNet(Bottleneck, (3, 4, 6, 3))


# --------------------------------------------------------------------------------------------
# 6. MobileNetV2
# --------------------------------------------------------------------------------------------


class ConvBNReLU6(nn.Sequential):
    """conv2d (bias=False) -> batchnorm2d -> ReLU6, 'same'-style padding (k // 2)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        groups: int = 1,
    ) -> None:
        super().__init__(
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride=stride,
                padding=kernel_size // 2,
                groups=groups,
                bias=False,
            ),
            nn.BatchNorm2d(out_channels),
            nn.ReLU6(inplace=True),
        )


class InvertedResidual(nn.Module):
    """MobileNetV2 block: optional 1x1 expansion, 3x3 depthwise, linear 1x1 projection."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        hidden = in_channels * expand_ratio
        self.use_residual = stride == 1 and in_channels == out_channels
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(ConvBNReLU6(in_channels, hidden, kernel_size=1))
        layers += [
            ConvBNReLU6(hidden, hidden, kernel_size=3, stride=stride, groups=hidden),
            nn.Conv2d(hidden, out_channels, kernel_size=1, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if self.use_residual:
            return x + self.conv(x)
        return self.conv(x)


# (expansion t, output channels c, repeats n, first stride s)
_MOBILENETV2_SETTINGS: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


class MobileNetV2(nn.Module):
    """torchvision's mobilenet_v2 at width multiplier 1.0."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.2) -> None:
        super().__init__()
        in_channels, last_channels = 32, 1280
        features: list[nn.Module] = [ConvBNReLU6(3, in_channels, kernel_size=3, stride=2)]
        for t, c, n, s in _MOBILENETV2_SETTINGS:
            for index in range(n):
                features.append(InvertedResidual(in_channels, c, s if index == 0 else 1, t))
                in_channels = c
        features.append(ConvBNReLU6(in_channels, last_channels, kernel_size=1))
        self.features = nn.Sequential(*features)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(last_channels, num_classes)
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def mobilenetv2() -> nn.Module:
    """MobileNetV2, width 1.0, 1000 classes."""
    return MobileNetV2()


# --------------------------------------------------------------------------------------------
# 7. U-Net
# --------------------------------------------------------------------------------------------


class DoubleConv(nn.Sequential):
    """(conv3x3 p1 bias=False -> BN -> ReLU) twice."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class Down(nn.Sequential):
    """2x2 max pool then DoubleConv."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(nn.MaxPool2d(kernel_size=2), DoubleConv(in_channels, out_channels))


class Up(nn.Module):
    """Transposed-conv upsampling (in -> in/2, k2 s2, with bias), concat [skip, up], DoubleConv."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
        self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        return self.conv(torch.cat([skip, self.up(x)], dim=1))


class UNet(nn.Module):
    """U-Net with batch norm and transposed-conv upsampling (64 base channels, 4 levels)."""

    def __init__(self, in_channels: int = 3, num_classes: int = 2) -> None:
        super().__init__()
        self.inc = DoubleConv(in_channels, 64)
        self.down1 = Down(64, 128)
        self.down2 = Down(128, 256)
        self.down3 = Down(256, 512)
        self.down4 = Down(512, 1024)
        self.up1 = Up(1024, 512)
        self.up2 = Up(512, 256)
        self.up3 = Up(256, 128)
        self.up4 = Up(128, 64)
        self.outc = nn.Conv2d(64, num_classes, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x5 = self.down4(x4)
        x = self.up1(x5, x4)
        x = self.up2(x, x3)
        x = self.up3(x, x2)
        x = self.up4(x, x1)
        return self.outc(x)


def unet() -> nn.Module:
    """U-Net for 3-channel input and 2 output classes."""
    return UNet()


# --------------------------------------------------------------------------------------------
# 8-9. DCGAN
# --------------------------------------------------------------------------------------------


class DCGANGenerator(nn.Module):
    """The PyTorch DCGAN tutorial generator: latent nz x 1 x 1 -> nc x 64 x 64."""

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.main(x)


class DCGANDiscriminator(nn.Module):
    """The PyTorch DCGAN tutorial discriminator: nc x 64 x 64 -> 1 x 1 x 1 probability."""

    def __init__(self, ndf: int = 64, nc: int = 3) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.main(x)


def dcgan_generator() -> nn.Module:
    """DCGAN generator with nz=100, ngf=64, nc=3."""
    return DCGANGenerator()


def dcgan_discriminator() -> nn.Module:
    """DCGAN discriminator with ndf=64, nc=3."""
    return DCGANDiscriminator()


# --------------------------------------------------------------------------------------------
# 10. GoogLeNet stem + inception 3a/3b
# --------------------------------------------------------------------------------------------


class BasicConv(nn.Sequential):
    """conv2d (bias=False) -> batchnorm2d (eps=0.001) -> ReLU, as in GoogLeNet."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
    ) -> None:
        super().__init__(
            nn.Conv2d(
                in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=False
            ),
            nn.BatchNorm2d(out_channels, eps=0.001),
            nn.ReLU(inplace=True),
        )


class Inception(nn.Module):
    """GoogLeNet inception module with a true 5x5 branch; branches concatenated in order."""

    def __init__(
        self,
        in_channels: int,
        ch1x1: int,
        ch3x3red: int,
        ch3x3: int,
        ch5x5red: int,
        ch5x5: int,
        pool_proj: int,
    ) -> None:
        super().__init__()
        self.branch1 = BasicConv(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv(in_channels, ch3x3red, kernel_size=1),
            BasicConv(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            BasicConv(in_channels, ch5x5red, kernel_size=1),
            BasicConv(ch5x5red, ch5x5, kernel_size=5, padding=2),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv(in_channels, pool_proj, kernel_size=1),
        )

    def forward(self, x: Tensor) -> Tensor:
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return torch.cat(branches, dim=1)


class InceptionStem(nn.Module):
    """GoogLeNet up to inception 3b and the following max pool (output 480 x 14 x 14)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = BasicConv(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv(64, 64, kernel_size=1)
        self.conv3 = BasicConv(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.inception3b(self.inception3a(x))
        return self.maxpool3(x)


def inception() -> nn.Module:
    """GoogLeNet stem followed by inception 3a, 3b and a max pool."""
    return InceptionStem()


# --------------------------------------------------------------------------------------------
# 11. tiny_resnet (the README spec-format example)
# --------------------------------------------------------------------------------------------


class ResidualBlock(nn.Module):
    """conv3x3 (bias=False) -> BN -> ReLU -> conv3x3 (bias=False) -> BN, + input, ReLU."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding="same", bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + x)


def tiny_resnet() -> nn.Module:
    """The tiny residual network of the README spec-format example, for 3x32x32 inputs."""
    return nn.Sequential(
        nn.Conv2d(3, 16, kernel_size=3, padding=1),
        ResidualBlock(16),
        ResidualBlock(16),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 10),
    )


# --------------------------------------------------------------------------------------------
# 12-14. Exercises
# --------------------------------------------------------------------------------------------


def exercise_dense() -> nn.Module:
    """Flatten a 500x500x3 image (given channels-last, computed as 3x500x500) into linear 100."""
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 500 * 500, 100))


def exercise_conv() -> nn.Module:
    """A single 5x5 conv with 10 filters, no padding, on a 500x500x3 image."""
    return nn.Conv2d(3, 10, kernel_size=5)


def exercise_stride() -> nn.Module:
    """A single 7x7 stride-2 conv, 96 -> 128 channels, padding 3."""
    return nn.Conv2d(96, 128, kernel_size=7, stride=2, padding=3)


# --------------------------------------------------------------------------------------------
# 15. ViT-B/16 (torchvision's vit_b_16 layout)
# --------------------------------------------------------------------------------------------


class ViTEncoderBlock(nn.Module):
    """Pre-norm transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""

    def __init__(self, hidden: int, heads: int, mlp: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(hidden, eps=1e-6)
        self.self_attention = nn.MultiheadAttention(hidden, heads, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = nn.LayerNorm(hidden, eps=1e-6)
        self.mlp = nn.Sequential(
            nn.Linear(hidden, mlp),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(mlp, hidden),
            nn.Dropout(dropout),
        )

    def forward(self, x: Tensor) -> Tensor:
        y = self.ln_1(x)
        y, _ = self.self_attention(y, y, y, need_weights=False)
        x = x + self.dropout(y)
        return x + self.mlp(self.ln_2(x))


class VisionTransformer(nn.Module):
    """ViT: 16x16 patches -> tokens, a class token, learned position embedding, 12 blocks."""

    def __init__(
        self,
        image_size: int = 224,
        patch_size: int = 16,
        layers: int = 12,
        heads: int = 12,
        hidden: int = 768,
        mlp: int = 3072,
        num_classes: int = 1000,
    ) -> None:
        super().__init__()
        tokens = (image_size // patch_size) ** 2 + 1  # the patches and the class token
        self.conv_proj = nn.Conv2d(3, hidden, kernel_size=patch_size, stride=patch_size)
        self.class_token = nn.Parameter(torch.zeros(1, 1, hidden))
        self.pos_embedding = nn.Parameter(torch.empty(1, tokens, hidden).normal_(std=0.02))
        self.dropout = nn.Dropout(0.0)
        self.layers = nn.Sequential(*(ViTEncoderBlock(hidden, heads, mlp) for _ in range(layers)))
        self.ln = nn.LayerNorm(hidden, eps=1e-6)
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv_proj(x)  # [n, 768, 14, 14]
        x = x.flatten(2).permute(0, 2, 1)  # [n, 196, 768]
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = self.dropout(x + self.pos_embedding)
        x = self.ln(self.layers(x))
        return self.head(x[:, 0])


def vit_b16() -> nn.Module:
    """ViT-B/16 for 224x224 images, 1000 classes."""
    return VisionTransformer()


# --------------------------------------------------------------------------------------------
# 16. ConvNeXt-T (torchvision's convnext_tiny layout)
# --------------------------------------------------------------------------------------------


class Permute(nn.Module):
    """``x.permute(*dims)`` as a module."""

    def __init__(self, dims: tuple[int, ...]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: Tensor) -> Tensor:
        return x.permute(*self.dims)


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an [n, C, H, W] tensor."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class CNBlock(nn.Module):
    """ConvNeXt block: dw 7x7 -> LN -> 4x MLP (GELU), scaled by layer_scale, plus the input."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim),
            Permute((0, 2, 3, 1)),
            nn.LayerNorm(dim, eps=1e-6),
            nn.Linear(dim, 4 * dim),
            nn.GELU(),
            nn.Linear(4 * dim, dim),
            Permute((0, 3, 1, 2)),
        )
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * 1e-6)

    def forward(self, x: Tensor) -> Tensor:
        # Stochastic depth would drop the branch while training; at eval it is the identity.
        return x + self.layer_scale * self.block(x)


class ConvNeXt(nn.Module):
    """ConvNeXt: 4x4/4 patchify stem, four stages of CNBlocks, LN + 2x2/2 conv between them."""

    def __init__(
        self,
        depths: tuple[int, ...] = (3, 3, 9, 3),
        dims: tuple[int, ...] = (96, 192, 384, 768),
        num_classes: int = 1000,
    ) -> None:
        super().__init__()
        stages: list[nn.Module] = [
            nn.Sequential(
                nn.Conv2d(3, dims[0], kernel_size=4, stride=4), LayerNorm2d(dims[0], eps=1e-6)
            )
        ]
        for index, (depth, dim) in enumerate(zip(depths, dims, strict=True)):
            stages.append(nn.Sequential(*(CNBlock(dim) for _ in range(depth))))
            if index + 1 < len(dims):
                stages.append(
                    nn.Sequential(
                        LayerNorm2d(dim, eps=1e-6),
                        nn.Conv2d(dim, dims[index + 1], kernel_size=2, stride=2),
                    )
                )
        self.features = nn.Sequential(*stages)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            LayerNorm2d(dims[-1], eps=1e-6), nn.Flatten(1), nn.Linear(dims[-1], num_classes)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.avgpool(self.features(x)))


def convnext_tiny() -> nn.Module:
    """ConvNeXt-T: depths 3, 3, 9, 3; widths 96, 192, 384, 768; 1000 classes."""
    return ConvNeXt()


# --------------------------------------------------------------------------------------------
# 17. ShuffleNetV2 x1.0 (torchvision's shufflenet_v2_x1_0 layout)
# --------------------------------------------------------------------------------------------


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    """Interleave the channels of ``groups`` groups: [n, g, C/g, H, W] -> transpose -> flat."""
    n, channels, height, width = x.shape
    x = x.view(n, groups, channels // groups, height, width).transpose(1, 2)
    return x.reshape(n, channels, height, width)


def conv_bn(inp: int, out: int, kernel: int, stride: int = 1, groups: int = 1) -> list[nn.Module]:
    """conv (no bias, padding kernel // 2) -> batch norm."""
    conv = nn.Conv2d(inp, out, kernel, stride, kernel // 2, groups=groups, bias=False)
    return [conv, nn.BatchNorm2d(out)]


class ShuffleUnit(nn.Module):
    """ShuffleNetV2 unit: split (stride 1) or share (stride 2) the input, two branches, shuffle."""

    def __init__(self, inp: int, out: int, stride: int) -> None:
        super().__init__()
        half = out // 2
        self.stride = stride
        self.branch1 = (
            nn.Sequential(
                *conv_bn(inp, inp, 3, stride, groups=inp),
                *conv_bn(inp, half, 1),
                nn.ReLU(inplace=True),
            )
            if stride > 1
            else nn.Sequential()
        )
        self.branch2 = nn.Sequential(
            *conv_bn(inp if stride > 1 else half, half, 1),
            nn.ReLU(inplace=True),
            *conv_bn(half, half, 3, stride, groups=half),
            *conv_bn(half, half, 1),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: Tensor) -> Tensor:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    """ShuffleNetV2: conv 3x3/2, max pool, three stages of shuffle units, conv 1x1, mean, fc."""

    def __init__(
        self,
        repeats: tuple[int, ...] = (4, 8, 4),
        widths: tuple[int, ...] = (24, 116, 232, 464, 1024),
        num_classes: int = 1000,
    ) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(*conv_bn(3, widths[0], 3, 2), nn.ReLU(inplace=True))
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        stages: list[nn.Module] = []
        inp = widths[0]
        for count, out in zip(repeats, widths[1:4], strict=True):
            units = [ShuffleUnit(inp, out, 2)] + [
                ShuffleUnit(out, out, 1) for _ in range(count - 1)
            ]
            stages.append(nn.Sequential(*units))
            inp = out
        self.stages = nn.Sequential(*stages)
        self.conv5 = nn.Sequential(*conv_bn(inp, widths[-1], 1), nn.ReLU(inplace=True))
        self.fc = nn.Linear(widths[-1], num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv5(self.stages(self.maxpool(self.conv1(x))))
        return self.fc(x.mean([2, 3]))


def shufflenetv2() -> nn.Module:
    """ShuffleNetV2 x1.0, 1000 classes."""
    return ShuffleNetV2()


# --------------------------------------------------------------------------------------------
# 18. A 2-layer bidirectional LSTM text classifier
# --------------------------------------------------------------------------------------------


class LSTMClassifier(nn.Module):
    """Token ids -> embedding 128 -> 2-layer bidirectional LSTM 256 -> last step -> linear 2.

    The classifier reads the LSTM's output at the last time step, ``output[:, -1]``: the
    forward direction's final state next to the backward direction's first step.
    """

    def __init__(self, vocabulary: int = 10_000, embed: int = 128, hidden: int = 256) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(2 * hidden, 2)

    def forward(self, tokens: Tensor) -> Tensor:
        output, _ = self.lstm(self.embedding(tokens))  # [n, 64, 512]
        return self.fc(output[:, -1])


def lstm_classifier() -> nn.Module:
    """The text classifier over 64 token ids from a vocabulary of 10,000."""
    return LSTMClassifier()


# --------------------------------------------------------------------------------------------
# 19. Siamese network (Koch et al. 2015, one-shot image recognition)
# --------------------------------------------------------------------------------------------


class SiameseNet(nn.Module):
    """Two 105x105 images through ONE tower to 4096-d embeddings; |a - b| -> linear 1."""

    def __init__(self) -> None:
        super().__init__()
        self.tower = nn.Sequential(
            nn.Conv2d(1, 64, 10),  # [64, 96, 96]
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # [64, 48, 48]
            nn.Conv2d(64, 128, 7),  # [128, 42, 42]
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # [128, 21, 21]
            nn.Conv2d(128, 128, 4),  # [128, 18, 18]
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # [128, 9, 9]
            nn.Conv2d(128, 256, 4),  # [256, 6, 6]
            nn.ReLU(inplace=True),
            nn.Flatten(),
            nn.Linear(256 * 6 * 6, 4096),
            nn.Sigmoid(),
        )
        self.out = nn.Linear(4096, 1)

    def forward(self, left: Tensor, right: Tensor) -> Tensor:
        distance = torch.abs(self.tower(left) - self.tower(right))
        return self.out(distance)


def siamese() -> nn.Module:
    """The Siamese verification network; its tower's weights are used by both inputs."""
    return SiameseNet()


# --------------------------------------------------------------------------------------------
# 20. A two-input, two-output network (image + metadata -> class logits, auxiliary value)
# --------------------------------------------------------------------------------------------


class TwoInputNet(nn.Module):
    """Image [3, 64, 64] through a small CNN, metadata [10] through a linear layer; two heads."""

    def __init__(self, meta: int = 10, classes: int = 5) -> None:
        super().__init__()
        self.image = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # [16, 32, 32]
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # [32, 16, 16]
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),  # [64]
        )
        self.meta = nn.Sequential(nn.Linear(meta, 32), nn.ReLU(inplace=True))
        self.trunk = nn.Sequential(nn.Linear(64 + 32, 64), nn.ReLU(inplace=True))
        self.logits = nn.Linear(64, classes)
        self.aux = nn.Linear(64, 1)

    def forward(self, image: Tensor, meta: Tensor) -> tuple[Tensor, Tensor]:
        x = self.trunk(torch.cat([self.image(image), self.meta(meta)], dim=1))
        return self.logits(x), self.aux(x)


def two_input() -> nn.Module:
    """The image + metadata network: 5 class logits and one auxiliary regression output."""
    return TwoInputNet()


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------

REFERENCES: dict[str, Reference] = {
    "lenet5": Reference(lenet5, (1, 32, 32)),
    "alexnet": Reference(alexnet, (3, 224, 224)),
    "vgg16": Reference(vgg16, (3, 224, 224)),
    "resnet18": Reference(resnet18, (3, 224, 224)),
    "resnet50": Reference(resnet50, (3, 224, 224)),
    "mobilenetv2": Reference(mobilenetv2, (3, 224, 224)),
    "unet": Reference(unet, (3, 256, 256)),
    "dcgan_generator": Reference(dcgan_generator, (100, 1, 1)),
    "dcgan_discriminator": Reference(dcgan_discriminator, (3, 64, 64)),
    "inception": Reference(inception, (3, 224, 224)),
    "tiny_resnet": Reference(tiny_resnet, (3, 32, 32)),
    "exercise_dense": Reference(exercise_dense, (3, 500, 500)),
    "exercise_conv": Reference(exercise_conv, (3, 500, 500)),
    "exercise_stride": Reference(exercise_stride, (96, 128, 128)),
    "vit_b16": Reference(vit_b16, (3, 224, 224)),
    "convnext_tiny": Reference(convnext_tiny, (3, 224, 224)),
    "shufflenetv2": Reference(shufflenetv2, (3, 224, 224)),
    "lstm_classifier": Reference(lstm_classifier, (64,), vocabulary=10_000),
    "siamese": Reference(siamese, (1, 105, 105), ((1, 105, 105),), ("left", "right")),
    "two_input": Reference(two_input, (3, 64, 64), ((10,),), ("image", "meta")),
}
