// Gather, Slice, Transpose, Split, DepthToSpace, SpaceToDepth: element moves in ONNX (row-major)
// order. They fold when their data is constant and run through the row-major adapter otherwise.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ops/kernels/kernels.h"
#include "ops/kernels/tensor.h"
#include "ops/kernels/transpose.h"
#include "ops/row_major.h"
#include "ops/tensor_util.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

// Moves elements of `x` (row-major, elem_size bytes each) into outputs.
using MoveFn = std::function<void(const void* x, const std::vector<void*>& y, size_t elem_size)>;

struct Plan {
  std::vector<ir::Shape> out_shapes;
  MoveFn move;
};

absl::StatusOr<Plan> PlanGather(const ir::Graph& g, const ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 2, 2));
  const ir::Shape& xs = g.value(n.inputs[0]).shape;
  ASSIGN_OR_RETURN(std::vector<int64_t> idx, ConstInts(g, n, 1, "'indices' input"));
  const ir::Shape& is = g.value(n.inputs[1]).shape;
  if (xs.empty()) return Invalid(n, "data must have rank >= 1");
  ASSIGN_OR_RETURN(int64_t axis, n.Int("axis", 0));
  ASSIGN_OR_RETURN(axis, Axis(n, axis, xs.size(), "attribute 'axis'"));
  for (int64_t i : idx)
    if (i < -xs[axis] || i >= xs[axis])
      return Invalid(
          n, absl::StrCat("index ", i, " is out of range for axis ", axis, " of size ", xs[axis]));
  ir::Shape out(xs.begin(), xs.begin() + axis);
  out.insert(out.end(), is.begin(), is.end());
  out.insert(out.end(), xs.begin() + axis + 1, xs.end());
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= xs[i];
  for (size_t i = axis + 1; i < xs.size(); ++i) inner *= xs[i];
  const int64_t dim = xs[axis];
  return Plan{{out}, [=](const void* x, const std::vector<void*>& y, size_t es) {
                kernels::Gather(x, y[0], es, outer, dim, inner, idx.data(), idx.size());
              }};
}

absl::StatusOr<Plan> PlanSlice(const ir::Graph& g, const ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 5));
  const ir::Shape& xs = g.value(n.inputs[0]).shape;
  std::vector<int64_t> starts, ends, axes, steps;
  if (g.opset < 10) {
    RETURN_IF_ERROR(RequireInputs(n, 1, 1));
    ASSIGN_OR_RETURN(starts, n.Ints("starts"));
    ASSIGN_OR_RETURN(ends, n.Ints("ends"));
    ASSIGN_OR_RETURN(axes, n.Ints("axes"));
  } else {
    RETURN_IF_ERROR(RequireInputs(n, 3, 5));
    ASSIGN_OR_RETURN(starts, ConstInts(g, n, 1, "'starts' input"));
    ASSIGN_OR_RETURN(ends, ConstInts(g, n, 2, "'ends' input"));
    if (n.input(3) >= 0) {
      ASSIGN_OR_RETURN(axes, ConstInts(g, n, 3, "'axes' input"));
    }
    if (n.input(4) >= 0) {
      ASSIGN_OR_RETURN(steps, ConstInts(g, n, 4, "'steps' input"));
    }
  }
  if (starts.size() != ends.size() || (!axes.empty() && axes.size() != starts.size()) ||
      (!steps.empty() && steps.size() != starts.size()))
    return Invalid(n, "starts, ends, axes and steps have different lengths");
  if (xs.size() > kernels::kMaxRank) return Unsupported(n, "rank above 6");
  auto dims = SizeDims(xs);
  kernels::SliceSpec spec;
  if (!kernels::MakeSliceSpec(dims.size(), dims.data(), starts.data(), ends.data(),
                              axes.empty() ? nullptr : axes.data(),
                              steps.empty() ? nullptr : steps.data(), starts.size(), &spec))
    return Invalid(n, "invalid axes or a zero step");
  ir::Shape out(spec.count, spec.count + dims.size());
  return Plan{{out}, [=](const void* x, const std::vector<void*>& y, size_t es) {
                kernels::Slice(x, y[0], es, dims.size(), dims.data(), spec);
              }};
}

