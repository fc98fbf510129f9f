// fuse_conv_bn: an inference BatchNormalization, or a Mul/Add by per-channel constants, folds into
// the weights and bias of the Conv before it. Structure on the prepared IR, numerics against the
// unoptimized session, and the guards.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "runtime/optimize/pass.h"
#include "tests/unit/optimize/pass_test_util.h"

namespace onnxrun::test {
namespace {

TEST(FuseConvBn, FoldsBatchNormWithAndWithoutConvBias) {
  for (bool bias : {true, false}) {
    std::mt19937 rng(1);
    GraphBuilder b;
    b.Output(BatchNorm(b, rng, Conv(b, rng, b.Input("x", kImage), 3, 4, 3, bias, "conv"), 4));
    ir::Graph g = Prepared(b);
    EXPECT_EQ(g.OpHistogram(), (Histogram{{"BatchNormalization", 1}, {"Conv", 1}}));
    ASSERT_EQ(*RunPass(g, FuseConvBn), 1);
    EXPECT_EQ(g.OpHistogram(), (Histogram{{"Conv+BatchNorm", 1}}));
    const ir::Node& conv = g.nodes[NodeIndex(g, "conv")];
    ASSERT_GE(conv.input(2), 0);
    EXPECT_TRUE(g.value(conv.inputs[2]).is_constant());
    EXPECT_EQ(conv.outputs[0], g.outputs[0]);  // the conv now writes the BN's output
    ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(kImage, rng)}});
  }
}

TEST(FuseConvBn, SharedWeightsAreCopiedNotScaledTwice) {
  std::mt19937 rng(2);
  GraphBuilder b;
  const std::string x = b.Input("x", kImage);
  const std::string w = b.Weight("w", {3, 3, 3, 3}, rng, -0.3f, 0.3f);
  auto c1 = b.Op("Conv", {x, w}).Ints("pads", {1, 1, 1, 1});
  auto c2 = b.Op("Conv", {x, w}).Ints("pads", {1, 1, 1, 1});
  b.Output(BatchNorm(b, rng, c1, 3));
  b.Output(BatchNorm(b, rng, c2, 3));
  ir::Graph g = Prepared(b);
  ASSERT_EQ(*RunPass(g, FuseConvBn), 2);
  EXPECT_EQ(g.OpHistogram(), (Histogram{{"Conv+BatchNorm", 2}}));
  EXPECT_NE(g.nodes[0].inputs[1], g.nodes[1].inputs[1]);
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(kImage, rng)}});
}

// Conv -> Mul -> Add by per-channel constants (a BN as older exporters write it) ends as one node:
// the driver looks at the same conv again after folding the Mul, and the Add that now reads it
// folds too.
TEST(FuseConvBn, FoldsMulThenAddByPerChannelConstants) {
  std::mt19937 rng(3);
  GraphBuilder b;
  auto conv = Conv(b, rng, b.Input("x", kImage), 3, 4, 3, true);
  auto mul = b.Op("Mul", {conv, b.Weight("scale", {4, 1, 1}, rng)});
  b.Output(b.Op("Add", {b.Weight("shift", {1, 4, 1, 1}, rng), mul}));  // constant first
  ir::Graph g = Prepared(b);
  EXPECT_EQ(*RunPass(g, FuseConvBn), 2);
  EXPECT_EQ(g.OpHistogram(), (Histogram{{"Conv+Mul+Add", 1}}));
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(kImage, rng)}});
}

TEST(FuseConvBn, FoldsScalarMul) {
  std::mt19937 rng(4);
  GraphBuilder b;
  b.Output(
      b.Op("Mul", {Conv(b, rng, b.Input("x", kImage), 3, 4, 3, true), b.Init("two", {}, {2.f})}));
  ir::Graph g = Prepared(b);
  EXPECT_EQ(*RunPass(g, FuseConvBn), 1);
  EXPECT_EQ(g.OpHistogram(), (Histogram{{"Conv+Mul", 1}}));
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(kImage, rng)}});
}

