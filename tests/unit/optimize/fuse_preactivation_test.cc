// fuse_preactivation: a BatchNormalization(+Relu), or a per-channel Mul/Add/Sub/Div chain, that
// only feeds convs taking an input transform is folded into their input packing. Structure on the
// IR, numerics against the unoptimized session, and the guards.
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
      "Conv", {relu, b.Weight("w1", {32, 64, 1, 1}, rng, -0.2f, 0.2f), b.Weight("b1", {32}, rng)});
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

// An input normalized as tf2onnx and hand-written graphs do, (x - mean) / std by per-channel
// constants, then the stem conv (7x7 stride 2, padded: the own kernel's direct mode): both ops
// compose into one transform of the conv's input, the padding staying zero after it.
TEST(FusePreactivation, FoldsAnInputNormalizationChainIntoTheFirstConv) {
  if (!kernels::ConvGemm::Supported()) GTEST_SKIP() << "no AVX-512: the pass does not apply";
  std::mt19937 rng(15);
  for (bool mul_first : {false, true}) {
    SCOPED_TRACE(mul_first ? "Mul(1/std) then Add" : "Sub(mean) then Div(std)");
    GraphBuilder b(13);
    const std::string x = b.Input("x", {1, 3, 112, 112});
    std::string norm;
    if (mul_first) {
      auto scaled = b.Op("Mul", {b.Weight("inv_std", {1, 3, 1, 1}, rng, 2.f, 5.f), x});
      norm = b.Op("Add", {scaled, b.Weight("shift", {3, 1, 1}, rng, -2.f, 0.f)});
    } else {
      auto centered = b.Op("Sub", {x, b.Weight("mean", {1, 3, 1, 1}, rng, 0.3f, 0.6f)});
      norm = b.Op("Div", {centered, b.Weight("std", {1, 3, 1, 1}, rng, 0.2f, 0.3f)});
    }
    b.Output(b.Op("Relu", {b.Op("Conv", {norm, b.Weight("w", {64, 3, 7, 7}, rng, -0.1f, 0.1f)})
                               .Ints("strides", {2, 2})
                               .Ints("pads", {3, 3, 3, 3})}));
    auto session = LoadSession(b, {});
    ASSERT_TRUE(session.ok()) << session.status();
    const auto& ops = (*session)->report().ops_after;
    EXPECT_EQ(ops.size(), 1u);  // the conv alone
    EXPECT_EQ(ops.count(mul_first ? "Conv+Mul(pre)+Add(pre)+Relu" : "Conv+Sub(pre)+Div(pre)+Relu"),
              1u);
    ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor({1, 3, 112, 112}, rng, 0.f, 1.f)}});
  }
}

// A clamp between two affines (BN+Relu, then Mul) cannot become one transform: the later one
// folds, the BN+Relu stays.
TEST(FusePreactivation, DoesNotComposeAcrossAClamp) {
  if (!kernels::ConvGemm::Supported()) GTEST_SKIP() << "no AVX-512: the pass does not apply";
  std::mt19937 rng(16);
  GraphBuilder b(13);
  const std::string x = b.Input("x", {2, 32, 7, 6});
  auto bn =
      b.Op("BatchNormalization", {x, b.Weight("s", {32}, rng, 0.5f, 1.5f), b.Weight("t", {32}, rng),
                                  b.Weight("m", {32}, rng), b.Weight("v", {32}, rng, 0.5f, 2.f)});
  auto scaled = b.Op("Mul", {b.Op("Relu", {bn}), b.Weight("k", {32, 1, 1}, rng, 0.5f, 2.f)});
  b.Output(b.Op("Conv", {scaled, b.Weight("w", {32, 32, 1, 1}, rng, -0.2f, 0.2f)}));
  auto session = LoadSession(b, {});
  ASSERT_TRUE(session.ok()) << session.status();
  const auto& ops = (*session)->report().ops_after;
  EXPECT_EQ(ops.count("BatchNormalization+Relu"), 1u);
  EXPECT_EQ(ops.count("Conv+Mul(pre)"), 1u);
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
  // BN -> 1x1 conv of 32 -> 32 channels (the own kernel takes the transform), with `also` adding
  // something else to the graph. (Run alone, the pass sees no Relu fused into the BN yet.)
  auto block = [&](GraphBuilder& b, const std::function<void(GraphBuilder&, std::string)>& also) {
    const std::string x = b.Input("x", {2, 32, 7, 6});
    auto bn = BatchNorm(b, rng, x, 32);
    b.Output(b.Op("Conv", {bn, b.Weight("w1", {32, 32, 1, 1}, rng, -0.2f, 0.2f)}));
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
