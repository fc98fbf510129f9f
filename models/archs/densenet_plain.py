"""Plain DenseNet (no bottleneck, no compression beyond halving in transitions).

G. Huang, Z. Liu, L. van der Maaten, K. Q. Weinberger, "Densely Connected
Convolutional Networks", CVPR 2017 (arXiv:1608.06993), Section 3.

  * Dense block: layer l receives the concatenation of all preceding feature
    maps; its composite function H_l is BN-ReLU-Conv3x3 producing k = 32
    (growth rate) maps -- the basic "DenseNet" form, *without* the 1x1
    bottleneck of DenseNet-B.
  * Transition layer: BN-ReLU-Conv1x1 (halving the channel count, theta = 0.5)
    followed by 2x2 average pooling with stride 2.
  * Four dense blocks of 4 layers each, ImageNet stem (7x7/2 conv with 2k
    filters, BN-ReLU, 3x3/2 max pool), final BN-ReLU, global average pooling
    and a linear classifier. 224x224 input.
"""
import torch
from torch import nn


class DenseLayer(nn.Sequential):
    """H_l = BN-ReLU-Conv(3x3)."""

    def __init__(self, in_ch, growth_rate):
        super().__init__(nn.BatchNorm2d(in_ch), nn.ReLU(inplace=True),
                         nn.Conv2d(in_ch, growth_rate, 3, padding=1, bias=False))


class DenseBlock(nn.Module):
    def __init__(self, num_layers, in_ch, growth_rate):
        super().__init__()
        self.layers = nn.ModuleList([DenseLayer(in_ch + i * growth_rate, growth_rate)
                                     for i in range(num_layers)])

    def forward(self, x):
        features = [x]
        for layer in self.layers:
            features.append(layer(torch.cat(features, 1)))
        return torch.cat(features, 1)


class Transition(nn.Sequential):
    def __init__(self, in_ch, out_ch):
        super().__init__(nn.BatchNorm2d(in_ch), nn.ReLU(inplace=True),
                         nn.Conv2d(in_ch, out_ch, 1, bias=False), nn.AvgPool2d(2, 2))


class DensePlain(nn.Module):
    def __init__(self, growth_rate=32, block_config=(4, 4, 4, 4), num_classes=1000):
        super().__init__()
        ch = 2 * growth_rate
        self.stem = nn.Sequential(nn.Conv2d(3, ch, 7, 2, 3, bias=False), nn.BatchNorm2d(ch),
                                  nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        blocks = []
        for i, n in enumerate(block_config):
            blocks.append(DenseBlock(n, ch, growth_rate))
            ch += n * growth_rate
            if i != len(block_config) - 1:
                blocks.append(Transition(ch, ch // 2))
                ch //= 2
        self.features = nn.Sequential(*blocks, nn.BatchNorm2d(ch), nn.ReLU(inplace=True))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(ch, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x):
        x = self.features(self.stem(x))
        return self.classifier(torch.flatten(self.avgpool(x), 1))


def densenet_plain(num_classes=1000):
    return DensePlain(32, (4, 4, 4, 4), num_classes)
