// Unique and NonZero: outputs whose shapes depend on the input's values. A plan's shapes are fixed
// at load, so the input must be constant there (weights, bound inputs) and the op folds; computed
// at run time, it is refused naming the node.
#include <algorithm>
#include <map>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "ops/tensor_util.h"
#include "ops/typed.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;
using ir::DataType;

absl::Status RequireConstant(const ir::Graph& g, const ir::Node& n) {
  const ir::Value& x = g.value(n.inputs[0]);
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

}  // namespace

ONNXRUN_TYPED_OP(Unique, InferUnique, ComputeUnique);
ONNXRUN_TYPED_OP(NonZero, InferNonZero, ComputeNonZero);

}  // namespace onnxrun
