// fuse_preactivation: a BatchNormalization(+Relu) that only feeds 1x1 convs is folded into their
// input packing. Structure on the IR, numerics against the unoptimized session, and the guards.
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "ops/kernels/conv_gemm.h"
#include "tests/unit/optimize/pass_test_util.h"

namespace onnxrun::test {
namespace {

// x = Conv1x1(input); Concat(x, Conv3x3(x)) -> BN -> Relu -> Conv1x1: DenseNet's pre-activation on
// a concat buffer.
GraphBuilder DenseLayer(std::mt19937& rng, bool extra_reader) {
  GraphBuilder b(13);
  const std::string in = b.Input("x", {2, 32, 7, 6});
  auto x = b.Op("Conv", {in, b.Weight("w0", {32, 32, 1, 1}, rng, -0.2f, 0.2f)});
  auto grow = b.Op("Conv", {x, b.Weight("wg", {32, 32, 3, 3}, rng, -0.2f, 0.2f)})
                  .Ints("pads", {1, 1, 1, 1});
  auto cat = b.Op("Concat", {x, grow}).Int("axis", 1);
  auto bn = b.Op("BatchNormalization",
                 {cat, b.Weight("s", {64}, rng, 0.5f, 1.5f), b.Weight("t", {64}, rng),
                  b.Weight("m", {64}, rng), b.Weight("v", {64}, rng, 0.5f, 2.f)});
  auto relu = b.Op("Relu", {bn});
  auto conv = b.Op(
      "Conv", {relu, b.Weight("w1", {64, 64, 1, 1}, rng, -0.2f, 0.2f), b.Weight("b1", {64}, rng)});
  b.Output(conv);
  if (extra_reader) b.Output(b.Op("Sigmoid", {relu}));
  return b;
}

TEST(FusePreactivation, FoldsBatchNormReluIntoTheConvInput) {
  if (!kernels::ConvGemm::Supported()) GTEST_SKIP() << "no AVX-512: the pass does not apply";
  std::mt19937 rng(11);
  GraphBuilder b = DenseLayer(rng, false);
  auto session = LoadSession(b, {});
  ASSERT_TRUE(session.ok()) << session.status();
  const ModelReport& r = (*session)->report();
  EXPECT_EQ(r.ops_after.count("BatchNormalization+Relu"), 0u);
  EXPECT_EQ(r.ops_after.at("Conv+BatchNorm(pre)+Relu(pre)"), 1);
  EXPECT_EQ(r.memory.concats_in_place, 1);  // the conv reads the concat buffer directly
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor({2, 32, 7, 6}, rng)}});
}

TEST(FusePreactivation, KeepsTheBatchNormWhenSomethingElseReadsIt) {
  std::mt19937 rng(12);
  GraphBuilder b = DenseLayer(rng, true);
  auto session = LoadSession(b, {});
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ((*session)->report().ops_after.at("BatchNormalization+Relu"), 1);
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor({2, 32, 7, 6}, rng)}});
}

TEST(FusePreactivation, GuardsStopTheRewrite) {
  std::mt19937 rng(14);
  // BN -> 1x1 conv of 32 -> 64 channels (the own kernel takes the transform), with `also` adding
  // something else to the graph. (Run alone, the pass sees no Relu fused into the BN yet.)
  auto block = [&](GraphBuilder& b, const std::function<void(GraphBuilder&, std::string)>& also) {
    const std::string x = b.Input("x", {2, 32, 7, 6});
    auto bn = BatchNorm(b, rng, x, 32);
    b.Output(b.Op("Conv", {bn, b.Weight("w1", {64, 32, 1, 1}, rng, -0.2f, 0.2f)}));
    also(b, bn);
  };
  if (kernels::ConvGemm::Supported()) {  // the block alone folds: each case below meets a guard
    GraphBuilder b;
    block(b, [](GraphBuilder&, std::string) {});
    ir::Graph g = Prepared(b);
    EXPECT_EQ(*RunPass(g, FusePreactivation), 1);
  }
  const std::vector<GuardCase> cases = {
      {"BN output is a graph output",
       [&](GraphBuilder& b) { block(b, [](GraphBuilder& b, std::string y) { b.Output(y); }); }},
      {"a reader that is not a conv",
       [&](GraphBuilder& b) {
         block(b, [](GraphBuilder& b, std::string y) { b.Output(b.Op("Sigmoid", {y})); });
       }},
      {"a conv whose kernel takes no input transform (depthwise, XNNPACK)",
       [&](GraphBuilder& b) {
         block(b, [&](GraphBuilder& b, std::string y) {
           b.Output(b.Op("Conv", {y, b.Weight("wd", {32, 1, 3, 3}, rng, -0.2f, 0.2f)})
                        .Int("group", 32)
                        .Ints("pads", {1, 1, 1, 1}));
         });
       }},
      {"BN of a 3-D tensor before a 1-D conv",
       [&](GraphBuilder& b) {
         auto bn = BatchNorm(b, rng, b.Input("x", {2, 32, 7}), 32);
         b.Output(b.Op("Conv", {bn, b.Weight("w1", {32, 32, 1}, rng, -0.2f, 0.2f)}));
       }},
  };
  ExpectGuardsStop(cases, FusePreactivation, rng);
}

}  // namespace
}  // namespace onnxrun::test
