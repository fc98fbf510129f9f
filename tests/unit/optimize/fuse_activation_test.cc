// fuse_activation: a clamp (Relu, Clip) or a pointwise activation folds into the producer that
// declares the capability (kCapClamp, kCapActivation) for its selected kernel. Structure on the
// prepared IR, numerics against the unoptimized session, and the guards.
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <map>
#include <random>

#include "runtime/optimize/pass.h"
#include "tests/unit/optimize/pass_test_util.h"

namespace onnxrun::test {
namespace {

TEST(FuseActivation, ClipZeroSixOpset6And13) {
  for (int opset : {6, 13}) {
    std::mt19937 rng(9);
    GraphBuilder b(opset);
    auto conv = Conv(b, rng, b.Input("x", kImage), 3, 4, 3, true);
    auto clip = opset >= 11 ? b.Op("Clip", {conv, b.Init("lo", {}, {0.f}), b.Init("hi", {}, {6.f})})
                            : b.Op("Clip", {conv}).Float("min", 0.f).Float("max", 6.f);
    b.Output(clip);
    ir::Graph g = Prepared(b);
    ASSERT_EQ(*RunPass(g, FuseActivation), 1);
    EXPECT_EQ(g.OpHistogram(), (Histogram{{"Conv+Clip", 1}}));
    EXPECT_EQ(g.nodes[0].fusion.lo, 0.f);
    EXPECT_EQ(g.nodes[0].fusion.hi, 6.f);
    ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(kImage, rng, -30.f, 30.f)}});
  }
}

// Every producer declaring kCapClamp, followed by a two-sided Clip: fused, same numbers.
TEST(FuseActivation, EveryClampProducer) {
  struct Case {
    std::string fused;
    std::function<std::string(GraphBuilder&, std::mt19937&, const std::string&)> make;
  };
  const std::vector<Case> cases = {
      {"Conv+Clip",
       [](GraphBuilder& b, std::mt19937& r, const std::string& x) { return Conv(b, r, x, 3, 4); }},
      {"Gemm+Clip",
       [](GraphBuilder& b, std::mt19937& r, const std::string& x) {
         auto f = b.Op("Flatten", {x});
         return b.Op("Gemm", {f, b.Weight("w", {7, 90}, r, -0.1f, 0.1f), b.Weight("c", {7}, r)})
             .Int("transB", 1);
       }},
      {"MatMul+Clip",
       [](GraphBuilder& b, std::mt19937& r, const std::string& x) {
         return b.Op("MatMul", {b.Op("Flatten", {x}), b.Weight("w", {90, 5}, r, -0.1f, 0.1f)});
       }},
      {"MaxPool+Clip",
       [](GraphBuilder& b, std::mt19937&, const std::string& x) {
         return b.Op("MaxPool", {x})
             .Ints("kernel_shape", {3, 3})
             .Ints("strides", {2, 2})
             .Int("ceil_mode", 1);
       }},
      {"AveragePool+Clip",
       [](GraphBuilder& b, std::mt19937&, const std::string& x) {
         return b.Op("AveragePool", {x})
             .Ints("kernel_shape", {3, 3})
             .Ints("pads", {1, 1, 1, 1})
             .Int("count_include_pad", 1);
       }},
      {"GlobalAveragePool+Clip",
       [](GraphBuilder& b, std::mt19937&, const std::string& x) {
         return b.Op("GlobalAveragePool", {x});
       }},
      {"GlobalMaxPool+Clip", [](GraphBuilder& b, std::mt19937&,
                                const std::string& x) { return b.Op("GlobalMaxPool", {x}); }},
      {"BatchNormalization+Clip", [](GraphBuilder& b, std::mt19937& r,
                                     const std::string& x) { return BatchNorm(b, r, x, 3); }},
      {"Add+Clip",
       [](GraphBuilder& b, std::mt19937& r, const std::string& x) {
         return b.Op("Add", {x, b.Weight("c", {3, 1, 1}, r)});
       }},
      {"Sub+Clip",
       [](GraphBuilder& b, std::mt19937& r, const std::string& x) {
         return b.Op("Sub", {x, b.Weight("c", {5}, r)});
       }},
      {"Mul+Clip",
       [](GraphBuilder& b, std::mt19937& r, const std::string& x) {
         return b.Op("Mul", {x, b.Op("Sigmoid", {x})});
       }},
      {"Div+Clip",
       [](GraphBuilder& b, std::mt19937& r, const std::string& x) {
         return b.Op("Div", {x, b.Weight("c", {}, r, 1.f, 2.f)});
       }},
      {"Sum+Clip",
       [](GraphBuilder& b, std::mt19937& r, const std::string& x) {
         return b.Op("Sum", {x, b.Op("Relu", {x}), x});
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.fused);
    std::mt19937 rng(10);
    GraphBuilder b;
    b.Output(b.Op("Clip", {c.make(b, rng, b.Input("x", kImage)), b.Init("lo", {}, {-0.2f}),
                           b.Init("hi", {}, {0.3f})}));
    ir::Graph g = Prepared(b);
    EXPECT_EQ(*RunPass(g, FuseActivation), 1);
    EXPECT_EQ(g.OpHistogram().count(c.fused), 1u) << ::testing::PrintToString(g.OpHistogram());
    ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(kImage, rng, -2.f, 2.f)}});
  }
}

