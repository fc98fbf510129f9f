// Which nodes carry NaN and infinities through as ONNX Runtime 1.30 does. Session::Run refuses a
// non-finite value in an input from which a node that does not is reachable
// (SessionOptions::check_finite_inputs; docs/ROBUSTNESS.md "NaN and infinities").
#include <string_view>
#include <unordered_set>

#include "ops/op.h"

namespace onnxrun {

bool PropagatesNonFinite(const ir::Node& n) {
  // Measured against onnxruntime-node 1.30 (unit tests NanAndInfinitiesAsOnnxRuntime, SessionRun
  // NonFiniteInputs): the own clamp of a standalone Relu/Clip, the own Max/Min, Tanh and Sigmoid
  // keep NaN and infinities as ORT does, and data movement copies them bit for bit. Everything
  // else counts as not propagating: the XNNPACK operators (Conv, Gemm, elementwise arithmetic,
  // pooling, softmax) clamp their output with max/min instructions that turn NaN into the lower
  // bound (NaN -> 0 after a fused Relu, -inf otherwise), and ORT's own MaxPool keeps a NaN only
  // where it is first in its window, which no kernel here reproduces.
  static const auto* kPropagating = new std::unordered_set<std::string_view>{
      "Relu", "Clip", "Tanh", "Sigmoid", "Max", "Min", "Identity", "Reshape", "Flatten", "Squeeze",
      "Unsqueeze", "Transpose", "Concat", "Slice", "Split", "Gather", "Expand", "Tile", "Pad",
      "IsNaN", "IsInf",
      // A float cast is an alias or rounds to float16/bfloat16 keeping NaN and infinities; a cast
      // of NaN or an infinity to an integer is refused with an error naming the value.
      "Cast", "CastLike"};
  // A fused clamp or activation runs inside the producer's kernel (an XNNPACK clamp).
  const ir::Fusion& f = n.fusion;
  if (f.has_clamp() || f.input || !f.activation.empty() || !f.absorbed.empty()) return false;
  return n.domain.empty() && kPropagating->count(n.op) > 0;
}

bool PropagatesInfinity(const ir::Node& n) {
  if (PropagatesNonFinite(n)) return true;
  // XNNPACK's binary operators with bounds -inf, +inf leave every non-NaN result as computed.
  static const auto* kArithmetic =
      new std::unordered_set<std::string_view>{"Add", "Sub", "Mul", "Div", "Neg", "Abs"};
  const ir::Fusion& f = n.fusion;
  if (f.has_clamp() || f.input || !f.activation.empty() || !f.absorbed.empty()) return false;
  return n.domain.empty() && kArithmetic->count(n.op) > 0;
}

}  // namespace onnxrun
