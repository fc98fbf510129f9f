// Unique, NonZero and NonMaxSuppression: outputs whose shapes depend on the input's values. A
// plan's shapes are fixed at load, so the inputs must be constant there (weights, bound inputs) and
// the op folds; computed at run time, it is refused naming the node.
#include <algorithm>
#include <array>
#include <map>
#include <numeric>
#include <optional>

#include "absl/strings/str_cat.h"
#include "ops/tensor_util.h"
#include "ops/typed.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;
using ir::DataType;

absl::Status RequireConstant(const ir::Graph& g, const ir::Node& n, size_t input = 0) {
  const ir::Value& x = g.value(n.inputs[input]);
  if (!x.is_constant())
    return Unsupported(n, absl::StrCat("input '", x.name,
                                       "' is computed at run time (the output shape depends on its "
                                       "values; it must be constant at load)"));
  if (x.dtype == DataType::kString || x.dtype == DataType::kOther)
    return Unsupported(
        n, absl::StrCat("element type ", ir::DataTypeName(x.dtype), " is not supported"));
  return absl::OkStatus();
}

// Unique's slices: the input as outer x len x inner around the axis (len = every element, outer =
// inner = 1, without one).
struct Slices {
  int64_t outer = 1, len = 1, inner = 1;
  std::vector<int64_t> first;    // per unique slice, in output order: its first index
  std::vector<int64_t> inverse;  // per input slice: its unique slice's output position
  std::vector<int64_t> counts;   // per unique slice
};

absl::StatusOr<Slices> FindUnique(const ir::Node& n, const TypedBuf& x) {
  Slices s;
  s.len = x.count();
  if (n.Has("axis")) {
    ASSIGN_OR_RETURN(int64_t axis, n.Int("axis", 0));
    ASSIGN_OR_RETURN(axis, Axis(n, axis, x.shape.size(), "axis"));
    s.len = x.shape[axis];
    s.outer = s.inner = 1;
    for (int64_t d = 0; d < axis; ++d) s.outer *= x.shape[d];
    for (size_t d = axis + 1; d < x.shape.size(); ++d) s.inner *= x.shape[d];
  }
  ASSIGN_OR_RETURN(int64_t sorted, n.Int("sorted", 1));
  auto slice = [&](int64_t j) {
    std::vector<double> v;
    v.reserve(s.outer * s.inner);
    for (int64_t o = 0; o < s.outer; ++o)
      for (int64_t i = 0; i < s.inner; ++i) v.push_back(x.at((o * s.len + j) * s.inner + i));
    return v;
  };
  std::map<std::vector<double>, int64_t> seen;  // slice -> index among first occurrences
  std::vector<int64_t> group(s.len);
  std::vector<std::vector<double>> values;
  for (int64_t j = 0; j < s.len; ++j) {
    auto [it, fresh] = seen.emplace(slice(j), static_cast<int64_t>(s.first.size()));
    if (fresh) {
      s.first.push_back(j);
      values.push_back(it->first);
      s.counts.push_back(0);
    }
    group[j] = it->second;
    ++s.counts[it->second];
  }
  // Output order: first occurrence, or ascending (lexicographic for slices).
  std::vector<int64_t> order(s.first.size()), position(s.first.size());
  std::iota(order.begin(), order.end(), 0);
  if (sorted)
    std::sort(order.begin(), order.end(),
              [&](int64_t a, int64_t b) { return values[a] < values[b]; });
  std::vector<int64_t> first(order.size()), counts(order.size());
  for (size_t k = 0; k < order.size(); ++k) {
    position[order[k]] = k;
    first[k] = s.first[order[k]];
    counts[k] = s.counts[order[k]];
  }
  s.first = std::move(first);
  s.counts = std::move(counts);
  for (int64_t j = 0; j < s.len; ++j) s.inverse.push_back(position[group[j]]);
  return s;
}

TypedBuf BufOf(const ir::Value& v) {
  return {v.dtype, v.shape, const_cast<void*>(RawData(*v.constant))};  // read only
}

absl::Status InferUnique(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 1));
  RETURN_IF_ERROR(RequireConstant(g, n));
  const ir::Value& x = g.value(n.inputs[0]);
  ASSIGN_OR_RETURN(Slices s, FindUnique(n, BufOf(x)));
  const int64_t u = s.first.size();
  ir::Shape y = {u};
  if (n.Has("axis")) {
    ASSIGN_OR_RETURN(int64_t axis, n.Int("axis", 0));
    ASSIGN_OR_RETURN(axis, Axis(n, axis, x.shape.size(), "axis"));
    y = x.shape;
    y[axis] = u;
  }
  SetOutput(g, n, 0, x.dtype, y);
  for (size_t i = 1; i < 4; ++i)
    SetOutput(g, n, i, DataType::kInt64, i == 2 ? ir::Shape{s.len} : ir::Shape{u});
  return absl::OkStatus();
}