// Regression: Sum of one input declared kCapClamp, so a following Relu was fused into it, but
// LowerBinary lowers one operand as a plain copy and dropped the clamp (fixed in BinaryCaps).
TEST(FuseActivation, SingleInputSumKeepsFusedRelu) {
  std::mt19937 rng(11);
  GraphBuilder b;
  b.Output(b.Op("Relu", {b.Op("Sum", {Conv(b, rng, b.Input("x", kImage), 3, 4, 3, true)})}));
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(kImage, rng)}});
}

TEST(FuseActivation, GuardsStopTheRewrite) {
  std::mt19937 rng(12);
  const std::vector<GuardCase> cases = {
      {"Gemm with transA",
       [&](GraphBuilder& b) {
         auto a = b.Input("a", {9, 4});
         b.Output(b.Op("Relu", {b.Op("Gemm", {a, b.Weight("w", {9, 5}, rng)}).Int("transA", 1)}));
       }},
      {"producer output read twice",
       [&](GraphBuilder& b) {
         auto conv = Conv(b, rng, b.Input("x", kImage), 3, 4, 3, true);
         b.Output(b.Op("Relu", {conv}));
         b.Output(b.Op("Sigmoid", {conv}));
       }},
      {"producer output read twice, by pointwise activations",
       [&](GraphBuilder& b) {
         auto conv = Conv(b, rng, b.Input("x", kImage), 3, 4, 3, true);
         b.Output(b.Op("Tanh", {conv}));
         b.Output(b.Op("Sigmoid", {conv}));
       }},
      {"producer output is a graph output",
       [&](GraphBuilder& b) {
         auto conv = Conv(b, rng, b.Input("x", kImage), 3, 4, 3, true);
         b.Output(b.Op("Relu", {conv}));
         b.Output(conv);
       }},
      {"Softmax declares no clamp",
       [&](GraphBuilder& b) {
         b.Output(b.Op("Relu", {b.Op("Softmax", {b.Input("x", {3, 8})})}));
       }},
      {"Gemm output is a graph output, Sigmoid after it",
       [&](GraphBuilder& b) {
         auto gemm = b.Op("Gemm", {b.Input("a", {3, 4}), b.Weight("w", {4, 5}, rng)});
         b.Output(b.Op("Sigmoid", {gemm}));
         b.Output(gemm);
       }},
      {"pool declares no kCapActivation",
       [&](GraphBuilder& b) {
         b.Output(
             b.Op("Tanh", {b.Op("MaxPool", {b.Input("x", kImage)}).Ints("kernel_shape", {2, 2})}));
       }},
      {"BatchNormalization declares no kCapActivation",
       [&](GraphBuilder& b) {
         b.Output(b.Op("Sigmoid", {BatchNorm(b, rng, b.Input("x", kImage), 3)}));
       }},
      {"Selu is not a pointwise activation to fuse",
       [&](GraphBuilder& b) {
         b.Output(b.Op("Selu", {Conv(b, rng, b.Input("x", kImage), 3, 4, 3, true)}));
       }},
      {"Exp is not an activation",
       [&](GraphBuilder& b) {
         b.Output(b.Op("Exp", {Conv(b, rng, b.Input("x", kImage), 3, 4, 3, true)}));
       }},
  };
  ExpectGuardsStop(cases, FuseActivation, rng);
}

// Pointwise activations (kCapPointwiseActivation) into producers declaring kCapActivation.
using Make = std::function<std::string(GraphBuilder&, std::mt19937&, const std::string&)>;
// An activation node of the given op after `in`, with non-default attributes where it has any.
std::string Activation(GraphBuilder& b, const std::string& op, const std::string& in) {
  NodeRef n = b.Op(op, {in});
  if (op == "HardSigmoid") n.Float("alpha", 0.3f).Float("beta", 0.4f);
  if (op == "LeakyRelu") n.Float("alpha", 0.2f);
  if (op == "Elu") n.Float("alpha", 0.7f);
  return n;
}

