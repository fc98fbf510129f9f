// fuse_residual: a residual Add of a conv on the own GEMM kernel and a run-time tensor becomes
// the conv with a fourth input (Fusion::residual), a Relu after it the conv's clamp; and the
// guards that keep the Add.
#include <gtest/gtest.h>

#include <random>

#include "ops/kernels/conv_gemm.h"
#include "runtime/optimize/pass.h"
#include "tests/unit/optimize/pass_test_util.h"

namespace onnxrun::test {
namespace {

// A ResNet bottleneck's tail: Conv(x) (1x1 64 -> 64 at 7x7) + r, then Relu. `projection`: r is a
// second 1x1 conv of x computed after the first (the projection shortcut); `swap` swaps the Add's
// operands.
GraphBuilder Tail(std::mt19937& rng, bool projection, bool swap, bool relu) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 64, 7, 7});
  auto conv =
      b.Op("Conv", {x, b.Weight("w", {64, 64, 1, 1}, rng, -0.2f, 0.2f), b.Weight("b", {64}, rng)},
           1, "conv");
  std::string r = projection ? b.Op("Conv", {x, b.Weight("wp", {64, 64, 1, 1}, rng, -0.2f, 0.2f)},
                                    1, "projection")
                             : b.Input("r", {1, 64, 7, 7});
  std::string y =
      b.Op("Add", swap ? std::vector<std::string>{r, conv} : std::vector<std::string>{conv, r}, 1,
           "add");
  if (relu) y = b.Op("Relu", {y});
  b.Output(y);
  return b;
}

TEST(FuseResidual, TheAddBecomesPartOfTheConv) {
  if (!kernels::ConvGemm::Supported())
    GTEST_SKIP() << "no own conv kernel: the pass does not apply";
  std::mt19937 rng(21);
  for (bool projection : {false, true})
    for (bool swap : {false, true})
      for (bool relu : {false, true}) {
        SCOPED_TRACE(absl::StrCat("projection=", projection, " swap=", swap, " relu=", relu));
        GraphBuilder b = Tail(rng, projection, swap, relu);
        ir::Graph g = Prepared(b);
        ASSERT_EQ(*RunPass(g, FuseResidual), 1);
        ASSERT_EQ(*RunPass(g, FuseActivation), relu ? 1 : 0);
        const std::string fused = relu ? "Conv+Add+Relu" : "Conv+Add";
        EXPECT_EQ(g.OpHistogram(),
                  projection ? (Histogram{{fused, 1}, {"Conv", 1}}) : (Histogram{{fused, 1}}));
        for (const ir::Node& n : g.nodes) {
          if (!n.fusion.residual) continue;
          ASSERT_EQ(n.inputs.size(), 4u);
          EXPECT_EQ(n.outputs[0], g.outputs[0]);
          // With a projection the later conv (the projection) takes the Add, the first conv's
          // output becoming its residual.
          EXPECT_EQ(n.name, projection ? "projection" : "conv");
          EXPECT_EQ(g.value(n.inputs[0]).name, "x");
        }
        ExpectOptimizeKeepsNumerics(b, RandomFeeds(b, rng, -2.f, 2.f), 1e-5);
      }
}

TEST(FuseResidual, GuardsKeepTheAdd) {
  if (!kernels::ConvGemm::Supported())
    GTEST_SKIP() << "no own conv kernel: the pass does not apply";
  std::mt19937 rng(22);
  auto conv = [&](GraphBuilder& b, const std::string& x) {
    return b.Op("Conv", {x, b.Weight(absl::StrCat("w", b.model().graph().initializer_size()),
                                     {64, 64, 1, 1}, rng, -0.2f, 0.2f)});
  };
  ExpectGuardsStop(
      {
          {"conv output read twice",
           [&](GraphBuilder& b) {
             auto c = conv(b, b.Input("x", {1, 64, 7, 7}));
             b.Output(b.Op("Add", {c, b.Input("r", {1, 64, 7, 7})}));
             b.Output(b.Op("Sigmoid", {c}));
           }},
          {"constant residual",
           [&](GraphBuilder& b) {
             auto c = conv(b, b.Input("x", {1, 64, 7, 7}));
             b.Output(b.Op("Add", {c, b.Weight("k", {1, 64, 7, 7}, rng)}));
           }},
          {"broadcast residual",
           [&](GraphBuilder& b) {
             auto c = conv(b, b.Input("x", {1, 64, 7, 7}));
             b.Output(b.Op("Add", {c, b.Input("r", {1, 64, 1, 1})}));
           }},
          {"conv with a clamp of its own (Relu before the Add)",
           [&](GraphBuilder& b) {
             auto c = b.Op("Relu", {conv(b, b.Input("x", {1, 64, 7, 7}))});
             b.Output(b.Op("Add", {c, b.Input("r", {1, 64, 7, 7})}));
           }},
          {"depthwise conv (not the GEMM kernel)",
           [&](GraphBuilder& b) {
             std::string c = b.Op("Conv", {b.Input("x", {1, 64, 7, 7}),
                                           b.Weight("dw", {64, 1, 3, 3}, rng, -0.2f, 0.2f)})
                                 .Int("group", 64)
                                 .Ints("pads", {1, 1, 1, 1});
             b.Output(b.Op("Add", {c, b.Input("r", {1, 64, 7, 7})}));
           }},
      },
      FuseResidual, rng);
}

// A conv whose Relu was fused already (conv -> Relu -> Add) keeps its clamp before the Add: no
// residual fusion, whatever the pass order.
TEST(FuseResidual, AConvWithItsOwnClampKeepsTheAdd) {
  if (!kernels::ConvGemm::Supported())
    GTEST_SKIP() << "no own conv kernel: the pass does not apply";
  std::mt19937 rng(23);
  GraphBuilder b;
  auto c = b.Op("Conv", {b.Input("x", {1, 64, 7, 7}), b.Weight("w", {64, 64, 1, 1}, rng)});
  b.Output(b.Op("Add", {b.Op("Relu", {c}), b.Input("r", {1, 64, 7, 7})}));
  ir::Graph g = Prepared(b);
  ASSERT_EQ(*RunPass(g, FuseActivation), 1);
  ASSERT_EQ(*RunPass(g, FuseResidual), 0);
  EXPECT_EQ(g.OpHistogram(), (Histogram{{"Conv+Relu", 1}, {"Add", 1}}));
  ExpectOptimizeKeepsNumerics(b, RandomFeeds(b, rng, -2.f, 2.f));
}

}  // namespace
}  // namespace onnxrun::test
