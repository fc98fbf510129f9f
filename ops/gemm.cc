// Gemm and MatMul. With constant weights they run as XNNPACK fully-connected operators (weights
// packed once, alpha and a row-broadcast beta*C folded into weights and bias, clamp fused);
// otherwise the runtime's own blocked matmul. A fused pointwise activation (Tanh, Sigmoid, ...)
// runs over the output right after either, in the same step.
#include "ops/gemm.h"

#include <cmath>
#include <cstring>

#include "absl/base/casts.h"
#include "absl/strings/str_cat.h"
#include "ops/kernels/gemm.h"
#include "ops/kernels/kernels.h"
#include "ops/row_major.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

absl::Status InferGemm(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 2, 3));
  for (size_t i = 0; i < n.inputs.size(); ++i)
    if (n.inputs[i] >= 0) RETURN_IF_ERROR(RequireFloat(g, n, i));
  const auto& a = g.value(n.inputs[0]);
  const auto& b = g.value(n.inputs[1]);
  if (a.shape.size() != 2 || b.shape.size() != 2)
    return Invalid(n, absl::StrCat("A ", ir::ShapeString(a.shape), " and B ",
                                   ir::ShapeString(b.shape), " must be matrices"));
  auto p = std::make_shared<GemmParams>();
  ASSIGN_OR_RETURN(int64_t ta, n.Int("transA", 0));
  ASSIGN_OR_RETURN(int64_t tb, n.Int("transB", 0));
  ASSIGN_OR_RETURN(p->alpha, n.Float("alpha", 1.f));
  ASSIGN_OR_RETURN(p->beta, n.Float("beta", 1.f));
  // A NaN or infinite scale is folded into XNNPACK's weights, whose clamped GEMM would not give
  // ONNX Runtime's NaN outputs (the mutation run's Gemm with alpha = NaN): refused like a NaN
  // weight.
  for (auto [name, v] : {std::pair{"alpha", p->alpha}, std::pair{"beta", p->beta}})
    if (!std::isfinite(v))
      return Invalid(n,
                     absl::StrCat("attribute '", name, "' is ", v, "; a finite value is needed"));
  p->trans_a = ta != 0;
  p->trans_b = tb != 0;
  p->m = ta ? a.shape[1] : a.shape[0];
  p->k = ta ? a.shape[0] : a.shape[1];
  p->n = tb ? b.shape[0] : b.shape[1];
  const int64_t kb = tb ? b.shape[1] : b.shape[0];
  if (kb != p->k)
    return Invalid(n, absl::StrCat("inner dimensions differ: A gives ", p->k, ", B gives ", kb));
  if (n.input(2) >= 0)  // C must broadcast to [M, N]
    RETURN_IF_ERROR(Broadcast(n, g.value(n.inputs[2]).shape, {p->m, p->n}).status());
  SetOutput(g, n, 0, ir::DataType::kFloat32, {p->m, p->n});
  n.params = std::move(p);
  return absl::OkStatus();
}

// Generic y = alpha * op(A) op(B) + beta * C on row-major buffers.
void GemmReference(const float* a, const float* b, const float* c, const ir::Shape& c_shape,
                   float* y, const GemmParams& d, float* scratch_a, float* scratch_b) {
  const bool ta = d.trans_a, tb = d.trans_b;
  const float alpha = d.alpha, beta = d.beta;
  const float* pa = a;
  const float* pb = b;
  if (ta) {
    for (int64_t i = 0; i < d.k; ++i)
      for (int64_t j = 0; j < d.m; ++j) scratch_a[j * d.k + i] = a[i * d.m + j];
    pa = scratch_a;
  }
  if (tb) {
    for (int64_t i = 0; i < d.n; ++i)
      for (int64_t j = 0; j < d.k; ++j) scratch_b[j * d.n + i] = b[i * d.k + j];
    pb = scratch_b;
  }
  std::memset(y, 0, sizeof(float) * d.m * d.n);
  kernels::Gemm(d.m, d.k, d.n, pa, d.k, pb, d.n, y, d.n);
  for (int64_t i = 0; i < d.m * d.n; ++i) y[i] *= alpha;
  if (c) {
    const int64_t cr = c_shape.size() == 2 ? c_shape[0] : 1;
    const int64_t cc = c_shape.empty() ? 1 : c_shape.back();
    for (int64_t i = 0; i < d.m; ++i)
      for (int64_t j = 0; j < d.n; ++j)
        y[i * d.n + j] += beta * c[(cr == 1 ? 0 : i) * cc + (cc == 1 ? 0 : j)];
  }
}

