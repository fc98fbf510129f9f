// Expand, Tile and Where: broadcasting element moves in ONNX (row-major) order, for any element
// type, folded or at run time (images through the row-major adapter; integer and bool tensors as
// int64 elements). Where's bool condition may be constant or computed at run time.
#include <cstring>

#include "absl/strings/str_cat.h"
#include "ops/broadcast.h"
#include "ops/row_major.h"
#include "ops/tensor_util.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

// How each output element is fetched: out[i] = operand[k][offset] (k chosen by Where's condition).
struct MovePlan {
  ir::Shape out;
  std::vector<std::vector<int64_t>> strides;  // per data operand
  std::vector<int64_t> tile;                  // Tile: repeats per axis
  std::vector<int64_t> cond;                  // Where: condition values when constant
  std::vector<int64_t> cond_strides;
};

absl::StatusOr<MovePlan> PlanExpand(const ir::Graph& g, const ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 2, 2));
  const ir::Shape& xs = g.value(n.inputs[0]).shape;
  ASSIGN_OR_RETURN(std::vector<int64_t> shape, ConstInts(g, n, 1, "'shape' input"));
  MovePlan p;
  ASSIGN_OR_RETURN(p.out, Broadcast(n, xs, shape));  // bidirectional, per the spec
  p.strides.push_back(BroadcastStrides(xs, p.out));
  return p;
}

absl::StatusOr<MovePlan> PlanTile(const ir::Graph& g, const ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 2, 2));
  const ir::Shape& xs = g.value(n.inputs[0]).shape;
  ASSIGN_OR_RETURN(std::vector<int64_t> repeats, ConstInts(g, n, 1, "'repeats' input"));
  if (repeats.size() != xs.size())
    return Invalid(n,
                   absl::StrCat("'repeats' has ", repeats.size(), " values for rank ", xs.size()));
  MovePlan p;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (repeats[i] < 0) return Invalid(n, "'repeats' must not be negative");
    ASSIGN_OR_RETURN(const int64_t d, SizeMul(n, xs[i], repeats[i], "tiled size"));
    p.out.push_back(d);
  }
  p.tile = repeats;
  return p;
}

absl::StatusOr<MovePlan> PlanWhere(const ir::Graph& g, const ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 3, 3));
  const auto& c = g.value(n.inputs[0]);
  const auto& x = g.value(n.inputs[1]);
  const auto& y = g.value(n.inputs[2]);
  if (x.dtype != y.dtype) return Invalid(n, "X and Y have different element types");
  if (c.dtype != ir::DataType::kBool) return Invalid(n, "condition must be bool");
  MovePlan p;
  ASSIGN_OR_RETURN(p.out, Broadcast(n, c.shape, x.shape));
  ASSIGN_OR_RETURN(p.out, Broadcast(n, p.out, y.shape));
  p.strides.push_back(BroadcastStrides(x.shape, p.out));
  p.strides.push_back(BroadcastStrides(y.shape, p.out));
  if (c.is_constant()) p.cond = c.constant->ints();
  p.cond_strides = BroadcastStrides(c.shape, p.out);
  return p;
}

absl::StatusOr<MovePlan> PlanOf(const ir::Graph& g, const ir::Node& n) {
  if (n.op == "Expand") return PlanExpand(g, n);
  if (n.op == "Tile") return PlanTile(g, n);
  return PlanWhere(g, n);
}

