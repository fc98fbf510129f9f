// GatherElements, ScatterElements (and its opset 9-10 name Scatter), GatherND, ScatterND,
// ReverseSequence and MaxUnpool: index tensors address elements of a data tensor of any type.
// Negative indices count from the end; an index out of range fails the fold or the run, naming the
// node. Folded at load or run as typed kernels (ops/typed.h).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ops/typed.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;
using ir::DataType;

enum class Reduction { kNone, kAdd, kMul, kMax, kMin };

struct IndexParams : ir::OpParams {
  int64_t axis = 0;
  int64_t batch_dims = 0;  // GatherND
  Reduction reduction = Reduction::kNone;
};

absl::Status RequireIndices(const ir::Node& n, const ir::Value& v) {
  if (v.dtype != DataType::kInt64 && v.dtype != DataType::kInt32)
    return Invalid(n, absl::StrCat("indices '", v.name, "' are ", ir::DataTypeName(v.dtype),
                                   ", not int32 or int64"));
  return absl::OkStatus();
}

absl::Status RequireData(const ir::Node& n, const ir::Value& v) {
  if (v.dtype == DataType::kString || v.dtype == DataType::kOther)
    return Unsupported(
        n, absl::StrCat("element type ", ir::DataTypeName(v.dtype), " is not supported"));
  return absl::OkStatus();
}

absl::StatusOr<Reduction> ReductionOf(const ir::Node& n) {
  ASSIGN_OR_RETURN(std::string r, n.String("reduction", "none"));
  if (r == "none") return Reduction::kNone;
  if (r == "add") return Reduction::kAdd;
  if (r == "mul") return Reduction::kMul;
  if (r == "max") return Reduction::kMax;
  if (r == "min") return Reduction::kMin;
  return Invalid(n, absl::StrCat("reduction '", r, "' is not none, add, mul, max or min"));
}

// Index `v` into an axis of length `len` (negative from the end), or an error naming the node.
absl::StatusOr<int64_t> Wrap(const ir::Node& n, int64_t v, int64_t len) {
  if (v < -len || v >= len)
    return Invalid(n, absl::StrCat("index ", v, " is out of range for an axis of ", len));
  return v < 0 ? v + len : v;
}

// dst[d] = reduce(dst[d], src[s]).
void Combine(Reduction r, const TypedBuf& src, int64_t s, const TypedBuf& dst, int64_t d) {
  if (r == Reduction::kNone) return CopyElement(src, s, dst, d);
  auto apply = [r](auto a, auto b) {
    switch (r) {
      case Reduction::kAdd:
        return a + b;
      case Reduction::kMul:
        return a * b;
      case Reduction::kMax:
        return std::max(a, b);
      default:
        return std::min(a, b);
    }
  };
  if (src.is_float()) {
    dst.f()[d] = apply(dst.f()[d], src.f()[s]);
  } else {
    // Unsigned arithmetic wraps instead of overflowing; max/min compare signed values.
    const int64_t a = dst.i()[d], b = src.i()[s];
    const int64_t z =
        r == Reduction::kMax || r == Reduction::kMin
            ? apply(a, b)
            : static_cast<int64_t>(apply(static_cast<uint64_t>(a), static_cast<uint64_t>(b)));
    dst.i()[d] = WrapTo(dst.dtype, z);
  }
}

void CopyAll(const TypedBuf& src, const TypedBuf& dst) {
  const int64_t count = src.count();
  for (int64_t k = 0; k < count; ++k) CopyElement(src, k, dst, k);
}

