// Tests for ops/softmax.cc: Softmax and LogSoftmax: opset 11 flattens, opset 13 takes one axis,
// through the real loader and Session against naive NCHW references
// (tests/unit/support/reference_ops.h) on seeded random shapes. ExpectAllVariants runs each case
// under all eight combinations of optimize / concat_in_place / in_place; the variants agree bitwise
// unless a case says otherwise.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "tests/unit/support/graph_builder.h"
#include "tests/unit/support/reference_ops.h"

namespace onnxrun::test {
namespace {

using Shape = std::vector<int64_t>;
using namespace reference;  // NOLINT: the references read best unqualified

TEST(OpsSoftmax, Opset11FlattensOpset13SingleAxis) {
  std::mt19937 rng(21);
  struct Case {
    int opset;
    Shape s;
    int64_t axis;
    bool log;
  };  // axis 99 = default
  const std::vector<Case> cases = {
      {11, {3, 10}, 99, false},     {11, {2, 3, 4, 5}, 1, false},  {11, {2, 3, 4, 5}, 2, false},
      {11, {2, 5, 1, 1}, 1, false}, {11, {4, 7}, 99, true},        {13, {3, 10}, 99, false},
      {13, {2, 3, 4, 5}, 1, false}, {13, {2, 3, 4, 5}, 99, false}, {13, {2, 3, 4, 5}, 2, false},
      {13, {3, 4, 5}, 1, false},    {13, {2, 6, 3, 3}, 1, true},   {9, {2, 3, 4}, 99, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat("opset ", c.opset, " ", ir::ShapeString(c.s), " axis ", c.axis,
                              c.log ? " log" : ""));
    GraphBuilder b(c.opset);
    const Tensor x = RandomTensor(c.s, rng, -4.f, 4.f);
    auto n = b.Op(c.log ? "LogSoftmax" : "Softmax", {b.Input("x", c.s)});
    if (c.axis != 99) n.Int("axis", c.axis);
    b.Output(n);
    const int64_t rank = c.s.size();
    const int64_t axis = c.axis == 99 ? (c.opset >= 13 ? rank - 1 : 1) : c.axis;
    int64_t outer = 1, mid = 1, inner = 1;
    for (int64_t i = 0; i < rank; ++i)
      (i < axis ? outer : i == axis || c.opset < 13 ? mid : inner) *= c.s[i];
    ExpectAllVariants(b, {{"x", x}}, {RefSoftmax(x, outer, mid, inner, c.log)}, true, 1e-5, 1e-4);
  }
}

}  // namespace
}  // namespace onnxrun::test