// Moves elements of `elem` bytes from the data operands into y; `cond` is Where's condition.
void Move(const MovePlan& p, const ir::Shape& x_shape, const std::vector<const void*>& data,
          const int64_t* cond, void* y, size_t elem) {
  char* out = static_cast<char*>(y);
  auto src = [&](size_t k) { return static_cast<const char*>(data[k]); };
  if (!p.tile.empty()) {  // out index -> input index modulo the input's dims
    const auto xst = BroadcastStrides(x_shape, x_shape);
    const int64_t count = ir::NumElements(p.out);
    const size_t rank = p.out.size();
    std::vector<int64_t> idx(rank, 0);
    for (int64_t i = 0; i < count; ++i) {
      int64_t off = 0;
      for (size_t d = 0; d < rank; ++d) off += (idx[d] % x_shape[d]) * xst[d];
      std::memcpy(out + i * elem, src(0) + off * elem, elem);
      for (size_t d = rank; d-- > 0;) {
        if (++idx[d] < p.out[d]) break;
        idx[d] = 0;
      }
    }
    return;
  }
  if (p.cond_strides.empty()) {  // Expand
    ForEachBroadcast<1>(p.out, {p.strides[0]}, [&](int64_t i, const std::array<int64_t, 1>& o) {
      std::memcpy(out + i * elem, src(0) + o[0] * elem, elem);
    });
    return;
  }
  ForEachBroadcast<3>(p.out, {p.cond_strides, p.strides[0], p.strides[1]},
                      [&](int64_t i, const std::array<int64_t, 3>& o) {
                        const bool take_x = cond[o[0]] != 0;
                        std::memcpy(out + i * elem,
                                    take_x ? src(0) + o[1] * elem : src(1) + o[2] * elem, elem);
                      });
}

size_t DataInputs(const ir::Node& n) { return n.op == "Where" ? 2 : 1; }
size_t FirstData(const ir::Node& n) { return n.op == "Where" ? 1 : 0; }

absl::Status InferMove(ir::Graph& g, ir::Node& n) {
  ASSIGN_OR_RETURN(MovePlan p, PlanOf(g, n));
  const auto& x = g.value(n.inputs[FirstData(n)]);
  if (x.dtype == ir::DataType::kString || x.dtype == ir::DataType::kOther)
    return Unsupported(
        n, absl::StrCat("element type ", ir::DataTypeName(x.dtype), " is not supported"));
  SetOutput(g, n, 0, x.dtype, p.out);
  return absl::OkStatus();
}

absl::Status FoldMove(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* out) {
  ASSIGN_OR_RETURN(MovePlan p, PlanOf(g, n));
  const ir::Tensor& x = *g.value(n.inputs[FirstData(n)]).constant;
  std::vector<const void*> data;
  for (size_t k = 0; k < DataInputs(n); ++k) {
    const ir::Tensor& t = *g.value(n.inputs[FirstData(n) + k]).constant;
    if (IsFloat(t) != IsFloat(x)) return Invalid(n, "X and Y have different element types");
    data.push_back(RawData(t));
  }
  ir::Tensor y = EmptyLike(x, p.out);
  Move(p, x.shape(), data, p.cond.data(), RawData(y), ElemSize(x));
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerMove(const LowerContext& ctx) {
  ASSIGN_OR_RETURN(MovePlan p, PlanOf(*ctx.graph, *ctx.node));
  const ir::Node& n = *ctx.node;
  const ir::Shape x_shape = ctx.input(FirstData(n)).shape;
  const size_t first = FirstData(n), count = DataInputs(n);
  const size_t elem = ir::ElementBytes(ctx.input(first).dtype);
  return LowerRowMajor(
      ctx,
      [=](const std::vector<const float*>& in,
          const std::vector<float*>& out) -> absl::StatusOr<std::unique_ptr<Kernel>> {
        std::vector<const void*> data(in.begin() + first, in.begin() + first + count);
        void* y = out[0];
        // Where's condition: its constant values (in the closure's copy of p) or run-time input 0.
        const int64_t* cond = first == 1 ? reinterpret_cast<const int64_t*>(in[0]) : nullptr;
        return MakeFnKernel([=](pthreadpool_t) {
          Move(p, x_shape, data, p.cond.empty() ? cond : p.cond.data(), y, elem);
        });
      });
}

// Element moves take every type at run time.
uint32_t MoveCaps(const ir::Graph&, const ir::Node&) { return kCapTyped; }

}  // namespace

extern const OpDef kExpandOp = {"Expand",  InferMove, FoldMove,
                                LowerMove, MoveCaps,  RowMajorWorkspace};
extern const OpDef kTileOp = {"Tile", InferMove, FoldMove, LowerMove, MoveCaps, RowMajorWorkspace};
extern const OpDef kWhereOp = {"Where",   InferMove, FoldMove,
                               LowerMove, MoveCaps,  RowMajorWorkspace};

}  // namespace onnxrun
