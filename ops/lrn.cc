// LRN (local response normalization across channels; GoogLeNet's and AlexNet's original form).
// XNNPACK has no such operator: the runtime's own NHWC kernel, one pass with a running window sum.
#include "ops/kernels/lrn.h"

#include "absl/strings/str_cat.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

struct LrnParams : ir::OpParams {
  size_t size = 1;
  float alpha = 1e-4f, beta = 0.75f, bias = 1.f;
};

absl::Status InferLrn(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 1));
  RETURN_IF_ERROR(RequireFloat(g, n, 0));
  const auto& x = g.value(n.inputs[0]);
  if (x.shape.size() != 4)
    return Unsupported(n, absl::StrCat("input of rank ", x.shape.size(), " (only rank 4)"));
  if (!n.Has("size")) return Invalid(n, "attribute 'size' is required");
  ASSIGN_OR_RETURN(int64_t size, n.Int("size", 1));
  if (size < 1) return Invalid(n, "attribute 'size' must be positive");
  auto p = std::make_shared<LrnParams>();
  p->size = size;
  ASSIGN_OR_RETURN(p->alpha, n.Float("alpha", 1e-4f));
  ASSIGN_OR_RETURN(p->beta, n.Float("beta", 0.75f));
  ASSIGN_OR_RETURN(p->bias, n.Float("bias", 1.f));
  n.params = std::move(p);
  SetOutput(g, n, 0, ir::DataType::kFloat32, x.shape);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerLrn(const LowerContext& ctx) {
  const ir::Node& n = *ctx.node;
  if (n.fusion.has_clamp()) return Unsupported(n, "fused activation after LRN");
  const auto& x = ctx.input(0);
  ASSIGN_OR_RETURN(const LrnParams* p, Params<LrnParams>(n));
  const size_t size = p->size;
  const float alpha = p->alpha, beta = p->beta, bias = p->bias;
  const float* in = ctx.in[0].data;
  float* out = ctx.out[0].data;
  const size_t xs = ctx.in[0].pixel_stride, ys = ctx.out[0].pixel_stride;
  const size_t pixels = x.shape[0] * x.shape[2] * x.shape[3], c = x.shape[1];
  return MakeFnKernel([=](pthreadpool_t pool) {
    kernels::LrnNhwc(in, xs, out, ys, pixels, c, size, alpha, beta, bias, pool);
  });
}

uint32_t LrnCaps(const ir::Graph&, const ir::Node&) { return kCapStridedInput | kCapStridedOutput; }

}  // namespace

extern const OpDef kLRNOp = {"LRN", InferLrn, nullptr, LowerLrn, LrnCaps};

}  // namespace onnxrun