absl::Status FoldGemm(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* out) {
  ASSIGN_OR_RETURN(const GemmParams* p, Params<GemmParams>(n));
  const GemmParams& d = *p;
  std::vector<float> sa(d.m * d.k), sb(d.k * d.n);
  const ir::Tensor* c = n.input(2) >= 0 ? g.value(n.inputs[2]).constant.get() : nullptr;
  ir::Tensor y({d.m, d.n});
  GemmReference(g.value(n.inputs[0]).constant->data(), g.value(n.inputs[1]).constant->data(),
                c ? c->data() : nullptr, c ? c->shape() : ir::Shape{}, y.data(), d, sa.data(),
                sb.data());
  out->push_back(std::move(y));
  return absl::OkStatus();
}

// XNNPACK fully connected: y[rows, n] = x[rows, k] * alpha * W + beta * bias, W the constant
// input 1 as [n, k] (or [k, n] when w_is_kn), bias the optional constant input 2 ([n] or one
// value). One operator (one packed copy of W) per session, shared by its run contexts and shapes.
absl::StatusOr<std::unique_ptr<Kernel>> FullyConnected(const LowerContext& ctx, size_t rows,
                                                       size_t k, size_t n_out, bool w_is_kn,
                                                       float alpha = 1.f, float beta = 1.f) {
  const ir::Node& n = *ctx.node;
  const float lo = n.fusion.lo, hi = n.fusion.hi;
  auto create = [&](xnn_operator_t* op) {
    const ir::Tensor* b = ctx.constant(1);
    const ir::Tensor* c = ctx.constant(2);
    // XNNPACK packs its own copy: scale a temporary only when alpha asks for it (an FC layer's
    // weights can be 150 MB; a needless copy would raise the load peak by as much).
    std::vector<float> scaled;
    const float* w = b->data();
    if (alpha != 1.f) {
      scaled = b->values();
      for (float& v : scaled) v *= alpha;
      w = scaled.data();
    }
    std::vector<float> bias;
    if (c) {
      bias = c->values();
      if (c->num_elements() == 1) bias.assign(n_out, c->values()[0]);
      for (float& v : bias) v *= beta;
    }
    return xnn_create_fully_connected_nc_f32(k, n_out, k, n_out, w, c ? bias.data() : nullptr, lo,
                                             hi, w_is_kn ? XNN_FLAG_TRANSPOSE_WEIGHTS : 0, op);
  };
  const std::string key = absl::StrCat(
      "xnn_fc:", k, "x", n_out, w_is_kn ? ":kn:" : ":nk:", absl::bit_cast<uint32_t>(alpha), ":",
      absl::bit_cast<uint32_t>(beta), ":", absl::bit_cast<uint32_t>(lo), ":",
      absl::bit_cast<uint32_t>(hi));
  const float* x = ctx.in[0].data;
  float* y = ctx.out[0].data;
  return LowerSharedXnn(
      ctx, key, {1, 2}, create,
      [=](xnn_operator_t op, pthreadpool_t pool) {
        return xnn_setup_fully_connected_nc_f32(op, rows, x, y, pool);
      },
      "fully connected");
}

