"""Inception-v4 and Inception-ResNet-v2.

C. Szegedy, S. Ioffe, V. Vanhoucke, A. Alemi, "Inception-v4, Inception-ResNet
and the Impact of Residual Connections on Learning", AAAI 2017
(arXiv:1602.07261, 2016).

Block names and filter counts follow the paper's figures:
  * Stem (Figure 3), shared by Inception-v4 and Inception-ResNet-v2:
    299x299x3 -> 35x35x384.
  * Inception-v4 (Figure 9): Stem, 4 x Inception-A (Fig. 4), Reduction-A
    (Fig. 7, k=192 l=224 m=256 n=384), 7 x Inception-B (Fig. 5), Reduction-B
    (Fig. 8), 3 x Inception-C (Fig. 6), average pooling, dropout (keep 0.8),
    softmax (logits returned).
  * Inception-ResNet-v2 (Figure 15): Stem, 5 x Inception-ResNet-A (Fig. 16),
    Reduction-A (Fig. 7, k=256 l=256 m=384 n=384), 10 x Inception-ResNet-B
    (Fig. 17), Reduction-B (Fig. 18), 5 x Inception-ResNet-C (Fig. 19),
    average pooling, dropout, softmax.
"V" in the figures means 'valid' padding; all other convolutions are 'same'.
Every convolution is followed by batch normalization and ReLU (Section 3.4),
except the 1x1 "Linear" filter-expansion convolutions of the residual blocks,
which have a bias and no activation; ReLU follows the residual addition.
Residual branches are scaled before the addition (Section 3.3, Figure 20;
the paper recommends factors between 0.1 and 0.3).

Known inconsistency: Figures 17 and 19 give 1154 and 2048 output filters for the
linear expansion of Inception-ResNet-B/C, which does not match the 1152 and 2144
channels produced by Reduction-A/-B of Figures 7/18 (the residual addition needs
equal widths). We use 1152 and 2144 so the additions are well defined.
"""
import torch
from torch import nn


class BasicConv2d(nn.Sequential):
    def __init__(self, in_ch, out_ch, kernel_size, stride=1, padding=0):
        super().__init__(nn.Conv2d(in_ch, out_ch, kernel_size, stride, padding, bias=False),
                         nn.BatchNorm2d(out_ch, eps=0.001), nn.ReLU(inplace=True))