// Every pointwise activation after every Conv path (own implicit GEMM, XNNPACK dense, grouped,
// depthwise, 1-D direct, weights given at run time) and Gemm/MatMul path (XNNPACK fully connected,
// generic): one node "<producer>+<activation>", the unfused numbers within 1e-6.
TEST(FuseActivation, PointwiseActivationIntoEveryConvAndGemmPath) {
  struct Producer {
    std::string what, op;
    Make make;
  };
  auto conv = [](Shape in, Shape w, int64_t group) {
    return [=](GraphBuilder& b, std::mt19937& r, const std::string& name) {
      const int k = b.model().graph().initializer_size();
      return std::string(
          b.Op("Conv", {b.Input(name, in), b.Weight(absl::StrCat("w", k), w, r, -0.3f, 0.3f),
                        b.Weight(absl::StrCat("b", k), {w[0]}, r)})
              .Int("group", group)
              .Ints("pads", std::vector<int64_t>(2 * (w.size() - 2), 1)));
    };
  };
  const std::vector<Producer> producers = {
      {"dense conv, own kernel", "Conv", conv({1, 8, 10, 10}, {64, 8, 3, 3}, 1)},
      {"dense conv, XNNPACK", "Conv", conv({2, 3, 6, 5}, {4, 3, 3, 3}, 1)},
      {"grouped conv", "Conv", conv({1, 8, 6, 5}, {8, 4, 3, 3}, 2)},
      {"depthwise conv", "Conv", conv({1, 8, 6, 5}, {8, 1, 3, 3}, 8)},
      {"1-D conv", "Conv", conv({2, 3, 10}, {4, 3, 3}, 1)},
      {"conv with run-time weights", "Conv",
       [](GraphBuilder& b, std::mt19937&, const std::string& name) {
         return std::string(
             b.Op("Conv", {b.Input(name, {1, 3, 6, 5}), b.Input("w", {4, 3, 3, 3})}));
       }},
      {"Gemm, fully connected", "Gemm",
       [](GraphBuilder& b, std::mt19937& r, const std::string& name) {
         return std::string(
             b.Op("Gemm", {b.Input(name, {3, 20}), b.Weight("w", {7, 20}, r, -0.3f, 0.3f),
                           b.Weight("c", {7}, r)})
                 .Int("transB", 1));
       }},
      {"Gemm with transA, generic", "Gemm",
       [](GraphBuilder& b, std::mt19937& r, const std::string& name) {
         return std::string(
             b.Op("Gemm", {b.Input(name, {20, 3}), b.Weight("w", {20, 7}, r, -0.3f, 0.3f)})
                 .Int("transA", 1));
       }},
      {"MatMul, fully connected", "MatMul",
       [](GraphBuilder& b, std::mt19937& r, const std::string& name) {
         return std::string(
             b.Op("MatMul", {b.Input(name, {3, 20}), b.Weight("w", {20, 5}, r, -0.3f, 0.3f)}));
       }},
      {"MatMul on an NHWC tensor, generic", "MatMul",
       [](GraphBuilder& b, std::mt19937& r, const std::string& name) {
         return std::string(
             b.Op("MatMul", {b.Input(name, {2, 3, 4, 5}), b.Weight("w", {5, 6}, r)}));
       }},
  };
  for (const Producer& p : producers) {
    for (const std::string act :
         {"Tanh", "Sigmoid", "HardSigmoid", "HardSwish", "LeakyRelu", "Elu"}) {
      SCOPED_TRACE(p.what + " + " + act);
      std::mt19937 rng(20);
      GraphBuilder b(14);  // HardSwish appeared in opset 14
      b.Output(Activation(b, act, p.make(b, rng, "x")));
      ir::Graph g = Prepared(b);
      EXPECT_EQ(*RunPass(g, FuseActivation), 1);
      EXPECT_EQ(g.OpHistogram(), (Histogram{{p.op + "+" + act, 1}}));
      ASSERT_EQ(g.nodes.size(), 1u);
      EXPECT_EQ(g.nodes[0].fusion.activation, act);
      EXPECT_FALSE(g.nodes[0].fusion.has_clamp());
      ExpectOptimizeKeepsNumerics(b, RandomFeeds(b, rng, -2.f, 2.f), 1e-6);
    }
  }
}

