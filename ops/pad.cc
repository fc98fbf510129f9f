// Pad: constant, reflect and edge padding (negative pads crop), on any rank. Pads come from
// attributes before opset 11 ('paddings' in opset 1, 'pads' after) and from a constant input from
// opset 11 on. An NHWC image is padded in its physical layout (pads reordered); other tensors in
// ONNX order. Constant data (shape arithmetic) folds, integers included.
#include "ops/pad.h"

#include "absl/strings/str_cat.h"
#include "ops/kernels/kernels.h"
#include "ops/kernels/tensor.h"
#include "ops/tensor_util.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

absl::StatusOr<PadParams> ParsePad(const ir::Graph& g, const ir::Node& n) {
  const auto& x = g.value(n.inputs[0]);
  const int64_t rank = x.shape.size();
  PadParams p;
  ASSIGN_OR_RETURN(std::string mode, n.String("mode", "constant"));
  if (mode == "constant")
    p.mode = kernels::PadMode::kConstant;
  else if (mode == "reflect")
    p.mode = kernels::PadMode::kReflect;
  else if (mode == "edge")
    p.mode = kernels::PadMode::kEdge;
  else
    return Unsupported(
        n, absl::StrCat("mode '", mode, "' is not supported (constant, reflect, edge are)"));
  if (g.opset < 11) {
    RETURN_IF_ERROR(RequireInputs(n, 1, 1));
    const char* attr = g.opset < 2 && n.Has("paddings") ? "paddings" : "pads";
    if (!n.Has(attr)) return Invalid(n, absl::StrCat("attribute '", attr, "' is required"));
    ASSIGN_OR_RETURN(p.pads, n.Ints(attr));
    ASSIGN_OR_RETURN(p.value, n.Float("value", 0.f));
    p.int_value = SaturatingInt(p.value);
  } else {
    RETURN_IF_ERROR(RequireInputs(n, 2, 3));
    ASSIGN_OR_RETURN(p.pads, ConstInts(g, n, 1, "'pads' input"));
    if (n.input(2) >= 0) {
      const auto& v = g.value(n.inputs[2]);
      if (!v.is_constant())
        return Unsupported(n, absl::StrCat("'constant_value' input '", v.name,
                                           "' is computed at run time; it must be constant"));
      if (v.constant->num_elements() != 1)
        return Invalid(n, absl::StrCat("'constant_value' input '", v.name, "' must be a scalar"));
      if (IsFloat(*v.constant)) {
        p.value = v.constant->values()[0];
        p.int_value = SaturatingInt(p.value);
      } else {
        p.int_value = v.constant->ints()[0];
        p.value = static_cast<float>(p.int_value);
      }
    }
  }
  if (static_cast<int64_t>(p.pads.size()) != 2 * rank)
    return Invalid(n, absl::StrCat("pads has ", p.pads.size(), " values for rank ", rank,
                                   ", expected ", 2 * rank));
  if (rank > static_cast<int64_t>(kernels::kMaxRank)) return Unsupported(n, "rank above 6");
  for (int64_t i = 0; i < rank; ++i) {
    ASSIGN_OR_RETURN(const int64_t begin, SizeAdd(n, x.shape[i], p.pads[i], "padded size"));
    ASSIGN_OR_RETURN(const int64_t d, SizeAdd(n, begin, p.pads[rank + i], "padded size"));
    if (d < 0)
      return Invalid(n, absl::StrCat("pads ", ir::ShapeString(p.pads), " crop axis ", i,
                                     " of size ", x.shape[i], " below zero"));
    if (p.mode != kernels::PadMode::kConstant && x.shape[i] == 0 && d > 0)
      return Invalid(n, absl::StrCat("cannot ", mode, "-pad the empty axis ", i));
    p.out.push_back(d);
  }
  return p;
}

absl::Status InferPad(ir::Graph& g, ir::Node& n) {
  ASSIGN_OR_RETURN(PadParams p, ParsePad(g, n));
  const auto& x = g.value(n.inputs[0]);
  if (!x.is_constant()) RETURN_IF_ERROR(RequireFloat(g, n, 0));
  SetOutput(g, n, 0, x.dtype, p.out);
  n.params = std::make_shared<PadParams>(std::move(p));
  return absl::OkStatus();
}

absl::Status FoldPad(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* out) {
  ASSIGN_OR_RETURN(const PadParams* params, Params<PadParams>(n));
  const PadParams& p = *params;
  const ir::Tensor& x = *g.value(n.inputs[0]).constant;
  ir::Tensor y = EmptyLike(x, p.out);
  const auto dims = SizeDims(x.shape());
  const void* value = IsFloat(x) ? static_cast<const void*>(&p.value) : &p.int_value;
  if (!kernels::Pad(RawData(x), RawData(y), ElemSize(x), dims.size(), dims.data(), p.pads.data(),
                    p.mode, value))
    return Invalid(n, "cannot pad");
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerPad(const LowerContext& ctx) {
  const ir::Node& n = *ctx.node;
  ASSIGN_OR_RETURN(const PadParams* params, Params<PadParams>(n));
  const PadParams& p = *params;
  const auto& x = ctx.input(0);
  ir::Shape shape = x.shape;
  std::vector<int64_t> pads = p.pads;
  if (IsNhwc(x)) {  // pad the physical [N, H, W, C] buffer: reorder dims and pads alike
    shape = NhwcShape(x.shape);
    for (int half = 0; half < 2; ++half)
      for (int64_t i = 0; i < 4; ++i) pads[half * 4 + NhwcAxis(i)] = p.pads[half * 4 + i];
  }
  const auto dims = SizeDims(shape);
  const float* in = ctx.in[0].data;
  float* out = ctx.out[0].data;
  const float value = p.value;
  const auto mode = p.mode;
  return MakeFnKernel([=](pthreadpool_t) {
    kernels::Pad(in, out, sizeof(float), dims.size(), dims.data(), pads.data(), mode, &value);
  });
}

}  // namespace

extern const OpDef kPadOp = {"Pad", InferPad, FoldPad, LowerPad, nullptr};

}  // namespace onnxrun