def same(k):
    """'same' padding for odd (possibly asymmetric, e.g. 1x7) kernels at stride 1."""
    if isinstance(k, int):
        return k // 2
    return (k[0] // 2, k[1] // 2)


def conv(in_ch, out_ch, k, stride=1, valid=False):
    return BasicConv2d(in_ch, out_ch, k, stride, 0 if valid else same(k))


class Stem(nn.Module):
    """Figure 3."""

    def __init__(self):
        super().__init__()
        self.conv1 = conv(3, 32, 3, stride=2, valid=True)    # 149x149x32
        self.conv2 = conv(32, 32, 3, valid=True)             # 147x147x32
        self.conv3 = conv(32, 64, 3)                         # 147x147x64
        self.mixed1_pool = nn.MaxPool2d(3, 2)                # 73x73x64
        self.mixed1_conv = conv(64, 96, 3, stride=2, valid=True)  # 73x73x96
        self.mixed2_a = nn.Sequential(conv(160, 64, 1), conv(64, 96, 3, valid=True))
        self.mixed2_b = nn.Sequential(conv(160, 64, 1), conv(64, 64, (7, 1)), conv(64, 64, (1, 7)),
                                      conv(64, 96, 3, valid=True))     # 71x71x192
        self.mixed3_conv = conv(192, 192, 3, stride=2, valid=True)
        self.mixed3_pool = nn.MaxPool2d(3, 2)                # 35x35x384

    def forward(self, x):
        x = self.conv3(self.conv2(self.conv1(x)))
        x = torch.cat([self.mixed1_pool(x), self.mixed1_conv(x)], 1)
        x = torch.cat([self.mixed2_a(x), self.mixed2_b(x)], 1)
        return torch.cat([self.mixed3_conv(x), self.mixed3_pool(x)], 1)


class InceptionA(nn.Module):
    """Figure 4: 35x35 grid, 384 -> 384 channels."""

    def __init__(self, in_ch=384):
        super().__init__()
        self.branch_pool = nn.Sequential(nn.AvgPool2d(3, 1, 1, count_include_pad=False), conv(in_ch, 96, 1))
        self.branch_1x1 = conv(in_ch, 96, 1)
        self.branch_3x3 = nn.Sequential(conv(in_ch, 64, 1), conv(64, 96, 3))
        self.branch_3x3dbl = nn.Sequential(conv(in_ch, 64, 1), conv(64, 96, 3), conv(96, 96, 3))

    def forward(self, x):
        return torch.cat([self.branch_pool(x), self.branch_1x1(x), self.branch_3x3(x),
                          self.branch_3x3dbl(x)], 1)


class ReductionA(nn.Module):
    """Figure 7: 35x35 -> 17x17, out = in + n + m channels."""

    def __init__(self, in_ch, k, l, m, n):
        super().__init__()
        self.branch_pool = nn.MaxPool2d(3, 2)
        self.branch_3x3 = conv(in_ch, n, 3, stride=2, valid=True)
        self.branch_3x3dbl = nn.Sequential(conv(in_ch, k, 1), conv(k, l, 3), conv(l, m, 3, stride=2, valid=True))

    def forward(self, x):
        return torch.cat([self.branch_pool(x), self.branch_3x3(x), self.branch_3x3dbl(x)], 1)


class InceptionB(nn.Module):
    """Figure 5: 17x17 grid, 1024 -> 1024 channels."""

    def __init__(self, in_ch=1024):
        super().__init__()
        self.branch_pool = nn.Sequential(nn.AvgPool2d(3, 1, 1, count_include_pad=False), conv(in_ch, 128, 1))
        self.branch_1x1 = conv(in_ch, 384, 1)
        self.branch_7x7 = nn.Sequential(conv(in_ch, 192, 1), conv(192, 224, (1, 7)), conv(224, 256, (7, 1)))
        self.branch_7x7dbl = nn.Sequential(conv(in_ch, 192, 1), conv(192, 192, (1, 7)), conv(192, 224, (7, 1)),
                                           conv(224, 224, (1, 7)), conv(224, 256, (7, 1)))

    def forward(self, x):
        return torch.cat([self.branch_pool(x), self.branch_1x1(x), self.branch_7x7(x),
                          self.branch_7x7dbl(x)], 1)


class ReductionB(nn.Module):
    """Figure 8: 17x17x1024 -> 8x8x1536."""

    def __init__(self, in_ch=1024):
        super().__init__()
        self.branch_pool = nn.MaxPool2d(3, 2)
        self.branch_3x3 = nn.Sequential(conv(in_ch, 192, 1), conv(192, 192, 3, stride=2, valid=True))
        self.branch_7x7x3 = nn.Sequential(conv(in_ch, 256, 1), conv(256, 256, (1, 7)), conv(256, 320, (7, 1)),
                                          conv(320, 320, 3, stride=2, valid=True))

    def forward(self, x):
        return torch.cat([self.branch_pool(x), self.branch_3x3(x), self.branch_7x7x3(x)], 1)


class InceptionC(nn.Module):
    """Figure 6: 8x8 grid, 1536 -> 1536 channels."""

    def __init__(self, in_ch=1536):
        super().__init__()
        self.branch_pool = nn.Sequential(nn.AvgPool2d(3, 1, 1, count_include_pad=False), conv(in_ch, 256, 1))
        self.branch_1x1 = conv(in_ch, 256, 1)
        self.branch_3x3 = conv(in_ch, 384, 1)
        self.branch_3x3_1x3 = conv(384, 256, (1, 3))
        self.branch_3x3_3x1 = conv(384, 256, (3, 1))
        self.branch_3x3dbl = nn.Sequential(conv(in_ch, 384, 1), conv(384, 448, (1, 3)), conv(448, 512, (3, 1)))
        self.branch_3x3dbl_1x3 = conv(512, 256, (1, 3))
        self.branch_3x3dbl_3x1 = conv(512, 256, (3, 1))

    def forward(self, x):
        b3 = self.branch_3x3(x)
        b3d = self.branch_3x3dbl(x)
        return torch.cat([self.branch_pool(x), self.branch_1x1(x),
                          self.branch_3x3_1x3(b3), self.branch_3x3_3x1(b3),
                          self.branch_3x3dbl_1x3(b3d), self.branch_3x3dbl_3x1(b3d)], 1)


class Classifier(nn.Module):
    def __init__(self, in_ch, num_classes):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.2)  # keep probability 0.8
        self.fc = nn.Linear(in_ch, num_classes)

    def forward(self, x):
        return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))