// A fused activation touches its own channels only: the Conv+Tanh writes a slice of the concat
// buffer (pixel stride 9 > 5) after the Conv+Relu wrote the other slice.
TEST(FuseActivation, ActivationOnAConcatSliceKeepsTheOtherChannels) {
  std::mt19937 rng(21);
  for (bool tanh_first : {true, false}) {
    GraphBuilder b;
    const std::string x = b.Input("x", kImage);
    auto relu = b.Op("Relu", {Conv(b, rng, x, 3, 4, 3, true)});
    auto tanh = b.Op("Tanh", {Conv(b, rng, x, 3, 5, 3, true, "conv_tanh")});
    b.Output(b.Op("Concat", tanh_first ? std::vector<std::string>{tanh, relu}
                                       : std::vector<std::string>{relu, tanh})
                 .Int("axis", 1));
    ir::Graph g = Prepared(b);
    auto plan = PlanGraph(g, true, MemoryPlanOptions{});
    ASSERT_TRUE(plan.ok()) << plan.status();
    EXPECT_EQ(g.OpHistogram(), (Histogram{{"Concat", 1}, {"Conv+Relu", 1}, {"Conv+Tanh", 1}}));
    const ir::Node& fused = g.nodes[NodeIndex(g, "conv_tanh")];
    EXPECT_EQ(plan->values[fused.outputs[0]].pixel_stride, 9);
    const Feeds feeds = {{"x", RandomTensor(kImage, rng, -3.f, 3.f)}};
    ExpectOptimizeKeepsNumerics(b, feeds, 1e-6);
    SessionOptions copies;  // the same with the concat copied instead of written in place
    copies.concat_in_place = false;
    auto in_place = RunModel(b, {}, feeds);
    auto copied = RunModel(b, copies, feeds);
    ASSERT_TRUE(in_place.ok() && copied.ok());
    EXPECT_TRUE(BitwiseEqual((*in_place)[0], (*copied)[0]));
  }
}

// Clamps first (composed into one), then one pointwise activation applied after them; nothing
// fuses after a pointwise activation.
TEST(FuseActivation, ChainsKeepTheirOrder) {
  auto clip = [](GraphBuilder& b, const std::string& in, float lo, float hi) {
    const int k = b.model().graph().initializer_size();
    return std::string(b.Op("Clip", {in, b.Init(absl::StrCat("lo", k), {}, {lo}),
                                     b.Init(absl::StrCat("hi", k), {}, {hi})}));
  };
  struct Case {
    std::string name;
    Histogram want;
    float lo, hi;
    std::function<std::string(GraphBuilder&, std::mt19937&, const std::string&)> build;
  };
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<Case> cases = {
      {"Relu then Tanh",
       {{"Conv+Relu+Tanh", 1}},
       0.f,
       inf,
       [](GraphBuilder& b, std::mt19937& r, const std::string& x) {
         return b.Op("Tanh", {b.Op("Relu", {Conv(b, r, x, 3, 4)})});
       }},
      {"Tanh then Relu",
       {{"Conv+Tanh", 1}, {"Relu", 1}},
       -inf,
       inf,
       [](GraphBuilder& b, std::mt19937& r, const std::string& x) {
         return b.Op("Relu", {b.Op("Tanh", {Conv(b, r, x, 3, 4)})});
       }},
      {"Sigmoid then Tanh",
       {{"Gemm+Sigmoid", 1}, {"Tanh", 1}, {"Flatten", 1}},
       -inf,
       inf,
       [](GraphBuilder& b, std::mt19937& r, const std::string& x) {
         auto gemm = b.Op("Gemm", {b.Op("Flatten", {x}), b.Weight("w", {7, 90}, r, -0.1f, 0.1f),
                                   b.Weight("c", {7}, r)})
                         .Int("transB", 1);
         return b.Op("Tanh", {b.Op("Sigmoid", {gemm})});
       }},
      {"Clip then Clip then Sigmoid",
       {{"Conv+Clip+Clip+Sigmoid", 1}},
       0.1f,
       0.3f,
       [&](GraphBuilder& b, std::mt19937& r, const std::string& x) {
         return b.Op("Sigmoid", {clip(b, clip(b, Conv(b, r, x, 3, 4), -0.2f, 0.3f), 0.1f, 1.f)});
       }},
      {"Clips that do not overlap",
       {{"Conv+Clip", 1}, {"Clip", 1}},
       -1.f,
       0.f,
       [&](GraphBuilder& b, std::mt19937& r, const std::string& x) {
         return clip(b, clip(b, Conv(b, r, x, 3, 4), -1.f, 0.f), 0.5f, 1.f);
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::mt19937 rng(22);
    GraphBuilder b;
    b.Output(c.build(b, rng, b.Input("x", kImage)));
    ir::Graph g = Prepared(b);
    RunPass(g, FuseActivation).IgnoreError();
    EXPECT_EQ(g.OpHistogram(), c.want);
    EXPECT_EQ(g.nodes[0].fusion.lo, c.lo);
    EXPECT_EQ(g.nodes[0].fusion.hi, c.hi);
    ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(kImage, rng, -2.f, 2.f)}}, 1e-6);
  }
}

}  // namespace
}  // namespace onnxrun::test