absl::Status ComputeUnique(const ir::Node& n, const std::vector<TypedBuf>& in,
                           const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(Slices s, FindUnique(n, in[0]));
  const int64_t u = s.first.size();
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t k = 0; k < u; ++k)
      for (int64_t i = 0; i < s.inner; ++i)
        CopyElement(in[0], (o * s.len + s.first[k]) * s.inner + i, out[0],
                    (o * u + k) * s.inner + i);
  const std::vector<int64_t>* parts[] = {&s.first, &s.inverse, &s.counts};
  for (size_t i = 1; i < out.size() && i < 4; ++i)
    if (out[i].data) std::copy(parts[i - 1]->begin(), parts[i - 1]->end(), out[i].i());
  return absl::OkStatus();
}

absl::Status InferNonZero(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 1));
  RETURN_IF_ERROR(RequireConstant(g, n));
  const ir::Value& x = g.value(n.inputs[0]);
  const TypedBuf b = BufOf(x);
  int64_t nonzero = 0;
  for (int64_t k = 0; k < b.count(); ++k) nonzero += b.at(k) != 0;
  SetOutput(g, n, 0, DataType::kInt64, {static_cast<int64_t>(x.shape.size()), nonzero});
  return absl::OkStatus();
}

absl::Status ComputeNonZero(const ir::Node&, const std::vector<TypedBuf>& in,
                            const std::vector<TypedBuf>& out) {
  const TypedBuf& x = in[0];
  const int64_t rank = x.shape.size(), nonzero = out[0].shape[1];
  const std::vector<int64_t> strides = Strides(x.shape);
  int64_t col = 0;
  for (int64_t k = 0; k < x.count(); ++k) {
    if (x.at(k) == 0) continue;
    for (int64_t d = 0; d < rank; ++d) out[0].i()[d * nonzero + col] = k / strides[d] % x.shape[d];
    ++col;
  }
  return absl::OkStatus();
}

// NonMaxSuppression: per batch and class, the boxes scoring above score_threshold in descending
// score order (ties: the lower box index first), each kept unless its IoU with a box kept before it
// exceeds iou_threshold, at most max_output_boxes_per_class of them (ONNX Runtime's rules).
struct NmsInputs {
  int64_t batches = 0, classes = 0, boxes = 0;
  int64_t max_per_class = 0;
  float iou_threshold = 0;
  std::optional<float> score_threshold;
  bool center_point = false;
};

absl::StatusOr<NmsInputs> ReadNms(const ir::Node& n, const std::vector<TypedBuf>& in) {
  NmsInputs r;
  const ir::Shape& b = in[0].shape;
  const ir::Shape& s = in[1].shape;
  if (b.size() != 3 || b[2] != 4)
    return Invalid(n, absl::StrCat("boxes must be [num_batches, spatial_dimension, 4], got ",
                                   ir::ShapeString(b)));
  if (s.size() != 3 || s[0] != b[0] || s[2] != b[1])
    return Invalid(
        n, absl::StrCat("scores must be [num_batches, num_classes, spatial_dimension] = [", b[0],
                        ", C, ", b[1], "], got ", ir::ShapeString(s)));
  r.batches = b[0];
  r.classes = s[1];
  r.boxes = b[1];
  auto scalar = [&](size_t i, const char* what) -> absl::StatusOr<std::optional<double>> {
    if (i >= in.size() || !in[i].data) return std::optional<double>();
    if (in[i].count() != 1)
      return Invalid(
          n, absl::StrCat(what, " must hold one value, got shape ", ir::ShapeString(in[i].shape)));
    return std::optional<double>(in[i].at(0));
  };
  ASSIGN_OR_RETURN(std::optional<double> max_out, scalar(2, "max_output_boxes_per_class"));
  ASSIGN_OR_RETURN(std::optional<double> iou, scalar(3, "iou_threshold"));
  ASSIGN_OR_RETURN(std::optional<double> score, scalar(4, "score_threshold"));
  r.max_per_class = max_out ? static_cast<int64_t>(std::max(0.0, *max_out)) : 0;
  r.max_per_class = std::min(r.max_per_class, r.boxes);
  if (iou) {
    if (!(*iou >= 0 && *iou <= 1))
      return Invalid(n, absl::StrCat("iou_threshold must be in [0, 1], got ", *iou));
    r.iou_threshold = static_cast<float>(*iou);
  }
  if (score) r.score_threshold = static_cast<float>(*score);
  ASSIGN_OR_RETURN(int64_t center, n.Int("center_point_box", 0));
  if (center != 0 && center != 1)
    return Invalid(n, absl::StrCat("center_point_box must be 0 or 1, got ", center));
  r.center_point = center == 1;
  return r;
}

