// Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout: pure views. They alias their input when
// the physical layouts agree (row-major on both sides, or NHWC with C == 1 or H*W == 1); otherwise
// the data is copied through ONNX (row-major) order.
#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "ops/row_major.h"
#include "ops/tensor_util.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

absl::StatusOr<std::vector<int64_t>> AxesOf(const ir::Graph& g, const ir::Node& n, size_t input) {
  if (g.opset >= 13 && n.input(input) >= 0) return ConstInts(g, n, input, "'axes' input");
  return n.Ints("axes");
}

absl::StatusOr<ir::Shape> ViewShape(const ir::Graph& g, const ir::Node& n) {
  const ir::Shape& in = g.value(n.inputs[0]).shape;
  const int64_t rank = in.size();
  const int64_t count = ir::NumElements(in);
  if (n.op == "Identity" || n.op == "Dropout") return in;
  if (n.op == "Flatten") {
    ASSIGN_OR_RETURN(int64_t axis, n.Int("axis", 1));
    if (axis < -rank || axis > rank)
      return Invalid(n,
                     absl::StrCat("attribute 'axis' ", axis, " is out of range for rank ", rank));
    if (axis < 0) axis += rank;
    // Products of the two halves (not count / outer: a batch of 0 keeps the inner size, as in
    // ONNX Runtime; the input shape is checked, so no partial product overflows).
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < axis; ++i) outer *= in[i];
    for (int64_t i = axis; i < rank; ++i) inner *= in[i];
    return ir::Shape{outer, inner};
  }
  if (n.op == "Reshape") {
    std::vector<int64_t> target;
    if (g.opset < 5) {
      ASSIGN_OR_RETURN(target, n.Ints("shape"));
    } else {
      RETURN_IF_ERROR(RequireInputs(n, 2, 2));
      ASSIGN_OR_RETURN(target, ConstInts(g, n, 1, "'shape' input"));
    }
    ASSIGN_OR_RETURN(int64_t allowzero, n.Int("allowzero", 0));
    ir::Shape out(target.size());
    int64_t known = 1, infer_at = -1;
    for (size_t i = 0; i < target.size(); ++i) {
      int64_t d = target[i];
      if (d == 0 && !allowzero) {
        if (static_cast<int64_t>(i) >= rank)
          return Invalid(n, absl::StrCat("shape entry ", i, " is 0 but the input has rank ", rank));
        d = in[i];
      }
      if (d == -1) {
        if (infer_at >= 0) return Invalid(n, "shape has more than one -1");
        infer_at = i;
        continue;
      }
      if (d < 0) return Invalid(n, absl::StrCat("shape entry ", i, " is ", d));
      out[i] = d;
      ASSIGN_OR_RETURN(known, SizeMul(n, known, d, "shape product"));
    }
    if (infer_at >= 0) {
      if (known == 0 || count % known != 0)
        return Invalid(n, absl::StrCat("cannot reshape ", ir::ShapeString(in), " to ",
                                       ir::ShapeString(target)));
      out[infer_at] = count / known;
    } else if (known != count) {
      return Invalid(n, absl::StrCat("cannot reshape ", ir::ShapeString(in), " (", count,
                                     " elements) to ", ir::ShapeString(target)));
    }
    return out;
  }
  if (n.op == "Squeeze") {
    ASSIGN_OR_RETURN(std::vector<int64_t> axes, AxesOf(g, n, 1));
    std::vector<bool> drop(rank, false);
    if (axes.empty()) {
      for (int64_t i = 0; i < rank; ++i) drop[i] = in[i] == 1;
    }
    for (int64_t a : axes) {
      ASSIGN_OR_RETURN(int64_t ax, Axis(n, a, rank, "axis"));
      if (in[ax] != 1)
        return Invalid(n, absl::StrCat("cannot squeeze axis ", a, " of size ", in[ax]));
      drop[ax] = true;
    }
    ir::Shape out;
    for (int64_t i = 0; i < rank; ++i)
      if (!drop[i]) out.push_back(in[i]);
    return out;
  }
  // Unsqueeze
  ASSIGN_OR_RETURN(std::vector<int64_t> axes, AxesOf(g, n, 1));
  const int64_t out_rank = rank + axes.size();
  std::vector<bool> inserted(out_rank, false);
  for (int64_t a : axes) {
    ASSIGN_OR_RETURN(int64_t ax, Axis(n, a, out_rank, "axis"));
    if (inserted[ax]) return Invalid(n, absl::StrCat("axis ", a, " is repeated"));
    inserted[ax] = true;
  }
  ir::Shape out;
  size_t j = 0;
  for (int64_t i = 0; i < out_rank; ++i) out.push_back(inserted[i] ? 1 : in[j++]);
  return out;
}

