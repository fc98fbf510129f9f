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

}  // namespace onnxrun