// The selected [batch, class, box] triples, in output order.
absl::StatusOr<std::vector<std::array<int64_t, 3>>> SelectBoxes(const ir::Node& n,
                                                                const std::vector<TypedBuf>& in) {
  ASSIGN_OR_RETURN(NmsInputs p, ReadNms(n, in));
  struct Corners {
    float y0, x0, y1, x1;
  };
  auto corners = [&](int64_t batch, int64_t box) {
    double v[4];
    for (int k = 0; k < 4; ++k) v[k] = in[0].at((batch * p.boxes + box) * 4 + k);
    if (p.center_point)  // [x_center, y_center, width, height]
      return Corners{float(v[1] - v[3] / 2), float(v[0] - v[2] / 2), float(v[1] + v[3] / 2),
                     float(v[0] + v[2] / 2)};
    return Corners{float(std::min(v[0], v[2])), float(std::min(v[1], v[3])),
                   float(std::max(v[0], v[2])), float(std::max(v[1], v[3]))};
  };
  auto suppresses = [&](const Corners& a, const Corners& b) {
    const float ix0 = std::max(a.x0, b.x0), ix1 = std::min(a.x1, b.x1);
    const float iy0 = std::max(a.y0, b.y0), iy1 = std::min(a.y1, b.y1);
    if (ix1 <= ix0 || iy1 <= iy0) return false;
    const float inter = (ix1 - ix0) * (iy1 - iy0);
    const float area_a = (a.x1 - a.x0) * (a.y1 - a.y0), area_b = (b.x1 - b.x0) * (b.y1 - b.y0);
    const float uni = area_a + area_b - inter;
    if (area_a <= 0 || area_b <= 0 || uni <= 0) return false;
    return inter / uni > p.iou_threshold;
  };
  std::vector<std::array<int64_t, 3>> selected;
  for (int64_t batch = 0; batch < p.batches; ++batch) {
    for (int64_t cls = 0; cls < p.classes && p.max_per_class > 0; ++cls) {
      std::vector<std::pair<float, int64_t>> candidates;
      for (int64_t box = 0; box < p.boxes; ++box) {
        const float score = in[1].at((batch * p.classes + cls) * p.boxes + box);
        if (!p.score_threshold || score > *p.score_threshold) candidates.emplace_back(score, box);
      }
      std::stable_sort(candidates.begin(), candidates.end(),
                       [](const auto& a, const auto& b) { return a.first > b.first; });
      std::vector<Corners> kept;
      for (const auto& [score, box] : candidates) {
        if (static_cast<int64_t>(kept.size()) >= p.max_per_class) break;
        const Corners c = corners(batch, box);
        bool suppressed = false;
        for (const Corners& k : kept) suppressed = suppressed || suppresses(k, c);
        if (suppressed) continue;
        kept.push_back(c);
        selected.push_back({batch, cls, box});
      }
    }
  }
  return selected;
}

absl::Status InferNonMaxSuppression(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 2, 5));
  std::vector<TypedBuf> in(n.inputs.size());
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i] < 0) continue;
    RETURN_IF_ERROR(RequireConstant(g, n, i));
    in[i] = BufOf(g.value(n.inputs[i]));
  }
  for (size_t i : {0, 1})
    if (!in[i].is_float())
      return Invalid(
          n, absl::StrCat("input ", i, " must be float, got ", ir::DataTypeName(in[i].dtype)));
  ASSIGN_OR_RETURN(auto selected, SelectBoxes(n, in));
  SetOutput(g, n, 0, DataType::kInt64, {static_cast<int64_t>(selected.size()), 3});
  return absl::OkStatus();
}

absl::Status ComputeNonMaxSuppression(const ir::Node& n, const std::vector<TypedBuf>& in,
                                      const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(auto selected, SelectBoxes(n, in));
  if (static_cast<int64_t>(selected.size()) != out[0].shape[0])
    return absl::InternalError(n.Describe() + ": selected box count differs from its inference");
  for (size_t k = 0; k < selected.size(); ++k)
    std::copy(selected[k].begin(), selected[k].end(), out[0].i() + 3 * k);
  return absl::OkStatus();
}

}  // namespace

ONNXRUN_TYPED_OP(NonMaxSuppression, InferNonMaxSuppression, ComputeNonMaxSuppression);
ONNXRUN_TYPED_OP(Unique, InferUnique, ComputeUnique);
ONNXRUN_TYPED_OP(NonZero, InferNonZero, ComputeNonZero);

}  // namespace onnxrun
