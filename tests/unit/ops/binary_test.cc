// Tests for ops/binary.cc: Add, Mul, Sub, Div broadcasting, with runtime and constant operands,
// through the real loader and Session against naive NCHW references
// (tests/unit/support/reference_ops.h) on seeded random shapes. ExpectAllVariants runs each case
// under all eight combinations of optimize / concat_in_place / in_place; the variants agree bitwise
// unless a case says otherwise.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/unit/support/graph_builder.h"
#include "tests/unit/support/reference_ops.h"

namespace onnxrun::test {
namespace {

using Shape = std::vector<int64_t>;
using namespace reference;  // NOLINT: the references read best unqualified

TEST(OpsBinary, BroadcastingShapesRuntimeAndConstant) {
  std::mt19937 rng(14);
  struct Case {
    Shape a, b;
    bool b_const, swap;
  };
  const std::vector<Case> cases = {
      {{2, 6, 5, 7}, {2, 6, 1, 1}, false, false},  // squeeze-excitation scale
      {{3, 4, 3, 3}, {3, 4, 1, 1}, false, true},   // [N,C,1,1] x [N,C,H,W]
      {{2, 3, 4, 5}, {}, true, false},             // scalar constant
      {{2, 3, 4, 5}, {1}, false, true},            // one-element run-time tensor
      {{5, 9}, {9}, true, false},                  // rank 2 + row vector
      {{5, 9}, {5, 1}, false, false},              // rank 2 + column
      {{2, 7, 3, 3}, {7, 1, 1}, true, false},      // per-channel constant
      {{3, 2, 4, 5}, {1, 2, 4, 5}, false, false},  // batch broadcast
      {{2, 3, 4, 5}, {5}, false, false},           // last-axis run-time vector
      {{2, 3, 4, 5}, {2, 3, 4, 5}, false, false},  // same shape
      {{1, 1, 6, 6}, {2, 3, 1, 1}, false, false},  // both sides broadcast
  };
  int k = 0;
  for (const Case& c : cases)
    for (const std::string op : {"Add", "Mul", "Sub", "Div"}) {
      SCOPED_TRACE(absl::StrCat(op, " ", ir::ShapeString(c.a), " ", ir::ShapeString(c.b),
                                c.b_const ? " const" : "", c.swap ? " swapped" : ""));
      GraphBuilder b;
      const Tensor x = RandomTensor(c.a, rng);
      const Tensor y = op == "Div" ? RandomTensor(c.b, rng, 0.5f, 2.f) : RandomTensor(c.b, rng);
      std::string xa = b.Input("a", c.a);
      std::string yb = c.b_const ? b.Init("b", c.b, y.values()) : b.Input("b", c.b);
      b.Output(c.swap ? b.Op(op, {yb, xa}) : b.Op(op, {xa, yb}));
      Feeds feeds = {{"a", x}};
      if (!c.b_const) feeds.push_back({"b", y});
      ExpectAllVariants(b, feeds, {c.swap ? RefBinary(op, y, x) : RefBinary(op, x, y)});
      ++k;
    }
  EXPECT_EQ(k, 44);
}

}  // namespace
}  // namespace onnxrun::test
