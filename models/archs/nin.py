"""Network In Network (ImageNet variant).

M. Lin, Q. Chen, S. Yan, "Network In Network", arXiv:1312.4400, 2013 (ICLR 2014).

The network is a stack of four *mlpconv* layers -- a conventional convolution
followed by two 1x1 convolutions (the "micro network" / cascaded cross channel
parametric pooling, cccp), each followed by ReLU -- with max pooling between
them. The last mlpconv layer produces one feature map per class and
classification is done by *global average pooling* instead of fully connected
layers (Section 3.2). Layer sizes follow the authors' ImageNet model
(conv1 11x11/4 96, conv2 5x5 256, conv3 3x3 384, conv4 3x3 1024), 224x224 input.
"""
import torch
from torch import nn


def mlpconv(in_ch, out_ch, kernel_size, stride, padding, last_ch=None):
    last_ch = out_ch if last_ch is None else last_ch
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel_size, stride, padding), nn.ReLU(inplace=True),
        nn.Conv2d(out_ch, out_ch, 1), nn.ReLU(inplace=True),   # cccp a
        nn.Conv2d(out_ch, last_ch, 1), nn.ReLU(inplace=True),  # cccp b
    )


class NiN(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.mlpconv1 = mlpconv(3, 96, 11, 4, 0)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.mlpconv2 = mlpconv(96, 256, 5, 1, 2)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.mlpconv3 = mlpconv(256, 384, 3, 1, 1)
        self.pool3 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.dropout = nn.Dropout(0.5)
        self.mlpconv4 = mlpconv(384, 1024, 3, 1, 1, last_ch=num_classes)
        self.global_avg_pool = nn.AdaptiveAvgPool2d(1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                nn.init.uniform_(m.bias, -0.05, 0.05)  # non-zero: exercises bias handling

    def forward(self, x):
        x = self.pool1(self.mlpconv1(x))
        x = self.pool2(self.mlpconv2(x))
        x = self.pool3(self.mlpconv3(x))
        x = self.mlpconv4(self.dropout(x))
        return torch.flatten(self.global_avg_pool(x), 1)


def nin(num_classes=1000):
    return NiN(num_classes)
