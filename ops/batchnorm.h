#pragma once

#include <vector>

#include "ops/op.h"

namespace onnxrun {

// y = x * scale[c] + bias[c]: BatchNormalization's inference transform per channel.
struct ChannelAffineParams {
  std::vector<float> scale;
  std::vector<float> bias;
};

// Folds scale, B, mean, var and epsilon of a BatchNormalization node with constant parameters.
absl::StatusOr<ChannelAffineParams> BatchNormAffine(const ir::Graph& g, const ir::Node& n);

// The per-channel affine y = x * scale[c] + bias[c] over `channels` channels that node `n` applies
// to one run-time input x (its index into *x): a BatchNormalization with constant parameters and
// no statistics outputs, or Mul / Add by a constant, Sub / Div by a constant second operand, each
// constant per channel ([C,1,1], [1,C,1,1]) or one value. False for anything else. The optimizer
// folds these into a neighbouring conv (fuse_conv_bn, fuse_preactivation).
bool ChannelAffineOf(const ir::Graph& g, const ir::Node& n, int64_t channels,
                     ChannelAffineParams* p, int* x = nullptr);

}  // namespace onnxrun
