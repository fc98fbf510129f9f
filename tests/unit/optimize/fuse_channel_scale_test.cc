// fuse_channel_scale: an SE block's tail, Mul(x, per-channel gate) then the residual Add, becomes
// one internal onnxrun.ChannelScale node (bitwise the unfused XNNPACK Mul + Add), and the guards.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "ops/op.h"
#include "runtime/optimize/pass.h"
#include "tests/unit/optimize/pass_test_util.h"

namespace onnxrun::test {
namespace {

// An SE block's tail: Mul(x, gate) then the residual Add (+Relu). `x_first`/`mul_first` swap the
// operands of the Mul and of the Add; `gate` is the gate's shape (computed by a Sigmoid of an
// input).
struct SeTail {
  Shape gate = {2, 4, 1, 1};
  bool x_first = true, mul_first = true, relu = true;
};
void BuildSeTail(GraphBuilder& b, const SeTail& t) {
  const std::string x = b.Input("x", {2, 4, 5, 6}), r = b.Input("r", {2, 4, 5, 6});
  const std::string gate = b.Op("Sigmoid", {b.Input("s", t.gate)});
  auto mul =
      b.Op("Mul", t.x_first ? std::vector<std::string>{x, gate} : std::vector<std::string>{gate, x},
           1, "mul");
  std::string y =
      b.Op("Add", t.mul_first ? std::vector<std::string>{mul, r} : std::vector<std::string>{r, mul},
           1, "add");
  if (t.relu) y = b.Op("Relu", {y});
  b.Output(y);
}
// Optimized (fused) and unoptimized (XNNPACK Mul, then Add) sessions give the same bits.
void ExpectFusedBitwiseUnfused(const GraphBuilder& b, const Feeds& feeds) {
  ExpectOptimizeKeepsNumerics(b, feeds, 0, /*bitwise=*/true);
}

TEST(FuseChannelScale, TheFusedOpIsNotAnOnnxOp) {
  EXPECT_NE(FindOp(kInternalDomain, "ChannelScale"), nullptr);
  EXPECT_EQ(FindOp("", "ChannelScale"), nullptr);
  EXPECT_EQ(FindOp("ai.onnx", "ChannelScale"), nullptr);
  EXPECT_EQ(FindOp(kInternalDomain, "Mul"), nullptr);
}

TEST(FuseChannelScale, SeTailBecomesOneNodeAnyOperandOrder) {
  std::mt19937 rng(30);
  for (const Shape& gate : {Shape{2, 4, 1, 1}, Shape{1, 4, 1, 1}, Shape{4, 1, 1}})
    for (bool x_first : {true, false})
      for (bool mul_first : {true, false})
        for (bool relu : {true, false}) {
          SCOPED_TRACE(absl::StrCat(ir::ShapeString(gate), " x_first=", x_first,
                                    " mul_first=", mul_first, " relu=", relu));
          GraphBuilder b;
          BuildSeTail(b, {gate, x_first, mul_first, relu});
          ir::Graph g = Prepared(b);
          ASSERT_EQ(*RunPass(g, FuseChannelScale), 1);
          ASSERT_EQ(*RunPass(g, FuseActivation), relu ? 1 : 0);
          const std::string fused = relu ? "ChannelScale+Add+Relu" : "ChannelScale+Add";
          EXPECT_EQ(g.OpHistogram(), (Histogram{{fused, 1}, {"Sigmoid", 1}}));
          const ir::Node& n = g.nodes[NodeIndex(g, "add")];
          EXPECT_EQ(n.domain, kInternalDomain);
          ASSERT_EQ(n.inputs.size(), 3u);
          EXPECT_EQ(g.value(n.inputs[0]).name, "x");
          EXPECT_EQ(g.value(n.inputs[1]).producer, NodeIndex(g, g.nodes[0].name));  // the Sigmoid
          EXPECT_EQ(g.value(n.inputs[2]).name, "r");
          EXPECT_EQ(n.outputs[0], g.outputs[0]);
          EXPECT_EQ(n.fusion.lo, relu ? 0.f : -INFINITY);
          ExpectFusedBitwiseUnfused(b, RandomFeeds(b, rng, -2.f, 2.f));
        }
}

TEST(FuseChannelScale, ConstantScaleThatNoConvAbsorbs) {
  std::mt19937 rng(32);
  GraphBuilder b;
  const Shape s = {2, 4, 5, 6};
  auto mul = b.Op("Mul", {b.Op("Relu", {b.Input("x", s)}), b.Weight("k", {1, 4, 1, 1}, rng)});
  b.Output(b.Op("Add", {mul, b.Input("r", s)}));
  ir::Graph g = Prepared(b);
  ASSERT_EQ(*RunPass(g, FuseChannelScale), 1);
  EXPECT_EQ(g.OpHistogram(), (Histogram{{"ChannelScale+Add", 1}, {"Relu", 1}}));
  ExpectFusedBitwiseUnfused(b, RandomFeeds(b, rng, -2.f, 2.f));
}

TEST(FuseChannelScale, GuardsStopTheRewrite) {
  std::mt19937 rng(33);
  const Shape s = {2, 4, 5, 6};
  auto gate = [](GraphBuilder& b, const Shape& shape) {
    return b.Op("Sigmoid", {b.Input("s", shape)}).out();
  };
  const std::vector<GuardCase> cases = {
      {"Mul output read twice",
       [&](GraphBuilder& b) {
         auto mul = b.Op("Mul", {b.Input("x", s), gate(b, {2, 4, 1, 1})});
         b.Output(b.Op("Relu", {b.Op("Add", {mul, b.Input("r", s)})}));
         b.Output(b.Op("Neg", {mul}));
       }},
      {"Mul output is a graph output",
       [&](GraphBuilder& b) {
         auto mul = b.Op("Mul", {b.Input("x", s), gate(b, {2, 4, 1, 1})});
         b.Output(b.Op("Relu", {b.Op("Add", {mul, b.Input("r", s)})}));
         b.Output(mul);
       }},
      {"scale per pixel, not per channel",
       [&](GraphBuilder& b) {
         b.Output(
             b.Op("Add", {b.Op("Mul", {b.Input("x", s), gate(b, {2, 1, 5, 6})}), b.Input("r", s)}));
       }},
      {"scale per channel and row",
       [&](GraphBuilder& b) {
         b.Output(
             b.Op("Add", {b.Op("Mul", {b.Input("x", s), gate(b, {2, 4, 5, 1})}), b.Input("r", s)}));
       }},
      {"[C] vector broadcasting along W",
       [&](GraphBuilder& b) {
         const Shape sq = {2, 6, 5, 6};
         b.Output(b.Op("Add", {b.Op("Mul", {b.Input("x", sq), gate(b, {6})}), b.Input("r", sq)}));
       }},
      {"same shapes (no broadcast)",
       [&](GraphBuilder& b) {
         b.Output(b.Op("Add", {b.Op("Mul", {b.Input("x", s), gate(b, s)}), b.Input("r", s)}));
       }},
      {"Mul already clamped by a Relu",
       [&](GraphBuilder& b) {
         auto mul = b.Op("Relu", {b.Op("Mul", {b.Input("x", s), gate(b, {2, 4, 1, 1})})});
         b.Output(b.Op("Add", {mul, b.Input("r", s)}));
       }},
      {"Add operand broadcasts the output larger",
       [&](GraphBuilder& b) {
         const Shape one = {1, 4, 5, 6};
         b.Output(b.Op("Add",
                       {b.Op("Mul", {b.Input("x", one), gate(b, {1, 4, 1, 1})}), b.Input("r", s)}));
       }},
      {"Add of a constant",
       [&](GraphBuilder& b) {
         b.Output(b.Op("Add", {b.Op("Mul", {b.Input("x", s), gate(b, {2, 4, 1, 1})}),
                               b.Weight("c", s, rng)}));
       }},
      {"no Add: plain gate (stays an XNNPACK Mul)",
       [&](GraphBuilder& b) {
         b.Output(b.Op("Relu", {b.Op("Mul", {b.Input("x", s), gate(b, {2, 4, 1, 1})})}));
       }},
  };
  ExpectGuardsStop(cases, FuseChannelScale, rng, -2.f, 2.f);
  for (const GuardCase& c : cases) {  // nor does any later pass make one
    SCOPED_TRACE(c.name);
    GraphBuilder b;
    c.build(b);
    ir::Graph g = Prepared(b);
    ASSERT_TRUE(Optimize(g, nullptr).ok());
    for (const auto& [op, count] : g.OpHistogram())
      EXPECT_EQ(op.find("ChannelScale"), std::string::npos) << op;
  }
}

}  // namespace
}  // namespace onnxrun::test
