// What the optimizer may ask of a Conv beyond the ONNX op.
#pragma once

#include "runtime/ir/graph.h"

namespace onnxrun {

// Internal attributes of a Conv that reads its input through a per-channel affine + clamp
// (a pre-activation BatchNormalization(+Relu) folded into the conv's input packing).
inline constexpr char kConvInputScale[] = "onnxrun.input_scale";
inline constexpr char kConvInputBias[] = "onnxrun.input_bias";
inline constexpr char kConvInputClamp[] = "onnxrun.input_clamp";

// True when this Conv runs on the runtime's own GEMM kernel in a form that can apply an input
// transform while packing (dense, 1x1, stride 1, no padding, AVX-512).
bool ConvAcceptsInputTransform(const ir::Graph& g, const ir::Node& conv);

}  // namespace onnxrun
