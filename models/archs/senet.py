"""SE-ResNet-50 and SE-ResNeXt-50 (32x4d).

J. Hu, L. Shen, G. Sun, "Squeeze-and-Excitation Networks", CVPR 2018
(arXiv:1709.01507), Section 3 and Figure 3 (SE-ResNet module), Table 1.

An *SE block* recalibrates the residual branch output U of every bottleneck:
  squeeze:     z = global average pool of U               (Eq. 2)
  excitation:  s = sigmoid(W2 ReLU(W1 z)), reduction r=16  (Eq. 3)
  scale:       U * s (channel-wise), then the residual addition (Fig. 3).
The two fully connected layers are implemented as 1x1 convolutions on the
pooled 1x1 map, as in the authors' released Caffe models. The backbone is
torchvision's ResNet-50 / ResNeXt-50 32x4d (stages [3, 4, 6, 3]).
"""
from torch import nn
from torchvision.models.resnet import Bottleneck, ResNet


class SEBlock(nn.Module):
    def __init__(self, channels, reduction=16):
        super().__init__()
        self.squeeze = nn.AdaptiveAvgPool2d(1)
        self.excitation = nn.Sequential(
            nn.Conv2d(channels, channels // reduction, 1), nn.ReLU(inplace=True),   # FC (W1)
            nn.Conv2d(channels // reduction, channels, 1), nn.Sigmoid())            # FC (W2)

    def forward(self, u):
        return u * self.excitation(self.squeeze(u))


class SEBottleneck(Bottleneck):
    """SE-ResNet module (Figure 3): SE block on the residual branch before the addition."""

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__(inplanes, planes, stride, downsample, groups, base_width, dilation, norm_layer)
        self.se = SEBlock(planes * self.expansion, reduction=16)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out = self.se(out)
        return self.relu(out + identity)


def se_resnet50(num_classes=1000):
    return ResNet(SEBottleneck, [3, 4, 6, 3], num_classes=num_classes)


def se_resnext50_32x4d(num_classes=1000):
    return ResNet(SEBottleneck, [3, 4, 6, 3], num_classes=num_classes, groups=32, width_per_group=4)