// Floats of the generic path's workspace: the transposed copies of A and B it needs.
int64_t TransposeFloats(const GemmParams& d) {
  return (d.trans_a ? AlignFloats(d.m * d.k) : 0) + (d.trans_b ? AlignFloats(d.k * d.n) : 0);
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerGemm(const LowerContext& ctx) {
  const ir::Node& n = *ctx.node;
  ASSIGN_OR_RETURN(const GemmParams* p, Params<GemmParams>(n));
  const GemmParams d = *p;
  const bool ta = d.trans_a, tb = d.trans_b;
  const float alpha = d.alpha, beta = d.beta;
  const ir::Tensor* b = ctx.constant(1);
  const ir::Tensor* c = ctx.constant(2);
  if (n.impl == ir::Impl::kFullyConnected) {
    if (!b || (ctx.has_input(2) && !c))
      return absl::InternalError(
          absl::StrCat(n.Describe(), ": selected fully connected without constant weights"));
    return FullyConnected(ctx, d.m, d.k, d.n, !tb, alpha, beta);
  }
  if (n.impl != ir::Impl::kMatMul)
    return absl::InternalError(absl::StrCat(n.Describe(), ": no Gemm kernel selected"));
  if (n.fusion.has_clamp()) return Unsupported(n, "fused activation on a generic Gemm");
  // Transposed copies of A and B in the workspace (see GemmWorkspace).
  RETURN_IF_ERROR(RequireWorkspace(ctx, TransposeFloats(d) * int64_t(sizeof(float))));
  float* sa = ctx.workspace;
  float* sb = ta ? sa + AlignFloats(d.m * d.k) : sa;
  const float* pa = ctx.in[0].data ? ctx.in[0].data : ctx.constant(0)->data();
  const float* pb = ctx.in[1].data ? ctx.in[1].data : b->data();
  const float* pc = nullptr;
  ir::Shape c_shape;
  if (ctx.has_input(2)) {
    pc = ctx.in[2].data ? ctx.in[2].data : c->data();
    c_shape = ctx.input(2).shape;
    if (c_shape.size() == 1) c_shape = {1, c_shape[0]};
  }
  float* y = ctx.out[0].data;
  // Hold the constants: the graph releases them after lowering.
  auto keep = std::make_tuple(ctx.input(0).constant, ctx.input(1).constant,
                              ctx.has_input(2) ? ctx.input(2).constant : nullptr);
  return MakeFnKernel([=](pthreadpool_t) {
    (void)keep;
    GemmReference(pa, pb, pc, c_shape, y, d, sa, sb);
  });
}

absl::Status InferMatMul(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 2, 2));
  RETURN_IF_ERROR(RequireFloat(g, n, 0));
  RETURN_IF_ERROR(RequireFloat(g, n, 1));
  const auto& a = g.value(n.inputs[0]).shape;
  const auto& b = g.value(n.inputs[1]).shape;
  std::vector<size_t> da(a.begin(), a.end()), db(b.begin(), b.end());
  size_t rank = 0, out[kernels::kMaxRank + 1];
  if (a.empty() || b.empty() || a.size() > kernels::kMaxRank || b.size() > kernels::kMaxRank ||
      !kernels::MatMulShape(da.size(), da.data(), db.size(), db.data(), &rank, out))
    return Invalid(n, absl::StrCat("shapes ", ir::ShapeString(a), " and ", ir::ShapeString(b),
                                   " cannot be multiplied"));
  SetOutput(g, n, 0, ir::DataType::kFloat32, ir::Shape(out, out + rank));
  return absl::OkStatus();
}