absl::Status InferView(ir::Graph& g, ir::Node& n) {
  if (n.op == "Dropout") {
    RETURN_IF_ERROR(RequireInputs(n, 1, 3));
    if (n.input(2) >= 0) {
      ASSIGN_OR_RETURN(auto training, ConstInts(g, n, 2, "'training_mode' input"));
      // Training with a ratio of 0 drops nothing: the inference Dropout (random masks are not).
      bool zero_ratio = false;
      if (n.input(1) >= 0 && g.value(n.inputs[1]).is_constant()) {
        const ir::Tensor& r = *g.value(n.inputs[1]).constant;
        zero_ratio = r.num_elements() == 1 && (IsFloat(r) ? r.values()[0] == 0 : r.ints()[0] == 0);
      }
      if (!training.empty() && training[0] != 0 && !zero_ratio)
        return Unsupported(n, "training_mode = true (random masks)");
    }
    ASSIGN_OR_RETURN(int64_t is_test, n.Int("is_test", 1));
    if (g.opset < 7 && !is_test) return Unsupported(n, "is_test = 0 (training)");
    if (n.outputs.size() > 1 && n.outputs[1] >= 0) {
      const auto& in = g.value(n.inputs[0]);
      // The mask is all true in inference.
      SetOutput(g, n, 1, ir::DataType::kBool, in.shape);
    }
  } else {
    RETURN_IF_ERROR(
        RequireInputs(n, 1, n.op == "Reshape" || n.op == "Squeeze" || n.op == "Unsqueeze" ? 2 : 1));
  }
  ASSIGN_OR_RETURN(ir::Shape out, ViewShape(g, n));
  SetOutput(g, n, 0, g.value(n.inputs[0]).dtype, out);
  return absl::OkStatus();
}

absl::Status FoldView(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* out) {
  const ir::Tensor& x = *g.value(n.inputs[0]).constant;
  out->push_back(Reshaped(x, g.value(n.outputs[0]).shape));
  if (n.op == "Dropout" && n.outputs.size() > 1 && n.outputs[1] >= 0)
    out->push_back(ir::Tensor::Ints(x.shape(), std::vector<int64_t>(x.num_elements(), 1),
                                    ir::DataType::kBool));
  return absl::OkStatus();
}

bool RowMajorEquivalent(const ir::Value& v) {
  return !IsNhwc(v) || v.shape[1] == 1 || v.shape[2] * v.shape[3] == 1;
}

// Views move elements of any type (integer and bool ones are int64 elements).
uint32_t ViewCaps(const ir::Graph& g, const ir::Node& n) {
  if (n.outputs.size() > 1 && n.outputs[1] >= 0) return kCapTyped;  // Dropout with a mask
  if (RowMajorEquivalent(g.value(n.inputs[0])) && RowMajorEquivalent(g.value(n.outputs[0])))
    return kCapAlias | kCapTyped;
  return kCapTyped;
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerView(const LowerContext& ctx) {
  const bool mask = ctx.node->outputs.size() > 1 && ctx.node->outputs[1] >= 0;
  const size_t count = ir::NumElements(ctx.output(0).shape);
  const size_t bytes = count * ir::ElementBytes(ctx.output(0).dtype);
  return LowerRowMajor(
      ctx,
      [=](const std::vector<const float*>& in,
          const std::vector<float*>& out) -> absl::StatusOr<std::unique_ptr<Kernel>> {
        const float* x = in[0];
        float* y = out[0];
        // Dropout's mask in inference (or training with ratio 0) is all true.
        int64_t* m = mask ? reinterpret_cast<int64_t*>(out[1]) : nullptr;
        return MakeFnKernel([=](pthreadpool_t) {
          if (x != y) std::memmove(y, x, bytes);
          if (m) std::fill_n(m, count, int64_t{1});
        });
      });
}

}  // namespace

#define ONNXRUN_VIEW_OP(name)                                       \
  extern const OpDef k##name##Op = {#name,     InferView, FoldView, \
                                    LowerView, ViewCaps,  RowMajorWorkspace};
ONNXRUN_VIEW_OP(Reshape)
ONNXRUN_VIEW_OP(Flatten)
ONNXRUN_VIEW_OP(Squeeze)
ONNXRUN_VIEW_OP(Unsqueeze)
ONNXRUN_VIEW_OP(Identity)
ONNXRUN_VIEW_OP(Dropout)
#undef ONNXRUN_VIEW_OP

}  // namespace onnxrun
