// ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceSumSquare, ReduceL1, ReduceL2,
// ReduceLogSum, ReduceLogSumExp over row-major data (NHWC images are converted by the row-major
// adapter). Axes come from the attribute, or from a constant input (ReduceSum from opset 13, the
// others from opset 18); keepdims and noop_with_empty_axes per the spec. Constant data folds,
// integers included (summed in double, exact for shape arithmetic).
#include "ops/kernels/reduce.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "ops/kernels/kernels.h"
#include "ops/pool.h"
#include "ops/row_major.h"
#include "ops/tensor_util.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

kernels::ReduceOp KindOf(const std::string& op) {
  if (op == "ReduceSum") return kernels::ReduceOp::kSum;
  if (op == "ReduceMean") return kernels::ReduceOp::kMean;
  if (op == "ReduceMax") return kernels::ReduceOp::kMax;
  if (op == "ReduceMin") return kernels::ReduceOp::kMin;
  if (op == "ReduceProd") return kernels::ReduceOp::kProd;
  if (op == "ReduceSumSquare") return kernels::ReduceOp::kSumSquare;
  if (op == "ReduceL1") return kernels::ReduceOp::kL1;
  if (op == "ReduceL2") return kernels::ReduceOp::kL2;
  if (op == "ReduceLogSum") return kernels::ReduceOp::kLogSum;
  return kernels::ReduceOp::kLogSumExp;
}

struct ReducePlan {
  std::vector<size_t> axes;  // sorted, unique; empty with `noop` means identity
  bool noop = false;
  ir::Shape keep_shape;  // reduced axes set to 1
  ir::Shape out;         // keepdims applied
};

absl::StatusOr<ReducePlan> PlanOf(const ir::Graph& g, const ir::Node& n) {
  const ir::Shape& xs = g.value(n.inputs[0]).shape;
  const int64_t rank = xs.size();
  std::vector<int64_t> axes;
  const bool axes_input = g.opset >= 18 || (n.op == "ReduceSum" && g.opset >= 13);
  if (axes_input) {
    RETURN_IF_ERROR(RequireInputs(n, 1, 2));
    if (n.Has("axes"))  // never read silently as "reduce everything"
      return Invalid(n, absl::StrCat("attribute 'axes' is given, but from opset ",
                                     n.op == "ReduceSum" ? 13 : 18, " the axes are an input"));
    if (n.input(1) >= 0) {
      ASSIGN_OR_RETURN(axes, ConstInts(g, n, 1, "'axes' input"));
    }
  } else {
    RETURN_IF_ERROR(RequireInputs(n, 1, 1));
    ASSIGN_OR_RETURN(axes, n.Ints("axes"));
  }
  ASSIGN_OR_RETURN(int64_t keepdims, n.Int("keepdims", 1));
  ASSIGN_OR_RETURN(int64_t noop_empty, n.Int("noop_with_empty_axes", 0));
  if (rank > static_cast<int64_t>(kernels::kMaxRank)) return Unsupported(n, "rank above 6");
  ReducePlan p;
  std::vector<bool> reduced(rank, false);
  if (axes.empty()) {
    if (noop_empty)
      p.noop = true;
    else
      reduced.assign(rank, true);
  }
  for (int64_t a : axes) {
    ASSIGN_OR_RETURN(int64_t ax, Axis(n, a, rank, "axis"));
    reduced[ax] = true;
  }
  for (int64_t i = 0; i < rank; ++i) {
    if (reduced[i]) p.axes.push_back(i);
    p.keep_shape.push_back(reduced[i] ? 1 : xs[i]);
    if (!reduced[i] || keepdims) p.out.push_back(reduced[i] ? 1 : xs[i]);
  }
  if (p.noop) p.out = xs;
  return p;
}

absl::Status InferReduce(ir::Graph& g, ir::Node& n) {
  ASSIGN_OR_RETURN(ReducePlan p, PlanOf(g, n));
  const auto& x = g.value(n.inputs[0]);
  if (!x.is_constant()) RETURN_IF_ERROR(RequireFloat(g, n, 0));
  if (x.dtype != ir::DataType::kFloat32 && x.dtype != ir::DataType::kInt64 &&
      x.dtype != ir::DataType::kInt32)
    return Unsupported(
        n, absl::StrCat("element type ", ir::DataTypeName(x.dtype), " is not supported"));
  SetOutput(g, n, 0, x.dtype, p.out);
  return absl::OkStatus();
}

// Reduces float data of `shape`; y holds NumElements(keep_shape) values.
void ReduceFloat(kernels::ReduceOp op, const float* x, float* y, const ir::Shape& shape,
                 const ReducePlan& p) {
  if (p.noop) {
    std::memmove(y, x, ir::NumElements(shape) * sizeof(float));
    return;
  }
  if (shape.empty()) {  // a scalar: reduce a [1] tensor
    const size_t one = 1, axis = 0;
    kernels::Reduce(op, x, y, 1, &one, &axis, 1);
    return;
  }
  const auto dims = SizeDims(shape);
  if (p.axes.empty()) {  // rank > 0 but nothing to reduce can only come from noop above
    std::memmove(y, x, ir::NumElements(shape) * sizeof(float));
    return;
  }
  kernels::Reduce(op, x, y, dims.size(), dims.data(), p.axes.data(), p.axes.size());
}

