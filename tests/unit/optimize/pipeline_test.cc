// The whole optimizer pipeline (pipeline.cc: declutter -> select_kernels -> fuse) on small blocks
// of real networks: the passes compose to the expected nodes. Suites name the pass each test is
// about.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

#include "runtime/optimize/pass.h"
#include "tests/unit/optimize/pass_test_util.h"

namespace onnxrun::test {
namespace {

// Runs the whole pipeline; the rewrite count of each pass.
std::map<std::string, int> OptimizeCounting(ir::Graph& g) {
  std::vector<PassCount> counts;
  EXPECT_TRUE(Optimize(g, &counts).ok());
  std::map<std::string, int> rewrites;
  for (const PassCount& c : counts) rewrites[c.pass] = c.rewrites;
  return rewrites;
}

// A ResNet basic block's residual branch on x (C channels): conv-bn-relu, conv-bn.
std::string ResidualBranch(GraphBuilder& b, std::mt19937& rng, const std::string& x, int64_t c) {
  auto h = b.Op("Relu", {BatchNorm(b, rng, Conv(b, rng, x, c, c), c)});
  return BatchNorm(b, rng, Conv(b, rng, h, c, c), c);
}

TEST(FuseActivation, ConvBatchNormReluBecomesOneNode) {
  std::mt19937 rng(8);
  GraphBuilder b;
  b.Output(b.Op("Relu", {BatchNorm(b, rng, Conv(b, rng, b.Input("x", kImage), 3, 4, 3, true), 4)}));
  ir::Graph g = Prepared(b);
  ASSERT_TRUE(Optimize(g, nullptr).ok());
  EXPECT_EQ(g.OpHistogram(), (Histogram{{"Conv+BatchNorm+Relu", 1}}));
  EXPECT_EQ(g.nodes[0].fusion.lo, 0.f);
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(kImage, rng)}});
}

// SE-ResNet's squeeze-excitation gate: both 1x1 convolutions take their activation.
TEST(FuseActivation, SqueezeExcitationGate) {
  std::mt19937 rng(24);
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 8, 5, 5});
  auto s = b.Op("GlobalAveragePool", {x});
  s = b.Op("Relu",
           {b.Op("Conv", {s, b.Weight("w1", {2, 8, 1, 1}, rng), b.Weight("b1", {2}, rng)})});
  s = b.Op("Sigmoid",
           {b.Op("Conv", {s, b.Weight("w2", {8, 2, 1, 1}, rng), b.Weight("b2", {8}, rng)})});
  b.Output(b.Op("Mul", {x, s}));
  ir::Graph g = Prepared(b);
  ASSERT_TRUE(Optimize(g, nullptr).ok());
  EXPECT_EQ(
      g.OpHistogram(),
      (Histogram{{"Conv+Relu", 1}, {"Conv+Sigmoid", 1}, {"GlobalAveragePool", 1}, {"Mul", 1}}));
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor({1, 8, 5, 5}, rng)}}, 1e-6);
}

// A residual Add's Relu becomes the Add's clamp through fuse_activation (Add declares kCapClamp);
// fold_residual_add, which did only this, is gone.
TEST(FuseActivation, ResNetBasicBlock) {
  std::mt19937 rng(13);
  GraphBuilder b;
  const Shape s = {2, 4, 5, 5};
  const std::string x = b.Input("x", s);
  auto y = ResidualBranch(b, rng, x, 4);
  b.Output(b.Op("Relu", {b.Op("Add", {y, x})}));
  ir::Graph g = Prepared(b);
  const std::map<std::string, int> rewrites = OptimizeCounting(g);
  EXPECT_EQ(g.OpHistogram(),
            (Histogram{{"Add+Relu", 1}, {"Conv+BatchNorm", 1}, {"Conv+BatchNorm+Relu", 1}}));
  EXPECT_EQ(rewrites.at("fuse_conv_bn"), 2);
  EXPECT_EQ(rewrites.at("fuse_activation"), 2);
  EXPECT_EQ(rewrites.count("fold_residual_add"), 0u);
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(s, rng)}});
}

TEST(FuseChannelScale, SeResNetBlockThroughThePipeline) {
  // Residual branch; SE: GlobalAveragePool, 1x1 conv, Relu, 1x1 conv, Sigmoid; Mul; + x; Relu.
  std::mt19937 rng(31);
  GraphBuilder b;
  const Shape s = {2, 4, 5, 5};
  const std::string x = b.Input("x", s);
  auto y = ResidualBranch(b, rng, x, 4);
  auto fc1 = b.Op("Conv", {b.Op("GlobalAveragePool", {y}), b.Weight("fc1", {2, 4, 1, 1}, rng)});
  auto fc2 = b.Op("Conv", {b.Op("Relu", {fc1}), b.Weight("fc2", {4, 2, 1, 1}, rng),
                           b.Weight("fc2b", {4}, rng)});
  b.Output(b.Op("Relu", {b.Op("Add", {b.Op("Mul", {y, b.Op("Sigmoid", {fc2})}), x})}));
  ir::Graph g = Prepared(b);
  const std::map<std::string, int> rewrites = OptimizeCounting(g);
  EXPECT_EQ(g.OpHistogram(), (Histogram{{"ChannelScale+Add+Relu", 1},
                                        {"Conv+BatchNorm", 1},
                                        {"Conv+BatchNorm+Relu", 1},
                                        {"Conv+Relu", 1},
                                        {"Conv+Sigmoid", 1},
                                        {"GlobalAveragePool", 1}}));
  EXPECT_EQ(rewrites.at("fuse_channel_scale"), 1);
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(s, rng)}});
}

}  // namespace
}  // namespace onnxrun::test