absl::StatusOr<Plan> PlanTranspose(const ir::Graph& g, const ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 1));
  const ir::Shape& xs = g.value(n.inputs[0]).shape;
  std::vector<int64_t> def(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) def[i] = xs.size() - 1 - i;
  ASSIGN_OR_RETURN(std::vector<int64_t> perm, n.Ints("perm", def));
  if (perm.size() != xs.size())
    return Invalid(
        n, absl::StrCat("attribute 'perm' has ", perm.size(), " values for rank ", xs.size()));
  if (xs.size() > kernels::kMaxRank) return Unsupported(n, "rank above 6");
  std::vector<bool> seen(xs.size(), false);
  ir::Shape out;
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(xs.size()) || seen[p])
      return Invalid(n, "attribute 'perm' is not a permutation");
    seen[p] = true;
    out.push_back(xs[p]);
  }
  auto dims = SizeDims(xs);
  std::vector<size_t> sp(perm.begin(), perm.end());
  return Plan{{out}, [=](const void* x, const std::vector<void*>& y, size_t es) {
                if (dims.empty()) {
                  std::memcpy(y[0], x, es);
                  return;
                }
                kernels::Transpose(x, y[0], es, dims.size(), dims.data(), sp.data());
              }};
}

absl::StatusOr<Plan> PlanSplit(const ir::Graph& g, const ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 2));
  const ir::Shape& xs = g.value(n.inputs[0]).shape;
  ASSIGN_OR_RETURN(int64_t axis, n.Int("axis", 0));
  ASSIGN_OR_RETURN(axis, Axis(n, axis, xs.size(), "attribute 'axis'"));
  std::vector<int64_t> split;
  if (g.opset >= 13 && n.input(1) >= 0) {
    ASSIGN_OR_RETURN(split, ConstInts(g, n, 1, "'split' input"));
  } else {
    ASSIGN_OR_RETURN(split, n.Ints("split"));
  }
  const int64_t parts = n.outputs.size();
  if (parts < 1) return Invalid(n, "splits into 0 outputs");
  if (split.empty() && g.opset >= 18 && n.Has("num_outputs")) {
    // Opset 18: chunks of ceil(dim / num_outputs), the last one smaller when it does not divide.
    ASSIGN_OR_RETURN(int64_t num, n.Int("num_outputs", parts));
    if (num < 1 || num != parts)
      return Invalid(n,
                     absl::StrCat("attribute 'num_outputs' is ", num, " for ", parts, " outputs"));
    const int64_t chunk = (xs[axis] + num - 1) / num;
    for (int64_t i = 0; i < num; ++i)
      split.push_back(std::max<int64_t>(0, std::min(chunk, xs[axis] - i * chunk)));
  } else if (split.empty()) {
    if (xs[axis] % parts != 0) return Invalid(n, "axis is not divisible by the number of outputs");
    split.assign(parts, xs[axis] / parts);
  }
  int64_t total = 0;
  for (int64_t s : split) {
    if (s < 0) return Invalid(n, absl::StrCat("split size ", s, " is negative"));
    ASSIGN_OR_RETURN(total, SizeAdd(n, total, s, "split sizes"));
  }
  if (total != xs[axis] || static_cast<int64_t>(split.size()) != parts)
    return Invalid(n, absl::StrCat("split sizes do not add up to axis size ", xs[axis], " over ",
                                   parts, " outputs"));
  Plan p;
  for (int64_t s : split) {
    ir::Shape o = xs;
    o[axis] = s;
    p.out_shapes.push_back(o);
  }
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= xs[i];
  for (size_t i = axis + 1; i < xs.size(); ++i) inner *= xs[i];
  std::vector<size_t> dims(split.begin(), split.end());
  p.move = [=](const void* x, const std::vector<void*>& y, size_t es) {
    kernels::Split(x, y.data(), dims.data(), dims.size(), es, outer, inner);
  };
  return p;
}

