// HannWindow, HammingWindow and BlackmanWindow (opset 17): a window of `size` values, computed in
// double. The size sets the output shape, so it must be constant at load; the op then folds.
#include <cmath>
#include <numbers>

#include "absl/strings/str_cat.h"
#include "ops/typed.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;
using ir::DataType;

absl::Status InferWindow(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 1));
  const ir::Value& size = g.value(n.inputs[0]);
  if (ir::IsFloatType(size.dtype) || ir::NumElements(size.shape) != 1)
    return Invalid(n, "size must be one integer");
  if (!size.is_constant())
    return Unsupported(n, "size is computed at run time (the output shape depends on it)");
  const int64_t len = size.constant->ints()[0];
  if (len < 0) return Invalid(n, absl::StrCat("size ", len, " is negative"));
  ASSIGN_OR_RETURN(int64_t type, n.Int("output_datatype", 1));
  if (type != 1 && type != 10 && type != 11)  // float, float16, double: float32 inside
    return Unsupported(
        n, absl::StrCat("output_datatype ", ir::OnnxTypeName(type), " is not supported"));
  SetOutput(g, n, 0, DataType::kFloat32, {len});
  return absl::OkStatus();
}

absl::Status ComputeWindow(const ir::Node& n, const std::vector<TypedBuf>&,
                           const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(int64_t periodic, n.Int("periodic", 1));
  const int64_t len = out[0].count();
  // Periodic windows divide by N (one period of an N+1 symmetric window), symmetric ones by N-1.
  const double denom = periodic ? len : len - 1;
  const double step = denom > 0 ? 2 * std::numbers::pi / denom : 0;
  for (int64_t k = 0; k < len; ++k) {
    const double c1 = std::cos(step * k), c2 = std::cos(2 * step * k);
    double w;
    if (n.op == "HannWindow") {
      w = 0.5 - 0.5 * c1;
    } else if (n.op == "HammingWindow") {
      w = 25.0 / 46 - (1 - 25.0 / 46) * c1;
    } else {
      w = 0.42 - 0.5 * c1 + 0.08 * c2;
    }
    out[0].f()[k] = static_cast<float>(w);
  }
  return absl::OkStatus();
}

}  // namespace

ONNXRUN_TYPED_OP(HannWindow, InferWindow, ComputeWindow);
ONNXRUN_TYPED_OP(HammingWindow, InferWindow, ComputeWindow);
ONNXRUN_TYPED_OP(BlackmanWindow, InferWindow, ComputeWindow);

}  // namespace onnxrun