absl::Status FoldMatMul(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* out) {
  const ir::Tensor& a = *g.value(n.inputs[0]).constant;
  const ir::Tensor& b = *g.value(n.inputs[1]).constant;
  std::vector<size_t> da(a.shape().begin(), a.shape().end()),
      db(b.shape().begin(), b.shape().end());
  ir::Tensor y(g.value(n.outputs[0]).shape);
  kernels::MatMul(a.data(), da.size(), da.data(), b.data(), db.size(), db.data(), y.data());
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerMatMul(const LowerContext& ctx) {
  const ir::Node& n = *ctx.node;
  const auto& a = ctx.input(0);
  const ir::Tensor* b = ctx.constant(1);
  if (n.impl == ir::Impl::kFullyConnected) {
    if (!b || b->shape().size() != 2)
      return absl::InternalError(
          absl::StrCat(n.Describe(), ": selected fully connected without 2-D constant weights"));
    const int64_t k = b->shape()[0], n_out = b->shape()[1];
    return FullyConnected(ctx, ir::NumElements(a.shape) / k, k, n_out, true);
  }
  if (n.impl != ir::Impl::kMatMul)
    return absl::InternalError(absl::StrCat(n.Describe(), ": no MatMul kernel selected"));
  if (n.fusion.has_clamp()) return Unsupported(n, "fused activation on a generic MatMul");
  std::vector<size_t> da(a.shape.begin(), a.shape.end());
  std::vector<size_t> db(ctx.input(1).shape.begin(), ctx.input(1).shape.end());
  return LowerRowMajor(
      ctx,
      [=](const std::vector<const float*>& in,
          const std::vector<float*>& out) -> absl::StatusOr<std::unique_ptr<Kernel>> {
        const float* pa = in[0];
        const float* pb = in[1];
        float* y = out[0];
        return MakeFnKernel([=](pthreadpool_t pool) {
          kernels::MatMul(pa, da.size(), da.data(), pb, db.size(), db.data(), y, pool);
        });
      });
}

// The one place a Gemm/MatMul's kernel is chosen (OpDef::select, called by select_kernels):
// XNNPACK's fully connected operator for constant 2-D weights, a run-time A and a bias that is
// one row (folded with alpha and beta into weights and bias); the own matmul otherwise.
bool FitsFullyConnected(const ir::Graph& g, const ir::Node& n) {
  const auto& a = g.value(n.inputs[0]);
  const auto& b = g.value(n.inputs[1]);
  if (a.is_constant() || !b.is_constant()) return false;
  if (n.op == "MatMul") return b.shape.size() == 2 && a.shape.size() >= 2 && !IsNhwc(a);
  const GemmParams* p = ir::ParamsAs<GemmParams>(n);
  if (!p || p->trans_a) return false;
  if (n.input(2) >= 0) {
    const auto& c = g.value(n.inputs[2]);
    const int64_t cols = p->n;
    if (!c.is_constant() || ir::NumElements(c.shape) != cols ||
        (c.shape.size() == 2 && c.shape[0] != 1))
      return false;
  }
  return true;
}

void SelectGemmKernel(const ir::Graph& g, ir::Node& n, const KernelOptions&) {
  n.impl = FitsFullyConnected(g, n) ? ir::Impl::kFullyConnected : ir::Impl::kMatMul;
}

// The generic kernels' workspace (the one select_kernels recorded): Gemm's transposed operands,
// MatMul's row-major copies. XNNPACK's fully connected operator keeps its own.
int64_t GemmWorkspace(const ir::Graph& g, const ir::Node& n, int threads) {
  if (n.impl != ir::Impl::kMatMul) return 0;
  if (n.op == "MatMul") return RowMajorWorkspace(g, n, threads);
  const GemmParams* p = ir::ParamsAs<GemmParams>(n);
  return p ? TransposeFloats(*p) * int64_t(sizeof(float)) : 0;
}

// A fused clamp needs the fully connected kernel; a fused pointwise activation runs after either.
uint32_t GemmCaps(const ir::Graph& g, const ir::Node& n) {
  return kCapActivation | (n.impl == ir::Impl::kFullyConnected ? uint32_t{kCapClamp} : 0u);
}

}  // namespace

extern const OpDef kGemmOp = {.name = "Gemm",
                              .infer = InferGemm,
                              .fold = FoldGemm,
                              .lower = LowerThenActivate<LowerGemm>,
                              .caps = GemmCaps,
                              .workspace = GemmWorkspace,
                              .select = SelectGemmKernel};
extern const OpDef kMatMulOp = {.name = "MatMul",
                                .infer = InferMatMul,
                                .fold = FoldMatMul,
                                .lower = LowerThenActivate<LowerMatMul>,
                                .caps = GemmCaps,
                                .workspace = GemmWorkspace,
                                .select = SelectGemmKernel};

}  // namespace onnxrun