class InceptionV4(nn.Module):
    """Figure 9."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.stem = Stem()
        self.inception_a = nn.Sequential(*[InceptionA(384) for _ in range(4)])
        self.reduction_a = ReductionA(384, k=192, l=224, m=256, n=384)
        self.inception_b = nn.Sequential(*[InceptionB(1024) for _ in range(7)])
        self.reduction_b = ReductionB(1024)
        self.inception_c = nn.Sequential(*[InceptionC(1536) for _ in range(3)])
        self.classifier = Classifier(1536, num_classes)

    def forward(self, x):
        x = self.reduction_a(self.inception_a(self.stem(x)))
        x = self.reduction_b(self.inception_b(x))
        return self.classifier(self.inception_c(x))


class InceptionResNetA(nn.Module):
    """Figure 16: 35x35 grid."""

    def __init__(self, ch=384, scale=0.17):
        super().__init__()
        self.scale = scale
        self.branch_1x1 = conv(ch, 32, 1)
        self.branch_3x3 = nn.Sequential(conv(ch, 32, 1), conv(32, 32, 3))
        self.branch_3x3dbl = nn.Sequential(conv(ch, 32, 1), conv(32, 48, 3), conv(48, 64, 3))
        self.linear = nn.Conv2d(128, ch, 1)  # "1x1 Conv (384 Linear)"
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        r = torch.cat([self.branch_1x1(x), self.branch_3x3(x), self.branch_3x3dbl(x)], 1)
        return self.relu(x + self.scale * self.linear(r))


class InceptionResNetB(nn.Module):
    """Figure 17: 17x17 grid."""

    def __init__(self, ch=1152, scale=0.10):
        super().__init__()
        self.scale = scale
        self.branch_1x1 = conv(ch, 192, 1)
        self.branch_7x7 = nn.Sequential(conv(ch, 128, 1), conv(128, 160, (1, 7)), conv(160, 192, (7, 1)))
        self.linear = nn.Conv2d(384, ch, 1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        r = torch.cat([self.branch_1x1(x), self.branch_7x7(x)], 1)
        return self.relu(x + self.scale * self.linear(r))


class ReductionBResNet(nn.Module):
    """Figure 18: 17x17x1152 -> 8x8x2144."""

    def __init__(self, in_ch=1152):
        super().__init__()
        self.branch_pool = nn.MaxPool2d(3, 2)
        self.branch_a = nn.Sequential(conv(in_ch, 256, 1), conv(256, 384, 3, stride=2, valid=True))
        self.branch_b = nn.Sequential(conv(in_ch, 256, 1), conv(256, 288, 3, stride=2, valid=True))
        self.branch_c = nn.Sequential(conv(in_ch, 256, 1), conv(256, 288, 3),
                                      conv(288, 320, 3, stride=2, valid=True))

    def forward(self, x):
        return torch.cat([self.branch_pool(x), self.branch_a(x), self.branch_b(x), self.branch_c(x)], 1)


class InceptionResNetC(nn.Module):
    """Figure 19: 8x8 grid."""

    def __init__(self, ch=2144, scale=0.20):
        super().__init__()
        self.scale = scale
        self.branch_1x1 = conv(ch, 192, 1)
        self.branch_3x3 = nn.Sequential(conv(ch, 192, 1), conv(192, 224, (1, 3)), conv(224, 256, (3, 1)))
        self.linear = nn.Conv2d(448, ch, 1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        r = torch.cat([self.branch_1x1(x), self.branch_3x3(x)], 1)
        return self.relu(x + self.scale * self.linear(r))


class InceptionResNetV2(nn.Module):
    """Figure 15."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.stem = Stem()
        self.inception_resnet_a = nn.Sequential(*[InceptionResNetA(384) for _ in range(5)])
        self.reduction_a = ReductionA(384, k=256, l=256, m=384, n=384)   # -> 1152
        self.inception_resnet_b = nn.Sequential(*[InceptionResNetB(1152) for _ in range(10)])
        self.reduction_b = ReductionBResNet(1152)                         # -> 2144
        self.inception_resnet_c = nn.Sequential(*[InceptionResNetC(2144) for _ in range(5)])
        self.classifier = Classifier(2144, num_classes)

    def forward(self, x):
        x = self.reduction_a(self.inception_resnet_a(self.stem(x)))
        x = self.reduction_b(self.inception_resnet_b(x))
        return self.classifier(self.inception_resnet_c(x))


def inception_v4(num_classes=1000):
    return InceptionV4(num_classes)


def inception_resnet_v2(num_classes=1000):
    return InceptionResNetV2(num_classes)
