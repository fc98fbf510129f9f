"""LeNet-5.

Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-Based Learning Applied to
Document Recognition", Proc. IEEE 86(11), 1998 (Section II.B, Fig. 2).

Layer names follow the paper: C1 (conv 5x5, 6 maps) -> S2 (2x2 subsampling)
-> C3 (conv 5x5, 16 maps) -> S4 (2x2 subsampling) -> C5 (conv 5x5, 120 maps)
-> F6 (full, 84 units) -> output (10 units).

Simplifications (documented, standard in modern re-implementations):
  * S2/S4 are plain 2x2 average pooling (the paper's subsampling has a
    trainable coefficient and bias per map);
  * C3 is fully connected to S2 instead of the paper's Table I connection map;
  * the squashing function is tanh (paper: 1.7159 * tanh(2/3 a));
  * the output layer is a linear layer instead of Euclidean RBF units.
Input: 32x32 single-channel image.
"""
import torch
from torch import nn


class LeNet5(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.C1 = nn.Conv2d(1, 6, kernel_size=5)     # 32x32 -> 28x28
        self.S2 = nn.AvgPool2d(2)                    # -> 14x14
        self.C3 = nn.Conv2d(6, 16, kernel_size=5)    # -> 10x10
        self.S4 = nn.AvgPool2d(2)                    # -> 5x5
        self.C5 = nn.Conv2d(16, 120, kernel_size=5)  # -> 1x1
        self.F6 = nn.Linear(120, 84)
        self.output = nn.Linear(84, num_classes)
        self.act = nn.Tanh()

    def forward(self, x):
        x = self.S2(self.act(self.C1(x)))
        x = self.S4(self.act(self.C3(x)))
        x = self.act(self.C5(x))
        x = torch.flatten(x, 1)
        x = self.act(self.F6(x))
        return self.output(x)


def lenet5(num_classes=10):
    return LeNet5(num_classes)
