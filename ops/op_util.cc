#include <xnnpack.h>

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "ops/op.h"
#include "runtime/ir/checked.h"

namespace onnxrun::op_util {

absl::Status Unsupported(const ir::Node& n, const std::string& why) {
  return absl::UnimplementedError(absl::StrCat(n.Describe(), ": ", why));
}

absl::Status RequireWorkspace(const LowerContext& ctx, int64_t bytes) {
  if (bytes <= ctx.workspace_bytes) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(ctx.node->Describe(), ": lowering needs ", bytes,
                                          " bytes of workspace, the plan gave ",
                                          ctx.workspace_bytes));
}

absl::Status Invalid(const ir::Node& n, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(n.Describe(), ": ", why));
}

absl::StatusOr<int64_t> SizeMul(const ir::Node& n, int64_t a, int64_t b, const char* what) {
  const auto r = ir::CheckedMul(a, b);
  if (!r) return Invalid(n, absl::StrCat(what, " ", a, " x ", b, " overflows int64"));
  return *r;
}

absl::StatusOr<int64_t> SizeAdd(const ir::Node& n, int64_t a, int64_t b, const char* what) {
  const auto r = ir::CheckedAdd(a, b);
  if (!r) return Invalid(n, absl::StrCat(what, " ", a, " + ", b, " overflows int64"));
  return *r;
}

int64_t SaturatingInt(float v) {
  if (std::isnan(v)) return 0;
  if (v >= 9.2233720368547758e18f) return std::numeric_limits<int64_t>::max();
  if (v <= -9.2233720368547758e18f) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

absl::Status RequireInputs(const ir::Node& n, size_t min, size_t max) {
  size_t given = n.inputs.size();
  while (given > 0 && n.inputs[given - 1] < 0) --given;
  if (given < min || n.inputs.size() > max)
    return Invalid(n, min == max
                          ? absl::StrCat("expects ", min, " inputs, got ", given)
                          : absl::StrCat("expects ", min, " to ", max, " inputs, got ", given));
  for (size_t i = 0; i < min; ++i)
    if (n.inputs[i] < 0) return Invalid(n, absl::StrCat("input ", i, " is required"));
  return absl::OkStatus();
}

absl::Status RequireFloat(const ir::Graph& g, const ir::Node& n, size_t input) {
  const auto& v = g.value(n.inputs[input]);
  if (v.dtype != ir::DataType::kFloat32)
    return Unsupported(n, absl::StrCat("input '", v.name, "' is ", ir::DataTypeName(v.dtype),
                                       "; only float32 is computed at run time"));
  return absl::OkStatus();
}

void SetOutput(ir::Graph& g, const ir::Node& n, size_t i, ir::DataType t, ir::Shape s) {
  if (i >= n.outputs.size() || n.outputs[i] < 0) return;
  auto& v = g.value(n.outputs[i]);
  v.dtype = t;
  v.shape = std::move(s);
  v.shape_known = true;
}

absl::StatusOr<ir::Shape> Broadcast(const ir::Node& n, const ir::Shape& a, const ir::Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  ir::Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return Invalid(n, absl::StrCat("shapes ", ir::ShapeString(a), " and ", ir::ShapeString(b),
                                     " do not broadcast"));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

absl::StatusOr<int64_t> Axis(const ir::Node& n, int64_t axis, int64_t rank, const char* what) {
  if (axis < -rank || axis >= rank)
    return Invalid(n, absl::StrCat(what, " ", axis, " is out of range for rank ", rank));
  return axis < 0 ? axis + rank : axis;
}

absl::StatusOr<std::vector<int64_t>> ConstInts(const ir::Graph& g, const ir::Node& n, size_t i,
                                               const char* what) {
  if (i >= n.inputs.size() || n.inputs[i] < 0) return Invalid(n, absl::StrCat("missing ", what));
  const auto& v = g.value(n.inputs[i]);
  if (!v.is_constant())
    return Unsupported(n, absl::StrCat(what, " '", v.name,
                                       "' is computed at run time; it must be constant at load"));
  if (v.constant->dtype() == ir::DataType::kFloat32)
    return Invalid(n, absl::StrCat(what, " '", v.name, "' must be an integer tensor"));
  return v.constant->ints();
}

absl::Status Xnn(int status, const ir::Node& n, const char* call) {
  if (status == xnn_status_success) return absl::OkStatus();
  const char* what = "error";
  switch (status) {
    case xnn_status_uninitialized:
      what = "XNNPACK not initialized";
      break;
    case xnn_status_invalid_parameter:
      what = "invalid parameter";
      break;
    case xnn_status_invalid_state:
      what = "invalid state";
      break;
    case xnn_status_unsupported_parameter:
      what = "unsupported parameter";
      break;
    case xnn_status_unsupported_hardware:
      what = "unsupported hardware";
      break;
    case xnn_status_out_of_memory:
      what = "out of memory";
      break;
  }
  if (status == xnn_status_unsupported_parameter)
    return absl::UnimplementedError(absl::StrCat(n.Describe(), ": XNNPACK ", call, ": ", what));
  return absl::InternalError(absl::StrCat(n.Describe(), ": XNNPACK ", call, ": ", what));
}

}  // namespace onnxrun::op_util