absl::Status InferElements(ir::Graph& g, ir::Node& n) {
  const bool scatter = n.op != "GatherElements";
  RETURN_IF_ERROR(RequireInputs(n, scatter ? 3 : 2, scatter ? 3 : 2));
  const ir::Value& data = g.value(n.inputs[0]);
  const ir::Value& idx = g.value(n.inputs[1]);
  RETURN_IF_ERROR(RequireData(n, data));
  RETURN_IF_ERROR(RequireIndices(n, idx));
  if (data.shape.empty()) return Invalid(n, "data is a scalar");
  if (idx.shape.size() != data.shape.size())
    return Invalid(
        n, absl::StrCat("indices have rank ", idx.shape.size(), ", data rank ", data.shape.size()));
  auto p = std::make_shared<IndexParams>();
  ASSIGN_OR_RETURN(int64_t axis, n.Int("axis", 0));
  ASSIGN_OR_RETURN(p->axis, Axis(n, axis, data.shape.size(), "axis"));
  for (size_t d = 0; d < data.shape.size(); ++d)
    if (static_cast<int64_t>(d) != p->axis && !scatter && idx.shape[d] > data.shape[d])
      return Invalid(n, absl::StrCat("indices shape ", ir::ShapeString(idx.shape),
                                     " exceeds data shape ", ir::ShapeString(data.shape)));
  if (scatter) {
    const ir::Value& upd = g.value(n.inputs[2]);
    if (upd.shape != idx.shape || upd.dtype != data.dtype)
      return Invalid(n, "updates must have the indices' shape and the data's type");
    for (size_t d = 0; d < data.shape.size(); ++d)
      if (idx.shape[d] > data.shape[d] && static_cast<int64_t>(d) != p->axis)
        return Invalid(n, absl::StrCat("indices shape ", ir::ShapeString(idx.shape),
                                       " exceeds data shape ", ir::ShapeString(data.shape)));
    ASSIGN_OR_RETURN(p->reduction, ReductionOf(n));
  }
  n.params = p;
  SetOutput(g, n, 0, data.dtype, scatter ? data.shape : idx.shape);
  return absl::OkStatus();
}

absl::Status ComputeElements(const ir::Node& n, const std::vector<TypedBuf>& in,
                             const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const IndexParams* p, Params<IndexParams>(n));
  const TypedBuf &data = in[0], &idx = in[1], &y = out[0];
  const bool scatter = n.op != "GatherElements";
  if (scatter) CopyAll(data, y);
  const std::vector<int64_t> ds = Strides(data.shape);
  const size_t rank = idx.shape.size();
  std::vector<int64_t> pos(rank, 0);
  const int64_t count = idx.count();
  for (int64_t k = 0; k < count; ++k) {
    ASSIGN_OR_RETURN(int64_t j, Wrap(n, idx.i()[k], data.shape[p->axis]));
    int64_t off = 0;
    for (size_t d = 0; d < rank; ++d)
      off += (static_cast<int64_t>(d) == p->axis ? j : pos[d]) * ds[d];
    if (scatter)
      Combine(p->reduction, in[2], k, y, off);
    else
      CopyElement(data, off, y, k);
    for (size_t d = rank; d-- > 0;) {
      if (++pos[d] < idx.shape[d]) break;
      pos[d] = 0;
    }
  }
  return absl::OkStatus();
}

absl::Status InferND(ir::Graph& g, ir::Node& n) {
  const bool scatter = n.op == "ScatterND";
  RETURN_IF_ERROR(RequireInputs(n, scatter ? 3 : 2, scatter ? 3 : 2));
  const ir::Value& data = g.value(n.inputs[0]);
  const ir::Value& idx = g.value(n.inputs[1]);
  RETURN_IF_ERROR(RequireData(n, data));
  RETURN_IF_ERROR(RequireIndices(n, idx));
  auto p = std::make_shared<IndexParams>();
  ASSIGN_OR_RETURN(p->batch_dims, n.Int("batch_dims", 0));
  const int64_t r = data.shape.size(), q = idx.shape.size();
  if (q < 1 || r < 1) return Invalid(n, "data and indices must have rank 1 or more");
  const int64_t b = p->batch_dims, m = idx.shape.back();
  if (b < 0 || b >= std::min(q, r))
    return Invalid(n, absl::StrCat("batch_dims ", b, " out of range"));
  if (m < 0 || b + m > r)
    return Invalid(n, absl::StrCat("indices' last dimension ", m, " exceeds the data's rank"));
  for (int64_t d = 0; d < b; ++d)
    if (idx.shape[d] != data.shape[d])
      return Invalid(n, "the batch dimensions of data and indices differ");
  ir::Shape shape(idx.shape.begin(), idx.shape.end() - 1);
  shape.insert(shape.end(), data.shape.begin() + b + m, data.shape.end());
  if (scatter) {
    if (b != 0) return Invalid(n, "ScatterND has no batch_dims");
    const ir::Value& upd = g.value(n.inputs[2]);
    if (upd.shape != shape || upd.dtype != data.dtype)
      return Invalid(n, absl::StrCat("updates must be ", ir::ShapeString(shape), " ",
                                     ir::DataTypeName(data.dtype)));
    ASSIGN_OR_RETURN(p->reduction, ReductionOf(n));
  }
  n.params = p;
  SetOutput(g, n, 0, data.dtype, scatter ? data.shape : shape);
  return absl::OkStatus();
}