// DepthToSpace (DCR or CRD) and SpaceToDepth: a rank-6 reshape-transpose of [N, C, H, W].
absl::StatusOr<Plan> PlanDepthSpace(const ir::Graph& g, const ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 1));
  const ir::Shape& xs = g.value(n.inputs[0]).shape;
  if (xs.size() != 4) return Invalid(n, absl::StrCat("input has rank ", xs.size(), ", expected 4"));
  if (!n.Has("blocksize")) return Invalid(n, "attribute 'blocksize' is required");
  ASSIGN_OR_RETURN(int64_t b, n.Int("blocksize", 1));
  if (b < 1) return Invalid(n, "attribute 'blocksize' must be positive");
  const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
  // blocksize^2 checked: 2^32 squared wraps to 0 (a division by zero below).
  ASSIGN_OR_RETURN(const int64_t bb, SizeMul(n, b, b, "blocksize^2"));
  std::vector<size_t> dims, perm;
  ir::Shape out;
  if (n.op == "DepthToSpace") {
    ASSIGN_OR_RETURN(std::string mode, n.String("mode", "DCR"));
    if (C % bb != 0)
      return Invalid(n, absl::StrCat("channels ", C, " are not divisible by blocksize^2 = ", bb));
    const size_t c = C / bb;
    if (mode == "DCR") {
      dims = {size_t(N), size_t(b), size_t(b), c, size_t(H), size_t(W)};
      perm = {0, 3, 4, 1, 5, 2};
    } else if (mode == "CRD") {
      dims = {size_t(N), c, size_t(b), size_t(b), size_t(H), size_t(W)};
      perm = {0, 1, 4, 2, 5, 3};
    } else {
      return Invalid(n, absl::StrCat("attribute 'mode' is '", mode, "'; expected DCR or CRD"));
    }
    ASSIGN_OR_RETURN(const int64_t oh, SizeMul(n, H, b, "output height"));
    ASSIGN_OR_RETURN(const int64_t ow, SizeMul(n, W, b, "output width"));
    out = {N, int64_t(c), oh, ow};
  } else {
    if (H % b != 0 || W % b != 0)
      return Invalid(
          n, absl::StrCat("spatial size ", H, "x", W, " is not divisible by blocksize ", b));
    dims = {size_t(N), size_t(C), size_t(H / b), size_t(b), size_t(W / b), size_t(b)};
    perm = {0, 3, 5, 1, 2, 4};
    ASSIGN_OR_RETURN(const int64_t oc, SizeMul(n, C, bb, "output channels"));
    out = {N, oc, H / b, W / b};
  }
  return Plan{{out}, [=](const void* x, const std::vector<void*>& y, size_t es) {
                kernels::Transpose(x, y[0], es, dims.size(), dims.data(), perm.data());
              }};
}

absl::StatusOr<Plan> PlanOf(const ir::Graph& g, const ir::Node& n) {
  if (n.op == "DepthToSpace" || n.op == "SpaceToDepth") return PlanDepthSpace(g, n);
  if (n.op == "Gather") return PlanGather(g, n);
  if (n.op == "Slice") return PlanSlice(g, n);
  if (n.op == "Transpose") return PlanTranspose(g, n);
  return PlanSplit(g, n);
}

absl::Status InferMove(ir::Graph& g, ir::Node& n) {
  ASSIGN_OR_RETURN(Plan p, PlanOf(g, n));
  const ir::DataType t = g.value(n.inputs[0]).dtype;
  for (size_t i = 0; i < p.out_shapes.size(); ++i) SetOutput(g, n, i, t, p.out_shapes[i]);
  return absl::OkStatus();
}

absl::Status FoldMove(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* out) {
  ASSIGN_OR_RETURN(Plan p, PlanOf(g, n));
  const ir::Tensor& x = *g.value(n.inputs[0]).constant;
  std::vector<void*> ptrs;
  for (const auto& s : p.out_shapes) out->push_back(EmptyLike(x, s));
  for (auto& t : *out) ptrs.push_back(RawData(t));
  p.move(RawData(x), ptrs, ElemSize(x));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerMove(const LowerContext& ctx) {
  ASSIGN_OR_RETURN(Plan p, PlanOf(*ctx.graph, *ctx.node));
  if (ctx.input(0).dtype != ir::DataType::kFloat32)
    return Unsupported(*ctx.node, "non-float data at run time");
  return LowerRowMajor(
      ctx,
      [p](const std::vector<const float*>& in,
          const std::vector<float*>& out) -> absl::StatusOr<std::unique_ptr<Kernel>> {
        const void* x = in[0];
        std::vector<void*> y(out.begin(), out.end());
        MoveFn move = p.move;
        return MakeFnKernel([=](pthreadpool_t) { move(x, y, sizeof(float)); });
      });
}

}  // namespace

#define ONNXRUN_MOVE_OP(name)                                       \
  extern const OpDef k##name##Op = {#name,     InferMove, FoldMove, \
                                    LowerMove, nullptr,   RowMajorWorkspace};
ONNXRUN_MOVE_OP(Gather)
ONNXRUN_MOVE_OP(Slice)
ONNXRUN_MOVE_OP(Transpose)
ONNXRUN_MOVE_OP(Split)
ONNXRUN_MOVE_OP(DepthToSpace)
ONNXRUN_MOVE_OP(SpaceToDepth)
#undef ONNXRUN_MOVE_OP

}  // namespace onnxrun
