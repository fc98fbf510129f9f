"""Pre-activation ResNet-50.

K. He, X. Zhang, S. Ren, J. Sun, "Identity Mappings in Deep Residual Networks",
ECCV 2016 (arXiv:1603.05027), Figure 4(e) "full pre-activation".

Each *pre-activation bottleneck unit* computes
    x + Conv1x1(ReLU(BN(Conv3x3(ReLU(BN(Conv1x1(ReLU(BN(x)))))))))
so the shortcut path is a clean identity. When the shape changes, the projection
shortcut (1x1 conv) is applied to the pre-activated input ReLU(BN(x)), as in the
authors' released code. Stride 2 sits on the 3x3 convolution. The stem is the
usual 7x7/2 conv + BN + ReLU + 3x3/2 max pool; because the last unit ends with a
convolution, a final BN + ReLU precedes global average pooling (Section 4.1).
Stage depths [3, 4, 6, 3] as ResNet-50.
"""
import torch
from torch import nn


class PreActBottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_ch, planes, stride=1):
        super().__init__()
        out_ch = planes * self.expansion
        self.bn1 = nn.BatchNorm2d(in_ch)
        self.conv1 = nn.Conv2d(in_ch, planes, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out_ch, 1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = None
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Conv2d(in_ch, out_ch, 1, stride, bias=False)

    def forward(self, x):
        pre = self.relu(self.bn1(x))
        identity = x if self.shortcut is None else self.shortcut(pre)
        out = self.conv1(pre)
        out = self.conv2(self.relu(self.bn2(out)))
        out = self.conv3(self.relu(self.bn3(out)))
        return out + identity


class PreActResNet(nn.Module):
    def __init__(self, layers=(3, 4, 6, 3), num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        in_ch = 64
        stages = []
        for i, (planes, n) in enumerate(zip((64, 128, 256, 512), layers)):
            units = []
            for j in range(n):
                units.append(PreActBottleneck(in_ch, planes, stride=2 if (i > 0 and j == 0) else 1))
                in_ch = planes * PreActBottleneck.expansion
            stages.append(nn.Sequential(*units))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.bn_final = nn.BatchNorm2d(in_ch)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_ch, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.relu(self.bn_final(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def preact_resnet50(num_classes=1000):
    return PreActResNet((3, 4, 6, 3), num_classes)