absl::Status ComputeND(const ir::Node& n, const std::vector<TypedBuf>& in,
                       const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const IndexParams* p, Params<IndexParams>(n));
  const TypedBuf &data = in[0], &idx = in[1], &y = out[0];
  const bool scatter = n.op == "ScatterND";
  if (scatter) CopyAll(data, y);
  const int64_t b = p->batch_dims, m = idx.shape.back();
  const std::vector<int64_t> ds = Strides(data.shape);
  int64_t batches = 1, slice = 1;
  for (int64_t d = 0; d < b; ++d) batches *= idx.shape[d];
  for (size_t d = b + m; d < data.shape.size(); ++d) slice *= data.shape[d];
  const int64_t tuples = m == 0 ? idx.count() : idx.count() / m;  // index tuples in all
  const int64_t per_batch = batches ? tuples / batches : 0;
  const int64_t batch_stride = b > 0 ? ds[b - 1] : 0;
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t off = (t / std::max<int64_t>(per_batch, 1)) * batch_stride;
    for (int64_t d = 0; d < m; ++d) {
      ASSIGN_OR_RETURN(int64_t j, Wrap(n, idx.i()[t * m + d], data.shape[b + d]));
      off += j * ds[b + d];
    }
    for (int64_t e = 0; e < slice; ++e) {
      if (scatter)
        Combine(p->reduction, in[2], t * slice + e, y, off + e);
      else
        CopyElement(data, off + e, y, t * slice + e);
    }
  }
  return absl::OkStatus();
}

absl::Status InferReverseSequence(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 2, 2));
  const ir::Value& x = g.value(n.inputs[0]);
  const ir::Value& lens = g.value(n.inputs[1]);
  RETURN_IF_ERROR(RequireData(n, x));
  RETURN_IF_ERROR(RequireIndices(n, lens));
  ASSIGN_OR_RETURN(int64_t batch_axis, n.Int("batch_axis", 1));
  ASSIGN_OR_RETURN(int64_t time_axis, n.Int("time_axis", 0));
  if (x.shape.size() < 2) return Invalid(n, "input rank is below 2");
  if (!((batch_axis == 0 && time_axis == 1) || (batch_axis == 1 && time_axis == 0)))
    return Invalid(n, "batch_axis and time_axis must be 0 and 1 in some order");
  if (lens.shape != ir::Shape{x.shape[batch_axis]})
    return Invalid(n, absl::StrCat("sequence_lens must be [", x.shape[batch_axis], "]"));
  auto p = std::make_shared<IndexParams>();
  p->axis = time_axis;
  n.params = p;
  SetOutput(g, n, 0, x.dtype, x.shape);
  return absl::OkStatus();
}

absl::Status ComputeReverseSequence(const ir::Node& n, const std::vector<TypedBuf>& in,
                                    const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const IndexParams* p, Params<IndexParams>(n));
  const TypedBuf &x = in[0], &lens = in[1], &y = out[0];
  const int64_t t_axis = p->axis, b_axis = 1 - p->axis;
  const int64_t steps = x.shape[t_axis], batch = x.shape[b_axis];
  const std::vector<int64_t> st = Strides(x.shape);
  const int64_t inner = st[1];  // elements per (dim 0, dim 1) pair
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t len = lens.i()[b];
    if (len < 0 || len > steps)
      return Invalid(n, absl::StrCat("sequence length ", len, " is outside [0, ", steps, "]"));
    for (int64_t t = 0; t < steps; ++t) {
      const int64_t from = t < len ? len - 1 - t : t;
      const int64_t dst = t * st[t_axis] + b * st[b_axis], src = from * st[t_axis] + b * st[b_axis];
      for (int64_t e = 0; e < inner; ++e) CopyElement(x, src + e, y, dst + e);
    }
  }
  return absl::OkStatus();
}

// MaxUnpool: X's values at MaxPool's flat indices into the tensor the pooling window gives back
// (zeros elsewhere); with output_shape, that tensor sits at the origin of a larger zero one.
struct UnpoolParams : ir::OpParams {
  ir::Shape unpooled;  // the shape the indices address
};

