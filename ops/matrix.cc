// Trilu, EyeLike, OneHot and Compress on every numeric type and bool, and Det and
// MeanVarianceNormalization, folded at load or
// run as typed kernels (ops/typed.h). Compress's output size depends on its condition's values, so
// the condition must be constant (the plan's shapes are fixed at load).
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "ops/typed.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;
using ir::DataType;

struct TriluParams : ir::OpParams {
  bool upper = true;
  int64_t k = 0;      // EyeLike
  int64_t axis = 0;   // OneHot, Compress (-1 for Compress without axis: flattened)
  int64_t depth = 0;  // OneHot
};

absl::Status RequireType(const ir::Node& n, DataType t) {
  if (t == DataType::kString || t == DataType::kOther)
    return Unsupported(n, absl::StrCat("element type ", ir::DataTypeName(t), " is not supported"));
  return absl::OkStatus();
}

absl::Status InferTrilu(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 2));
  const ir::Value& x = g.value(n.inputs[0]);
  RETURN_IF_ERROR(RequireType(n, x.dtype));
  if (x.shape.size() < 2) return Invalid(n, "input rank is below 2");
  if (n.input(1) >= 0) {
    const ir::Value& k = g.value(n.inputs[1]);
    if (ir::IsFloatType(k.dtype) || ir::NumElements(k.shape) != 1)
      return Invalid(n, "k must be one integer");
  }
  auto p = std::make_shared<TriluParams>();
  ASSIGN_OR_RETURN(int64_t upper, n.Int("upper", 1));
  p->upper = upper != 0;
  n.params = p;
  SetOutput(g, n, 0, x.dtype, x.shape);
  return absl::OkStatus();
}

absl::Status ComputeTrilu(const ir::Node& n, const std::vector<TypedBuf>& in,
                          const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const TriluParams* p, Params<TriluParams>(n));
  // k is a tensor (it may be computed at run time), clamped so that j - i compares safely.
  const int64_t k = in.size() > 1 && in[1].data ? in[1].i()[0] : 0;
  const int64_t kc = std::max<int64_t>(std::min<int64_t>(k, int64_t{1} << 40), -(int64_t{1} << 40));
  const ir::Shape& s = in[0].shape;
  const int64_t rows = s[s.size() - 2], cols = s.back();
  const int64_t mats = rows * cols ? in[0].count() / (rows * cols) : 0;
  for (int64_t m = 0; m < mats; ++m)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        const int64_t e = (m * rows + i) * cols + j;
        const bool keep = p->upper ? j - i >= kc : j - i <= kc;
        if (in[0].is_float())
          out[0].f()[e] = keep ? in[0].f()[e] : 0.f;
        else
          out[0].i()[e] = keep ? in[0].i()[e] : 0;
      }
  return absl::OkStatus();
}

// ONNX TensorProto codes EyeLike's dtype may name, as the runtime holds them.
absl::StatusOr<DataType> TypeOfCode(const ir::Node& n, int64_t code) {
  switch (code) {
    case 1:
      return DataType::kFloat32;
    case 10:
    case 11:
      return DataType::kFloat32;  // float16 and float64 are computed as float32
    case 7:
      return DataType::kInt64;
    case 6:
    case 5:
    case 4:
    case 12:
      return DataType::kInt32;
    case 3:
      return DataType::kInt8;
    case 2:
      return DataType::kUint8;
    case 9:
      return DataType::kBool;
    default:
      return Unsupported(n, absl::StrCat("dtype ", ir::OnnxTypeName(code), " is not supported"));
  }
}

absl::Status InferEyeLike(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 1));
  const ir::Value& x = g.value(n.inputs[0]);
  if (x.shape.size() != 2) return Invalid(n, "input must have rank 2");
  DataType t = x.dtype;
  if (n.Has("dtype")) {
    ASSIGN_OR_RETURN(int64_t code, n.Int("dtype", 1));
    ASSIGN_OR_RETURN(t, TypeOfCode(n, code));
  }
  RETURN_IF_ERROR(RequireType(n, t));
  auto p = std::make_shared<TriluParams>();
  ASSIGN_OR_RETURN(p->k, n.Int("k", 0));
  n.params = p;
  SetOutput(g, n, 0, t, x.shape);
  return absl::OkStatus();
}

absl::Status ComputeEyeLike(const ir::Node& n, const std::vector<TypedBuf>&,
                            const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const TriluParams* p, Params<TriluParams>(n));
  const int64_t rows = out[0].shape[0], cols = out[0].shape[1];
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      const bool one = p->k >= -cols && p->k <= cols && j - i == p->k;
      if (out[0].is_float())
        out[0].f()[i * cols + j] = one ? 1.f : 0.f;
      else
        out[0].i()[i * cols + j] = one;
    }
  return absl::OkStatus();
}

// EyeLike reads only its input's shape: it folds as soon as that is known.
uint32_t EyeLikeCaps(const ir::Graph&, const ir::Node&) { return kCapTyped | kCapFoldsFromShape; }

