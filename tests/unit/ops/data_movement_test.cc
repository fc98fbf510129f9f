// Tests for ops/data_movement.cc: Transpose, Slice (starts, ends, axes, steps) and Gather with
// constant indices, through the real loader and Session against naive NCHW references
// (tests/unit/support/reference_ops.h) on seeded random shapes. ExpectAllVariants runs each case
// under all eight combinations of optimize / concat_in_place / in_place; the variants agree bitwise
// unless a case says otherwise.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/support/graph_builder.h"
#include "tests/unit/support/reference_ops.h"

namespace onnxrun::test {
namespace {

using Shape = std::vector<int64_t>;
using namespace reference;  // NOLINT: the references read best unqualified

TEST(OpsDataMovement, Transpose) {
  std::mt19937 rng(23);
  const std::vector<std::pair<Shape, std::vector<int64_t>>> cases = {
      {{2, 3, 4, 5}, {0, 2, 3, 1}},
      {{2, 3, 4, 5}, {0, 3, 1, 2}},
      {{2, 3, 4, 5}, {3, 2, 1, 0}},
      {{3, 4, 5}, {}},
      {{6, 7}, {1, 0}},
      {{2, 3, 4, 5}, {1, 0, 2, 3}},
  };
  for (const auto& [s, perm] : cases) {
    SCOPED_TRACE(absl::StrCat(ir::ShapeString(s), " perm ", ir::ShapeString(perm)));
    GraphBuilder b;
    const Tensor x = RandomTensor(s, rng);
    auto n = b.Op("Transpose", {b.Input("x", s)});
    std::vector<int64_t> p = perm;
    if (p.empty())
      for (int64_t i = s.size() - 1; i >= 0; --i) p.push_back(i);
    else
      n.Ints("perm", perm);
    b.Output(n);
    ExpectAllVariants(b, {{"x", x}}, {RefTranspose(x, p)});
  }
}

TEST(OpsDataMovement, SliceStartsEndsAxesSteps) {
  std::mt19937 rng(24);
  struct Case {
    int opset;
    Shape s;
    std::vector<int64_t> starts, ends, axes, steps;
  };
  const std::vector<Case> cases = {
      {13, {2, 5, 6, 7}, {1, 2}, {4, -1}, {1, 3}, {}},
      {13, {2, 5, 6, 7}, {0}, {INT64_MAX}, {2}, {2}},
      {13, {3, 8}, {-1}, {-100}, {1}, {-1}},
      {13, {2, 5, 6, 7}, {4, 5}, {0, 1}, {1, 2}, {-2, -1}},
      {13, {4, 5, 6}, {1, 0, 2}, {3, 5, 100}, {}, {1, 3, 1}},
      {13, {2, 5, 6, 7}, {1}, {2}, {0}, {}},
      {9, {3, 4, 5}, {0, 1}, {2, -1}, {0, 2}, {}},
      {13, {2, 3, 4, 5}, {-3}, {-1}, {-1}, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat("opset ", c.opset, " ", ir::ShapeString(c.s), " starts ",
                              ir::ShapeString(c.starts)));
    GraphBuilder b(c.opset);
    const Tensor x = RandomTensor(c.s, rng);
    std::string in = b.Input("x", c.s);
    auto ints = [&](const char* n, const std::vector<int64_t>& v) {
      return b.InitInts(n, {int64_t(v.size())}, v);
    };
    if (c.opset >= 10) {
      std::vector<std::string> ins = {in, ints("starts", c.starts), ints("ends", c.ends)};
      if (!c.axes.empty() || !c.steps.empty())
        ins.push_back(c.axes.empty() ? "" : ints("axes", c.axes));
      if (!c.steps.empty()) ins.push_back(ints("steps", c.steps));
      b.Output(b.Op("Slice", ins));
    } else {
      b.Output(
          b.Op("Slice", {in}).Ints("starts", c.starts).Ints("ends", c.ends).Ints("axes", c.axes));
    }
    // Per axis: the source indices taken, per ONNX clamping rules.
    std::vector<std::vector<int64_t>> take(c.s.size());
    for (size_t d = 0; d < c.s.size(); ++d)
      for (int64_t i = 0; i < c.s[d]; ++i) take[d].push_back(i);
    for (size_t i = 0; i < c.starts.size(); ++i) {
      const int64_t rank = c.s.size();
      const int64_t a = c.axes.empty() ? i : (c.axes[i] + rank) % rank, dim = c.s[a];
      const int64_t step = c.steps.empty() ? 1 : c.steps[i];
      int64_t st = c.starts[i] < 0 ? c.starts[i] + dim : c.starts[i];
      int64_t en = c.ends[i] < 0 ? c.ends[i] + dim : c.ends[i];
      st = step > 0 ? std::clamp<int64_t>(st, 0, dim) : std::clamp<int64_t>(st, 0, dim - 1);
      en = step > 0 ? std::clamp<int64_t>(en, 0, dim) : std::clamp<int64_t>(en, -1, dim - 1);
      take[a].clear();
      for (int64_t j = st; step > 0 ? j < en : j > en; j += step) take[a].push_back(j);
    }
    Shape out;
    for (const auto& t : take) out.push_back(t.size());
    Tensor want(out);
    const auto st = Strides(c.s);
    int64_t k = 0;
    ForEachIndex(out, [&](const Shape& idx) {
      int64_t off = 0;
      for (size_t d = 0; d < idx.size(); ++d) off += take[d][idx[d]] * st[d];
      want.values()[k++] = x.values()[off];
    });
    ExpectAllVariants(b, {{"x", x}}, {want});
  }
}

TEST(OpsDataMovement, GatherConstantIndices) {
  std::mt19937 rng(25);
  struct Case {
    Shape s;
    int64_t axis;
    Shape is;
    std::vector<int64_t> idx;
  };
  const std::vector<Case> cases = {
      {{5, 4}, 0, {3}, {4, 0, -1}},
      {{2, 6, 3, 3}, 1, {2}, {5, 1}},
      {{2, 6, 3, 3}, 1, {}, {-2}},
      {{3, 4, 5}, -1, {2, 2}, {0, 4, 1, 1}},
      {{7}, 0, {}, {3}},
      {{2, 3, 4, 5}, 0, {1}, {1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(
        absl::StrCat(ir::ShapeString(c.s), " axis ", c.axis, " idx ", ir::ShapeString(c.idx)));
    GraphBuilder b;
    const Tensor x = RandomTensor(c.s, rng);
    b.Output(b.Op("Gather", {b.Input("x", c.s), b.InitInts("i", c.is, c.idx)}).Int("axis", c.axis));
    const int64_t rank = c.s.size(), axis = c.axis < 0 ? c.axis + rank : c.axis;
    Shape out(c.s.begin(), c.s.begin() + axis);
    out.insert(out.end(), c.is.begin(), c.is.end());
    out.insert(out.end(), c.s.begin() + axis + 1, c.s.end());
    const int64_t outer =
        std::accumulate(c.s.begin(), c.s.begin() + axis, int64_t{1}, std::multiplies<>());
    const int64_t inner = x.num_elements() / outer / c.s[axis];
    Tensor want(out);
    int64_t k = 0;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i : c.idx)
        for (int64_t j = 0; j < inner; ++j)
          want.values()[k++] =
              x.values()[(o * c.s[axis] + (i < 0 ? i + c.s[axis] : i)) * inner + j];
    ExpectAllVariants(b, {{"x", x}}, {want});
  }
}

}  // namespace
}  // namespace onnxrun::test
