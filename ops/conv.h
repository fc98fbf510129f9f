// Conv's attributes as its infer resolves them (ops/conv.cc).
#pragma once

#include <cstdint>

#include "ops/kernels/window.h"
#include "runtime/ir/graph.h"

namespace onnxrun {

struct ConvParams : ir::OpParams {
  int64_t group = 1;
  kernels::Window window;  // resolved against the input's spatial shape (auto_pad applied)
};

}  // namespace onnxrun