absl::Status InferOneHot(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 3, 3));
  const ir::Value& idx = g.value(n.inputs[0]);
  const ir::Value& values = g.value(n.inputs[2]);
  RETURN_IF_ERROR(RequireType(n, idx.dtype));
  RETURN_IF_ERROR(RequireType(n, values.dtype));
  if (idx.dtype == DataType::kBool) return Invalid(n, "indices are bool");
  if (ir::NumElements(values.shape) != 2) return Invalid(n, "values must hold [off, on]");
  const ir::Value& depth = g.value(n.inputs[1]);
  // The depth sets the output shape: it must be constant.
  if (!depth.is_constant())
    return Unsupported(n, "depth is computed at run time (the output shape depends on it)");
  if (ir::NumElements(depth.shape) != 1) return Invalid(n, "depth must hold one value");
  const ir::Tensor& d = *depth.constant;
  const double dv = ir::IsFloatType(d.dtype()) ? d.values()[0] : static_cast<double>(d.ints()[0]);
  if (!(dv >= 1 && dv < 9e18)) return Invalid(n, absl::StrCat("depth ", dv, " is below 1"));
  auto p = std::make_shared<TriluParams>();
  p->depth = static_cast<int64_t>(dv);
  ASSIGN_OR_RETURN(int64_t axis, n.Int("axis", -1));
  const int64_t rank = static_cast<int64_t>(idx.shape.size()) + 1;
  ASSIGN_OR_RETURN(p->axis, Axis(n, axis, rank, "axis"));
  ir::Shape shape = idx.shape;
  shape.insert(shape.begin() + p->axis, p->depth);
  n.params = p;
  SetOutput(g, n, 0, values.dtype, shape);
  return absl::OkStatus();
}

absl::Status ComputeOneHot(const ir::Node& n, const std::vector<TypedBuf>& in,
                           const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const TriluParams* p, Params<TriluParams>(n));
  const TypedBuf &idx = in[0], &values = in[2], &y = out[0];
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < p->axis; ++d) outer *= idx.shape[d];
  for (size_t d = p->axis; d < idx.shape.size(); ++d) inner *= idx.shape[d];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < p->depth; ++j)
      for (int64_t i = 0; i < inner; ++i) {
        const double v = idx.at(o * inner + i);
        // Negative indices count from the end; others out of range are all "off".
        const double w = v < 0 ? v + p->depth : v;
        const bool on = static_cast<double>(j) == std::trunc(w);
        CopyElement(values, on, y, (o * p->depth + j) * inner + i);
      }
  return absl::OkStatus();
}

absl::Status InferCompress(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 2, 2));
  const ir::Value& x = g.value(n.inputs[0]);
  const ir::Value& c = g.value(n.inputs[1]);
  RETURN_IF_ERROR(RequireType(n, x.dtype));
  if (c.dtype != DataType::kBool || c.shape.size() != 1)
    return Invalid(n, "condition must be a 1-D bool tensor");
  if (!c.is_constant())
    return Unsupported(n, "condition is computed at run time (the output shape depends on it)");
  auto p = std::make_shared<TriluParams>();
  int64_t len = ir::NumElements(x.shape);
  p->axis = -1;
  if (n.Has("axis")) {
    ASSIGN_OR_RETURN(int64_t axis, n.Int("axis", 0));
    ASSIGN_OR_RETURN(p->axis, Axis(n, axis, x.shape.size(), "axis"));
    len = x.shape[p->axis];
  }
  const std::vector<int64_t>& cond = c.constant->ints();
  if (static_cast<int64_t>(cond.size()) > len)
    return Invalid(n, absl::StrCat("condition has ", cond.size(), " values for ", len, " slices"));
  int64_t kept = 0;
  for (int64_t v : cond) kept += v != 0;
  ir::Shape shape = p->axis < 0 ? ir::Shape{kept} : x.shape;
  if (p->axis >= 0) shape[p->axis] = kept;
  n.params = p;
  SetOutput(g, n, 0, x.dtype, shape);
  return absl::OkStatus();
}

absl::Status ComputeCompress(const ir::Node& n, const std::vector<TypedBuf>& in,
                             const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const TriluParams* p, Params<TriluParams>(n));
  const TypedBuf &x = in[0], &c = in[1], &y = out[0];
  int64_t outer = 1, len = x.count(), inner = 1;
  if (p->axis >= 0) {
    len = x.shape[p->axis];
    for (int64_t d = 0; d < p->axis; ++d) outer *= x.shape[d];
    for (size_t d = p->axis + 1; d < x.shape.size(); ++d) inner *= x.shape[d];
  }
  int64_t dst = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < std::min(len, c.count()); ++j) {
      if (!c.i()[j]) continue;
      for (int64_t i = 0; i < inner; ++i) CopyElement(x, (o * len + j) * inner + i, y, dst++);
    }
  return absl::OkStatus();
}