absl::Status FoldReduce(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* out) {
  ASSIGN_OR_RETURN(ReducePlan p, PlanOf(g, n));
  const ir::Tensor& x = *g.value(n.inputs[0]).constant;
  const auto op = KindOf(n.op);
  if (IsFloat(x)) {
    ir::Tensor y(p.out);
    ReduceFloat(op, x.data(), y.data(), x.shape(), p);
    y.set_dtype(x.dtype());
    out->push_back(std::move(y));
    return absl::OkStatus();
  }
  // Integers: reduce in double over the same axes (Sum, Prod, Max, Min, ...), then round.
  if (op == kernels::ReduceOp::kMean || op == kernels::ReduceOp::kL2 ||
      op == kernels::ReduceOp::kLogSum || op == kernels::ReduceOp::kLogSumExp)
    return Unsupported(n, "integer data (only float32 is computed)");
  const ir::Shape& xs = x.shape();
  std::vector<double> acc(ir::NumElements(p.noop ? xs : p.keep_shape), 0.0);
  const bool is_max = op == kernels::ReduceOp::kMax, is_min = op == kernels::ReduceOp::kMin;
  const bool is_prod = op == kernels::ReduceOp::kProd;
  std::vector<bool> seen(acc.size(), false);
  const int64_t rank = xs.size();
  std::vector<int64_t> idx(rank, 0);
  for (int64_t i = 0; i < x.num_elements(); ++i) {
    int64_t o = 0;
    for (int64_t d = 0; d < rank; ++d) {
      const int64_t dim = p.noop ? xs[d] : p.keep_shape[d];
      o = o * dim + (dim == 1 ? 0 : idx[d]);
    }
    double v = static_cast<double>(x.ints()[i]);
    if (op == kernels::ReduceOp::kSumSquare) v *= v;
    if (op == kernels::ReduceOp::kL1) v = std::fabs(v);
    if (!seen[o])
      acc[o] = v;
    else if (is_max)
      acc[o] = std::max(acc[o], v);
    else if (is_min)
      acc[o] = std::min(acc[o], v);
    else if (is_prod)
      acc[o] *= v;
    else
      acc[o] += v;
    seen[o] = true;
    for (int64_t d = rank; d-- > 0;) {
      if (++idx[d] < xs[d]) break;
      idx[d] = 0;
    }
  }
  std::vector<int64_t> y(acc.size());
  for (size_t i = 0; i < acc.size(); ++i) {
    if (!seen[i]) {  // reduced an empty extent: the identity
      if (is_max || is_min) return Invalid(n, "max/min of an empty set");
      acc[i] = is_prod ? 1 : 0;
    }
    if (!(std::fabs(acc[i]) < 9.2e18))
      return Unsupported(n, "integer result out of the int64 range");
    y[i] = std::llround(acc[i]);
  }
  out->push_back(ir::Tensor::Ints(p.out, std::move(y), x.dtype()));
  return absl::OkStatus();
}

// ReduceMean over H and W of a rank-4 tensor.
bool IsSpatialMean(kernels::ReduceOp op, const ReducePlan& p, const ir::Shape& shape) {
  return op == kernels::ReduceOp::kMean && !p.noop && shape.size() == 4 &&
         p.axes == std::vector<size_t>{2, 3};
}

// The row-major copies' workspace, none for a spatial mean (it reads the NHWC data in place).
int64_t ReduceWorkspace(const ir::Graph& g, const ir::Node& n, int threads) {
  auto p = PlanOf(g, n);
  if (p.ok() && IsSpatialMean(KindOf(n.op), *p, g.value(n.inputs[0]).shape)) return 0;
  return RowMajorWorkspace(g, n, threads);
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerReduce(const LowerContext& ctx) {
  ASSIGN_OR_RETURN(ReducePlan p, PlanOf(*ctx.graph, *ctx.node));
  const auto op = KindOf(ctx.node->op);
  const ir::Shape shape = ctx.input(0).shape;
  // ReduceMean over H and W (tf2onnx's GlobalAveragePooling2D, SE blocks): a global average pool
  // on the NHWC data as it is, instead of a transpose to row-major and a generic reduction. The
  // [N, C] (or [N, C, 1, 1]) result is the same memory either way: one C-vector per image.
  if (IsSpatialMean(op, p, shape)) {
    const int64_t c = shape[1];
    const int64_t out_stride = ctx.out[0].pixel_stride > 0 ? ctx.out[0].pixel_stride : c;
    const int64_t in_stride = ctx.in[0].pixel_stride > 0 ? ctx.in[0].pixel_stride : c;
    return LowerGlobalAverage(ctx, shape[0], shape[2] * shape[3], c, in_stride, out_stride);
  }
  return LowerRowMajor(
      ctx,
      [=](const std::vector<const float*>& in,
          const std::vector<float*>& out) -> absl::StatusOr<std::unique_ptr<Kernel>> {
        const float* x = in[0];
        float* y = out[0];
        return MakeFnKernel([=](pthreadpool_t) { ReduceFloat(op, x, y, shape, p); });
      });
}

}  // namespace

#define ONNXRUN_REDUCE_OP(name)                                           \
  extern const OpDef k##name##Op = {#name,       InferReduce, FoldReduce, \
                                    LowerReduce, nullptr,     ReduceWorkspace};
ONNXRUN_REDUCE_OP(ReduceSum)
ONNXRUN_REDUCE_OP(ReduceMean)
ONNXRUN_REDUCE_OP(ReduceMax)
ONNXRUN_REDUCE_OP(ReduceMin)
ONNXRUN_REDUCE_OP(ReduceProd)
ONNXRUN_REDUCE_OP(ReduceSumSquare)
ONNXRUN_REDUCE_OP(ReduceL1)
ONNXRUN_REDUCE_OP(ReduceL2)
ONNXRUN_REDUCE_OP(ReduceLogSum)
ONNXRUN_REDUCE_OP(ReduceLogSumExp)
#undef ONNXRUN_REDUCE_OP

}  // namespace onnxrun