absl::Status InferMaxUnpool(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 2, 3));
  const ir::Value& x = g.value(n.inputs[0]);
  const ir::Value& idx = g.value(n.inputs[1]);
  RETURN_IF_ERROR(RequireData(n, x));
  RETURN_IF_ERROR(RequireIndices(n, idx));
  if (idx.shape != x.shape) return Invalid(n, "indices must have the input's shape");
  const size_t rank = x.shape.size();
  if (rank < 3) return Invalid(n, "input rank is below 3");
  const size_t sp = rank - 2;
  ASSIGN_OR_RETURN(std::vector<int64_t> kernel, n.Ints("kernel_shape"));
  ASSIGN_OR_RETURN(std::vector<int64_t> strides, n.Ints("strides", std::vector<int64_t>(sp, 1)));
  ASSIGN_OR_RETURN(std::vector<int64_t> pads, n.Ints("pads", std::vector<int64_t>(2 * sp, 0)));
  if (kernel.size() != sp || strides.size() != sp || pads.size() != 2 * sp)
    return Invalid(n, "kernel_shape, strides or pads have the wrong size");
  auto p = std::make_shared<UnpoolParams>();
  p->unpooled = {x.shape[0], x.shape[1]};
  for (size_t i = 0; i < sp; ++i) {
    if (kernel[i] < 1 || strides[i] < 1 || kernel[i] > (int64_t{1} << 30) ||
        strides[i] > (int64_t{1} << 30))
      return Invalid(n, "kernel_shape and strides must be positive");
    p->unpooled.push_back((x.shape[2 + i] - 1) * strides[i] - pads[i] - pads[sp + i] + kernel[i]);
  }
  ir::Shape shape = p->unpooled;
  if (n.input(2) >= 0) {
    ASSIGN_OR_RETURN(shape, ConstInts(g, n, 2, "'output_shape' input"));
    if (shape.size() != rank) return Invalid(n, "output_shape must keep the input's rank");
    for (size_t d = 0; d < rank; ++d)
      if (shape[d] < p->unpooled[d])
        return Invalid(n, absl::StrCat("output_shape ", ir::ShapeString(shape), " is smaller than ",
                                       ir::ShapeString(p->unpooled)));
  }
  for (int64_t d : p->unpooled)
    if (d < 0) return Invalid(n, "the output size is negative");
  n.params = p;
  SetOutput(g, n, 0, x.dtype, shape);
  return absl::OkStatus();
}

absl::Status ComputeMaxUnpool(const ir::Node& n, const std::vector<TypedBuf>& in,
                              const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const UnpoolParams* p, Params<UnpoolParams>(n));
  const TypedBuf &x = in[0], &idx = in[1], &y = out[0];
  if (y.is_float())
    std::fill_n(y.f(), y.count(), 0.f);
  else
    std::fill_n(y.i(), y.count(), 0);
  const std::vector<int64_t> from = Strides(p->unpooled), to = Strides(y.shape);
  const int64_t total = ir::NumElements(p->unpooled);
  for (int64_t k = 0; k < x.count(); ++k) {
    const int64_t j = idx.i()[k];
    if (j < 0 || j >= total)
      return Invalid(n, absl::StrCat("index ", j, " is outside the unpooled ", total, " elements"));
    int64_t dst = 0;  // the same coordinates in the (possibly larger) output
    for (size_t d = 0; d < from.size(); ++d) dst += j / from[d] % p->unpooled[d] * to[d];
    CopyElement(x, k, y, dst);
  }
  return absl::OkStatus();
}

}  // namespace

ONNXRUN_TYPED_OP(MaxUnpool, InferMaxUnpool, ComputeMaxUnpool);
ONNXRUN_TYPED_OP(ReverseSequence, InferReverseSequence, ComputeReverseSequence);
ONNXRUN_TYPED_OP(GatherElements, InferElements, ComputeElements);
ONNXRUN_TYPED_OP(ScatterElements, InferElements, ComputeElements);
ONNXRUN_TYPED_OP(Scatter, InferElements, ComputeElements);
ONNXRUN_TYPED_OP(GatherND, InferND, ComputeND);
ONNXRUN_TYPED_OP(ScatterND, InferND, ComputeND);

}  // namespace onnxrun
