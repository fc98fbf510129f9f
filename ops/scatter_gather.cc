// GatherElements, ScatterElements (and its opset 9-10 name Scatter), GatherND, ScatterND and
// ReverseSequence: index tensors address elements of a data tensor of any type. Negative indices
// count from the end; an index out of range fails the fold or the run, naming the node. Folded at
// load or run as typed kernels (ops/typed.h).
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

void Copy(const TypedBuf& src, int64_t s, const TypedBuf& dst, int64_t d) {
  if (src.is_float())
    dst.f()[d] = src.f()[s];
  else
    dst.i()[d] = src.i()[s];
}

// dst[d] = reduce(dst[d], src[s]).
void Combine(Reduction r, const TypedBuf& src, int64_t s, const TypedBuf& dst, int64_t d) {
  if (r == Reduction::kNone) return Copy(src, s, dst, d);
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
  for (int64_t k = 0; k < count; ++k) Copy(src, k, dst, k);
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
      Copy(data, off, y, k);
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
        Copy(data, off + e, y, t * slice + e);
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
      for (int64_t e = 0; e < inner; ++e) Copy(x, src + e, y, dst + e);
    }
  }
  return absl::OkStatus();
}

}  // namespace

ONNXRUN_TYPED_OP(ReverseSequence, InferReverseSequence, ComputeReverseSequence);
ONNXRUN_TYPED_OP(GatherElements, InferElements, ComputeElements);
ONNXRUN_TYPED_OP(ScatterElements, InferElements, ComputeElements);
ONNXRUN_TYPED_OP(Scatter, InferElements, ComputeElements);
ONNXRUN_TYPED_OP(GatherND, InferND, ComputeND);
ONNXRUN_TYPED_OP(ScatterND, InferND, ComputeND);

}  // namespace onnxrun
