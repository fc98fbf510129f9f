// Any constant subgraph folds at load, whatever op computes it: a Conv -> MaxPool -> Relu chain on
// an initializer disappears from the optimized graph and the result matches the unoptimized run.
#include <gtest/gtest.h>

#include <random>

#include "tests/unit/support/graph_builder.h"

namespace onnxrun::test {
namespace {

// The same chain on `c`, an initializer (folds) or a graph input (runs every time).
GraphBuilder Chain(const Tensor& c, bool constant) {
  std::mt19937 rng(22);
  GraphBuilder b(13);
  const std::string x = b.Input("x", {1, 8, 4, 4});
  const std::string cv = constant ? b.Init("c", c.shape(), c.values()) : b.Input("c", c.shape());
  auto conv =
      b.Op("Conv", {cv, b.Weight("w", {8, 3, 3, 3}, rng, -0.3f, 0.3f)}).Ints("pads", {1, 1, 1, 1});
  auto pool = b.Op("MaxPool", {conv}).Ints("kernel_shape", {3, 3}).Ints("strides", {2, 2});
  auto relu = b.Op("Relu", {pool});
  b.Output(b.Op("Add", {x, relu}));
  return b;
}

TEST(FoldByRunning, ConstantConvChainFoldsAtLoad) {
  std::mt19937 rng(21);
  const Tensor c = RandomTensor({1, 3, 9, 9}, rng);
  const Tensor x = RandomTensor({1, 8, 4, 4}, rng);
  GraphBuilder folded = Chain(c, true);
  auto session = LoadSession(folded, {});
  ASSERT_TRUE(session.ok()) << session.status();
  const auto& ops = (*session)->report().ops_after;
  EXPECT_EQ(ops.count("Conv"), 0u);
  EXPECT_EQ(ops.count("MaxPool"), 0u);
  EXPECT_EQ(ops.at("Add"), 1);
  auto got = RunModel(folded, {}, {{"x", x}});
  auto want = RunModel(Chain(c, false), {}, {{"x", x}, {"c", c}});
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(want.ok()) << want.status();
  EXPECT_TRUE(AllClose((*got)[0], (*want)[0], 1e-6, 1e-6));
}

}  // namespace
}  // namespace onnxrun::test
