"""A PyTorch module written by cnncalc export from the spec 'tiny-resnet'."""

import torch
from torch import nn


class Residual(nn.Module):
    """Block 'residual'."""

    def __init__(self) -> None:
        super().__init__()
        self.conv2d_1 = nn.Conv2d(16, 16, 3, padding=1, bias=False)
        self.batchnorm2d_1 = nn.BatchNorm2d(16)
        self.relu_1 = nn.ReLU()
        self.conv2d_2 = nn.Conv2d(16, 16, 3, padding="same", bias=False)
        self.main = nn.BatchNorm2d(16)
        self.relu_2 = nn.ReLU()

    def forward(self, x):
        conv2d_1 = self.conv2d_1(x)
        batchnorm2d_1 = self.batchnorm2d_1(conv2d_1)
        relu_1 = self.relu_1(batchnorm2d_1)
        conv2d_2 = self.conv2d_2(relu_1)
        main = self.main(conv2d_2)
        add_1 = main + x
        relu_2 = self.relu_2(add_1)
        return relu_2


class TinyResnet(nn.Module):
    """The spec 'tiny-resnet'."""

    def __init__(self) -> None:
        super().__init__()
        self.conv2d_1 = nn.Conv2d(3, 16, 3, padding=1)
        self.residual_1 = Residual()
        self.residual_2 = Residual()
        self.adaptiveavgpool2d_1 = nn.AdaptiveAvgPool2d(1)
        self.flatten_1 = nn.Flatten()
        self.linear_1 = nn.Linear(16, 10)

    def forward(self, x):
        conv2d_1 = self.conv2d_1(x)
        residual_1 = self.residual_1(conv2d_1)
        residual_2 = self.residual_2(residual_1)
        adaptiveavgpool2d_1 = self.adaptiveavgpool2d_1(residual_2)
        flatten_1 = self.flatten_1(adaptiveavgpool2d_1)
        linear_1 = self.linear_1(flatten_1)
        return linear_1


if __name__ == "__main__":
    model = TinyResnet()
    print(model)
    print(model(torch.zeros(2, 3, 32, 32)))
