// What the optimizer may ask of a Conv beyond the ONNX op.
#pragma once

#include "runtime/ir/graph.h"

namespace onnxrun {

// True when this Conv runs on the runtime's own GEMM kernel in a form that can apply an input
// transform while packing (dense, 1x1, stride 1, no padding, AVX-512).
bool ConvAcceptsInputTransform(const ir::Graph& g, const ir::Node& conv);

}  // namespace onnxrun
