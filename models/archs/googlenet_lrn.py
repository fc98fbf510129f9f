"""GoogLeNet as described in the paper, with Local Response Normalization.

C. Szegedy, W. Liu, Y. Jia, P. Sermanet, S. Reed, D. Anguelov, D. Erhan,
V. Vanhoucke, A. Rabinovich, "Going Deeper with Convolutions", CVPR 2015
(arXiv:1409.4842, 2014), Table 1 and Figure 3.

Unlike torchvision's GoogLeNet this version has no batch normalization; it has
the paper's two LocalRespNorm layers in the stem (after the first max pool and
after the 3x3 convolution), biases on every convolution, 5x5 convolutions in the
third branch of each Inception module (Figure 2b), ceil-mode max pooling as in
the Caffe reference model, and no auxiliary classifiers (inference only).
"""
import torch
import torch.nn.functional as F
from torch import nn


class _LRN(torch.autograd.Function):
    """F.local_response_norm that exports as the ONNX LRN operator.

    torch 1.13 has no ONNX symbolic for local_response_norm and traces its python
    implementation into ~60 nodes (Reshape/Pad/AveragePool/Pow and an If on
    numel() == 0). PyTorch and ONNX define LRN identically: for size n the channel
    window is [c - floor((n-1)/2), c + ceil((n-1)/2)] and
    y = x / (k + alpha/n * sum(x^2))^beta.
    """

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        return F.local_response_norm(x, size, alpha, beta, k)

    @staticmethod
    def symbolic(g, x, size, alpha, beta, k):
        return g.op("LRN", x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=k)


class LocalRespNorm(nn.LocalResponseNorm):
    def forward(self, x):
        return _LRN.apply(x, self.size, self.alpha, self.beta, self.k)


class ConvReLU(nn.Sequential):
    def __init__(self, in_ch, out_ch, kernel_size, stride=1, padding=0):
        super().__init__(nn.Conv2d(in_ch, out_ch, kernel_size, stride, padding),
                         nn.ReLU(inplace=True))


class Inception(nn.Module):
    """Inception module with dimension reductions (Figure 2b)."""

    def __init__(self, in_ch, c1x1, c3x3red, c3x3, c5x5red, c5x5, pool_proj):
        super().__init__()
        self.branch1 = ConvReLU(in_ch, c1x1, 1)
        self.branch2 = nn.Sequential(ConvReLU(in_ch, c3x3red, 1), ConvReLU(c3x3red, c3x3, 3, padding=1))
        self.branch3 = nn.Sequential(ConvReLU(in_ch, c5x5red, 1), ConvReLU(c5x5red, c5x5, 5, padding=2))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), ConvReLU(in_ch, pool_proj, 1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class GoogLeNetLRN(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        # Stem (Figure 3, bottom): conv 7x7/2, maxpool 3x3/2, LocalRespNorm,
        # conv 1x1, conv 3x3, LocalRespNorm, maxpool 3x3/2.
        self.conv1 = ConvReLU(3, 64, 7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.lrn1 = LocalRespNorm(5, alpha=1e-4, beta=0.75, k=1.0)
        self.conv2 = ConvReLU(64, 64, 1)
        self.conv3 = ConvReLU(64, 192, 3, padding=1)
        self.lrn2 = LocalRespNorm(5, alpha=1e-4, beta=0.75, k=1.0)
        self.maxpool2 = nn.MaxPool2d(3, 2, ceil_mode=True)

        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)

        self.avgpool = nn.AvgPool2d(7, stride=1)  # "avg pool 7x7/1 (V)"
        self.dropout = nn.Dropout(0.4)
        self.fc = nn.Linear(1024, num_classes)

        # He initialisation keeps activations O(1) without batch norm.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                nn.init.uniform_(m.bias, -0.05, 0.05)  # non-zero: exercises bias handling
        # The Caffe model saw mean-subtracted 0..255 pixels, so its stem activations
        # are O(10..100) and LRN (alpha=1e-4) matters. With O(1) activations LRN would
        # be an identity to 4 decimals; scaling conv1 by 16 gives the same regime
        # (LRN changes activations by ~10%). The classifier is scaled by 1/8 to keep
        # logits O(1..10). Both factors are powers of two (exact).
        with torch.no_grad():
            self.conv1[0].weight.mul_(16.0)
            self.fc.weight.mul_(0.125)
            self.fc.bias.mul_(0.125)

    def forward(self, x):
        x = self.maxpool1(self.conv1(x))
        x = self.lrn1(x)
        x = self.conv3(self.conv2(x))
        x = self.maxpool2(self.lrn2(x))
        x = self.inception3b(self.inception3a(x))
        x = self.maxpool3(x)
        x = self.inception4a(x)
        x = self.inception4b(x)
        x = self.inception4c(x)
        x = self.inception4d(x)
        x = self.inception4e(x)
        x = self.maxpool4(x)
        x = self.inception5b(self.inception5a(x))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(self.dropout(x))


def googlenet_lrn(num_classes=1000):
    return GoogLeNetLRN(num_classes)
