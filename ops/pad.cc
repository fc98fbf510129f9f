// Pad: constant, reflect, edge and (opset 19) wrap padding (negative pads crop), on any rank. Pads
// come from attributes before opset 11 ('paddings' in opset 1, 'pads' after) and from a constant
// input from opset 11 on; from opset 18 an optional constant 'axes' input names the padded axes
// (the others get 0). CenterCropPad (opset 18) is a constant Pad centering each axis on a given
// size. An NHWC image is padded in its physical layout (pads reordered); other tensors in ONNX
// order. Constant data (shape arithmetic) folds, integers included.
#include "ops/pad.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ops/kernels/kernels.h"
#include "ops/kernels/tensor.h"
#include "ops/tensor_util.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

// Opset 18's 'axes': pads holds begins then ends for those axes only; spread it over every axis.
absl::StatusOr<std::vector<int64_t>> PadsOverAxes(const ir::Node& n,
                                                  const std::vector<int64_t>& pads,
                                                  const std::vector<int64_t>& axes, int64_t rank) {
  const size_t k = axes.size();
  if (pads.size() != 2 * k)
    return Invalid(
        n, absl::StrCat("pads has ", pads.size(), " values for ", k, " axes, expected ", 2 * k));
  std::vector<int64_t> full(2 * rank, 0);
  std::vector<bool> seen(rank, false);
  for (size_t i = 0; i < k; ++i) {
    ASSIGN_OR_RETURN(int64_t a, Axis(n, axes[i], rank, "'axes' input"));
    if (seen[a]) return Invalid(n, absl::StrCat("'axes' input names axis ", a, " twice"));
    seen[a] = true;
    full[a] = pads[i];
    full[rank + a] = pads[k + i];
  }
  return full;
}

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
  else if (mode == "wrap" && g.opset >= 19)
    p.mode = kernels::PadMode::kWrap;
  else
    return Unsupported(n,
                       absl::StrCat("mode '", mode, "' is not supported (constant, reflect, edge",
                                    g.opset >= 19 ? ", wrap" : "", " are)"));
  if (g.opset < 11) {
    RETURN_IF_ERROR(RequireInputs(n, 1, 1));
    const char* attr = g.opset < 2 && n.Has("paddings") ? "paddings" : "pads";
    if (!n.Has(attr)) return Invalid(n, absl::StrCat("attribute '", attr, "' is required"));
    ASSIGN_OR_RETURN(p.pads, n.Ints(attr));
    ASSIGN_OR_RETURN(p.value, n.Float("value", 0.f));
    p.int_value = SaturatingInt(p.value);
  } else {
    RETURN_IF_ERROR(RequireInputs(n, 2, g.opset >= 18 ? 4 : 3));
    ASSIGN_OR_RETURN(p.pads, ConstInts(g, n, 1, "'pads' input"));
    if (n.inputs.size() > 3 && n.input(3) >= 0) {
      ASSIGN_OR_RETURN(std::vector<int64_t> axes, ConstInts(g, n, 3, "'axes' input"));
      ASSIGN_OR_RETURN(p.pads, PadsOverAxes(n, p.pads, axes, rank));
    }
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
    const int64_t kept =
        x.shape[i] + std::min<int64_t>(0, p.pads[i]) + std::min<int64_t>(0, p.pads[rank + i]);
    if (p.mode != kernels::PadMode::kConstant && (x.shape[i] == 0 || kept <= 0) && d > 0)
      return Invalid(n, absl::StrCat("cannot ", mode, "-pad the empty (or cropped away) axis ", i));
    p.out.push_back(d);
  }
  return p;
}

// CenterCropPad (opset 18): each axis in 'axes' (default all) cropped or zero-padded to the
// constant 'shape' input, centered (the smaller half first, as ONNX's reference): a constant Pad
// with negative pads where it crops.
absl::StatusOr<PadParams> ParseCenterCropPad(const ir::Graph& g, const ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 2, 2));
  const auto& x = g.value(n.inputs[0]);
  const int64_t rank = x.shape.size();
  ASSIGN_OR_RETURN(std::vector<int64_t> shape, ConstInts(g, n, 1, "'shape' input"));
  std::vector<int64_t> axes(rank);
  for (int64_t i = 0; i < rank; ++i) axes[i] = i;
  if (n.Has("axes")) {
    ASSIGN_OR_RETURN(axes, n.Ints("axes"));
  }
  if (shape.size() != axes.size())
    return Invalid(
        n, absl::StrCat("'shape' input has ", shape.size(), " values for ", axes.size(), " axes"));
  if (rank > static_cast<int64_t>(kernels::kMaxRank)) return Unsupported(n, "rank above 6");
  PadParams p;
  p.pads.assign(2 * rank, 0);
  std::vector<bool> seen(rank, false);
  for (size_t k = 0; k < axes.size(); ++k) {
    ASSIGN_OR_RETURN(int64_t a, Axis(n, axes[k], rank, "attribute 'axes'"));
    if (seen[a]) return Invalid(n, absl::StrCat("attribute 'axes' names axis ", a, " twice"));
    seen[a] = true;
    if (shape[k] < 0) return Invalid(n, absl::StrCat("'shape' input has ", shape[k]));
    const int64_t diff = shape[k] - x.shape[a];  // > 0 pads, < 0 crops
    const int64_t begin = diff >= 0 ? diff / 2 : -((-diff) / 2);
    p.pads[a] = begin;
    p.pads[rank + a] = diff - begin;
  }
  for (int64_t i = 0; i < rank; ++i) p.out.push_back(x.shape[i] + p.pads[i] + p.pads[rank + i]);
  return p;
}

absl::Status InferPad(ir::Graph& g, ir::Node& n) {
  ASSIGN_OR_RETURN(PadParams p,
                   n.op == "CenterCropPad" ? ParseCenterCropPad(g, n) : ParsePad(g, n));
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
extern const OpDef kCenterCropPadOp = {"CenterCropPad", InferPad, FoldPad, LowerPad, nullptr};

}  // namespace onnxrun