absl::Status InferDet(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 1));
  const ir::Value& x = g.value(n.inputs[0]);
  if (!ir::IsFloatType(x.dtype)) return Invalid(n, "input must be a float tensor");
  const size_t r = x.shape.size();
  if (r < 2 || x.shape[r - 1] != x.shape[r - 2])
    return Invalid(n, absl::StrCat("input ", ir::ShapeString(x.shape), " is not [..., M, M]"));
  SetOutput(g, n, 0, x.dtype, ir::Shape(x.shape.begin(), x.shape.end() - 2));
  return absl::OkStatus();
}

// Determinants by LU decomposition with partial pivoting, in double.
absl::Status ComputeDet(const ir::Node&, const std::vector<TypedBuf>& in,
                        const std::vector<TypedBuf>& out) {
  const int64_t m = in[0].shape.back(), mats = out[0].count();
  std::vector<double> a(m * m);
  for (int64_t b = 0; b < mats; ++b) {
    for (int64_t e = 0; e < m * m; ++e) a[e] = in[0].f()[b * m * m + e];
    double det = 1;
    for (int64_t c = 0; c < m && det != 0; ++c) {
      int64_t pivot = c;
      for (int64_t r = c + 1; r < m; ++r)
        if (std::fabs(a[r * m + c]) > std::fabs(a[pivot * m + c])) pivot = r;
      if (a[pivot * m + c] == 0) {
        det = 0;
        break;
      }
      if (pivot != c) {
        for (int64_t k = 0; k < m; ++k) std::swap(a[c * m + k], a[pivot * m + k]);
        det = -det;
      }
      det *= a[c * m + c];
      for (int64_t r = c + 1; r < m; ++r) {
        const double f = a[r * m + c] / a[c * m + c];
        for (int64_t k = c; k < m; ++k) a[r * m + k] -= f * a[c * m + k];
      }
    }
    out[0].f()[b] = static_cast<float>(det);
  }
  return absl::OkStatus();
}

struct MvnParams : ir::OpParams {
  std::vector<bool> reduced;  // per axis
};

absl::Status InferMvn(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 1));
  const ir::Value& x = g.value(n.inputs[0]);
  if (!ir::IsFloatType(x.dtype)) return Invalid(n, "input must be a float tensor");
  ASSIGN_OR_RETURN(std::vector<int64_t> axes, n.Ints("axes", {0, 2, 3}));
  auto p = std::make_shared<MvnParams>();
  p->reduced.assign(x.shape.size(), false);
  for (int64_t a : axes) {
    ASSIGN_OR_RETURN(int64_t axis, Axis(n, a, x.shape.size(), "axes"));
    p->reduced[axis] = true;
  }
  n.params = p;
  SetOutput(g, n, 0, x.dtype, x.shape);
  return absl::OkStatus();
}

// (x - mean) / (sqrt(E[x^2] - mean^2) + 1e-9) over the reduced axes, as ONNX's function body.
absl::Status ComputeMvn(const ir::Node& n, const std::vector<TypedBuf>& in,
                        const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const MvnParams* p, Params<MvnParams>(n));
  const ir::Shape& s = in[0].shape;
  const std::vector<int64_t> st = Strides(s);
  // Each element's group: its index with the reduced axes dropped.
  std::vector<int64_t> group(in[0].count());
  int64_t groups = 1;
  std::vector<int64_t> gst(s.size(), 0);
  for (size_t d = s.size(); d-- > 0;)
    if (!p->reduced[d]) gst[d] = groups, groups *= s[d];
  for (int64_t k = 0; k < in[0].count(); ++k) {
    int64_t gi = 0;
    for (size_t d = 0; d < s.size(); ++d) gi += (k / st[d] % s[d]) * gst[d];
    group[k] = gi;
  }
  std::vector<double> sum(groups), sq(groups), cnt(groups);
  for (int64_t k = 0; k < in[0].count(); ++k) {
    const double v = in[0].f()[k];
    sum[group[k]] += v;
    sq[group[k]] += v * v;
    cnt[group[k]] += 1;
  }
  for (int64_t k = 0; k < in[0].count(); ++k) {
    const int64_t gi = group[k];
    const double mean = sum[gi] / cnt[gi];
    const double var = std::max(sq[gi] / cnt[gi] - mean * mean, 0.0);
    out[0].f()[k] = static_cast<float>((in[0].f()[k] - mean) / (std::sqrt(var) + 1e-9));
  }
  return absl::OkStatus();
}

}  // namespace

ONNXRUN_TYPED_OP(MeanVarianceNormalization, InferMvn, ComputeMvn);
ONNXRUN_TYPED_OP(Det, InferDet, ComputeDet);
ONNXRUN_TYPED_OP(Trilu, InferTrilu, ComputeTrilu);
ONNXRUN_TYPED_OP(OneHot, InferOneHot, ComputeOneHot);
ONNXRUN_TYPED_OP(Compress, InferCompress, ComputeCompress);
extern const OpDef kEyeLikeOp = {
    "EyeLike",   InferEyeLike,  FoldWith<ComputeEyeLike>, LowerWith<ComputeEyeLike>,
    EyeLikeCaps, TypedWorkspace};

}  // namespace onnxrun
