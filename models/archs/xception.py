"""Xception.

F. Chollet, "Xception: Deep Learning with Depthwise Separable Convolutions",
CVPR 2017 (arXiv:1610.02357), Figure 5.

Entry flow -> Middle flow (repeated eight times) -> Exit flow. A
SeparableConv is a depthwise 3x3 convolution followed by a pointwise 1x1
convolution with no non-linearity in between (Section 3). Every Conv and
SeparableConv is followed by batch normalization (Figure 5 caption). Residual
connections use 1x1 stride-2 convolutions (+BN) where the shape changes.
299x299 input.
"""
import torch
from torch import nn


class SeparableConv(nn.Sequential):
    """Depthwise 3x3 + pointwise 1x1, followed by BN."""

    def __init__(self, in_ch, out_ch):
        super().__init__(nn.Conv2d(in_ch, in_ch, 3, 1, 1, groups=in_ch, bias=False),
                         nn.Conv2d(in_ch, out_ch, 1, bias=False),
                         nn.BatchNorm2d(out_ch))


class EntryExitBlock(nn.Module):
    """[ReLU] SepConv - ReLU - SepConv - MaxPool(3x3, s2), with a 1x1/2 conv shortcut."""

    def __init__(self, in_ch, mid_ch, out_ch, relu_first=True):
        super().__init__()
        layers = [nn.ReLU()] if relu_first else []
        layers += [SeparableConv(in_ch, mid_ch), nn.ReLU(), SeparableConv(mid_ch, out_ch),
                   nn.MaxPool2d(3, 2, 1)]
        self.residual = nn.Sequential(*layers)
        self.shortcut = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, 2, bias=False), nn.BatchNorm2d(out_ch))

    def forward(self, x):
        return self.residual(x) + self.shortcut(x)


class MiddleFlowBlock(nn.Module):
    """3 x (ReLU - SepConv 728) with an identity shortcut."""

    def __init__(self, ch=728):
        super().__init__()
        self.residual = nn.Sequential(*[m for _ in range(3) for m in (nn.ReLU(), SeparableConv(ch, ch))])

    def forward(self, x):
        return self.residual(x) + x


class Xception(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.entry_flow = nn.Sequential(
            nn.Conv2d(3, 32, 3, 2, bias=False), nn.BatchNorm2d(32), nn.ReLU(),   # 149x149x32
            nn.Conv2d(32, 64, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),     # 147x147x64
            EntryExitBlock(64, 128, 128, relu_first=False),                      # 74x74x128
            EntryExitBlock(128, 256, 256),                                       # 37x37x256
            EntryExitBlock(256, 728, 728),                                       # 19x19x728
        )
        self.middle_flow = nn.Sequential(*[MiddleFlowBlock(728) for _ in range(8)])
        self.exit_flow = nn.Sequential(
            EntryExitBlock(728, 728, 1024),                                      # 10x10x1024
            SeparableConv(1024, 1536), nn.ReLU(),
            SeparableConv(1536, 2048), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
        )
        self.fc = nn.Linear(2048, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.exit_flow(self.middle_flow(self.entry_flow(x)))
        return self.fc(torch.flatten(x, 1))


def xception(num_classes=1000):
    return Xception(num_classes)
