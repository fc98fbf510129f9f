// Pad's attributes and constant inputs as its infer resolves them (ops/pad.cc).
#pragma once

#include <cstdint>
#include <vector>

#include "ops/kernels/tensor.h"
#include "runtime/ir/graph.h"

namespace onnxrun {

struct PadParams : ir::OpParams {
  std::vector<int64_t> pads;  // all begins, then all ends (ONNX order)
  kernels::PadMode mode = kernels::PadMode::kConstant;
  float value = 0.f;      // constant mode, float data
  int64_t int_value = 0;  // constant mode, integer data
  ir::Shape out;
};

}  // namespace onnxrun