// A BN whose optional statistics outputs are listed but unread still folds: the guard refuses
// statistics outputs in use (outputs[i] >= 0 for i >= 1), not listed ones -- InferAndFold has set
// unread ones to -1.
TEST(FuseConvBn, FoldsBatchNormWithUnusedOptionalOutputs) {
  // Older exporters list BN's running/saved statistics as outputs nobody reads.
  std::mt19937 rng(5);
  GraphBuilder b(9);
  auto bn =
      b.Op("BatchNormalization",
           {Conv(b, rng, b.Input("x", kImage), 3, 4, 3, true), b.Weight("s", {4}, rng),
            b.Weight("t", {4}, rng), b.Weight("m", {4}, rng), b.Weight("v", {4}, rng, 0.5f, 2.f)},
           5);
  b.Output(bn.out(0));
  ir::Graph g = Prepared(b);
  EXPECT_EQ(*RunPass(g, FuseConvBn), 1);
  EXPECT_EQ(g.OpHistogram(), (Histogram{{"Conv+BatchNorm", 1}}));
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(kImage, rng)}});
}

TEST(FuseConvBn, GuardsStopTheRewrite) {
  std::mt19937 rng(6);
  const std::vector<GuardCase> cases = {
      {"conv output read twice",
       [&](GraphBuilder& b) {
         auto conv = Conv(b, rng, b.Input("x", kImage), 3, 4, 3, true);
         b.Output(BatchNorm(b, rng, conv, 4));
         b.Output(b.Op("Relu", {conv}));
       }},
      {"conv output is a graph output",
       [&](GraphBuilder& b) {
         auto conv = Conv(b, rng, b.Input("x", kImage), 3, 4, 3, true);
         b.Output(BatchNorm(b, rng, conv, 4));
         b.Output(conv);
       }},
      {"conv with run-time weights",
       [&](GraphBuilder& b) {
         b.Output(BatchNorm(b, rng,
                            b.Op("Conv", {b.Input("x", kImage), b.Input("w", {4, 3, 3, 3})}), 4));
       }},
      {"Mul by a run-time tensor",
       [&](GraphBuilder& b) {
         b.Output(b.Op("Mul", {Conv(b, rng, b.Input("x", kImage), 3, 4, 3, true),
                               b.Input("s", {1, 4, 1, 1})}));
       }},
      {"Mul by a [M] vector broadcasting along W",
       [&](GraphBuilder& b) {
         b.Output(b.Op("Mul", {Conv(b, rng, b.Input("x", {2, 3, 6, 4}), 3, 4, 3, true),
                               b.Weight("s", {4}, rng)}));
       }},
      {"Add of a constant that enlarges the output",
       [&](GraphBuilder& b) {
         b.Output(b.Op("Add", {Conv(b, rng, b.Input("x", {1, 3, 6, 5}), 3, 4, 3, true),
                               b.Weight("s", {2, 4, 1, 1}, rng)}));
       }},
  };
  ExpectGuardsStop(cases, FuseConvBn, rng);
}

TEST(FuseConvBn, BatchNormWithRunTimeParamsIsNotFolded) {
  // Shape inference rejects run-time BN parameters, so make one by hand in the prepared IR.
  std::mt19937 rng(7);
  GraphBuilder b;
  b.Output(BatchNorm(b, rng, Conv(b, rng, b.Input("x", kImage), 3, 4, 3, true), 4));
  ir::Graph g = Prepared(b);
  ir::Value scale;
  scale.name = "runtime_scale";
  scale.shape = {4};
  scale.shape_known = true;
  scale.graph_input = true;
  const int id = g.AddValue(scale);
  g.inputs.push_back(id);
  g.nodes[1].inputs[1] = id;
  EXPECT_EQ(*RunPass(g, FuseConvBn), 0);
  EXPECT_EQ(g.OpHistogram(), (Histogram{{"BatchNormalization", 1}, {"Conv", 1}}));
}

}  // namespace
}  // namespace onnxrun::test
