// eliminate_dead: nodes none of whose outputs is read or is a graph output are dropped.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "runtime/optimize/pass.h"
#include "tests/unit/optimize/pass_test_util.h"

namespace onnxrun::test {
namespace {

TEST(EliminateDead, DropsUnreadBranchesKeepsPartlyReadNodes) {
  std::mt19937 rng(18);
  GraphBuilder b;
  const std::string x = b.Input("x", kImage);
  b.Op("Tanh", {b.Op("Sigmoid", {x})});  // dead chain
  auto split = b.Op("Split", {x, b.InitInts("split", {2}, {1, 2})}, 2).Int("axis", 1);
  b.Output(b.Op("Relu", {split.out(1)}));  // output 0 unread: Split stays
  ir::Graph g = Prepared(b);
  EXPECT_EQ(LiveNodes(g), 4);
  ASSERT_EQ(*RunPass(g, EliminateDead), 2);
  EXPECT_EQ(g.OpHistogram(), (Histogram{{"Relu", 1}, {"Split", 1}}));
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(kImage, rng)}});
}

}  // namespace
}  // namespace onnxrun::test
