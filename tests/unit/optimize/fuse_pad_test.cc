// fuse_pad: a constant-mode Pad of the spatial dims folds into the Conv / pool that reads it.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>

#include "ops/conv.h"
#include "ops/pool.h"
#include "runtime/optimize/pass.h"
#include "tests/unit/optimize/pass_test_util.h"
#include "tests/unit/support/graph_builder.h"

namespace onnxrun::test {
namespace {

const Shape kX = {1, 4, 6, 7};

// Pad (opset 13: pads and value as inputs) of x with {N, C, H, W} begin and end pads.
std::string PadOf(GraphBuilder& b, const std::string& x, const std::vector<int64_t>& pads,
                  float value, const std::string& mode = "constant") {
  const std::string v = b.Init("pad_value", {}, {value});
  return b.Op("Pad", {x, b.InitInts("pads", {8}, pads), v}, 1, "pad").Str("mode", mode);
}
std::string ConvOf(GraphBuilder& b, std::mt19937& rng, const std::string& in) {
  return b.Op("Conv", {in, b.Weight("w", {8, 4, 3, 3}, rng, -0.3f, 0.3f)}, 1, "reader");
}

std::vector<int64_t> PadsOf(const ir::Graph& g) {
  const ir::Node& n = g.nodes[NodeIndex(g, "reader")];
  return n.Ints("pads", {0, 0, 0, 0}).value_or(std::vector<int64_t>{});
}

TEST(FusePad, ZeroPadIntoConvAddsToItsPads) {
  std::mt19937 rng(1);
  GraphBuilder b;
  const std::string x = b.Input("x", kX);
  b.Output(ConvOf(b, rng, PadOf(b, x, {0, 0, 1, 2, 0, 0, 3, 0}, 0.f)));
  ir::Graph g = Prepared(b);
  std::vector<RewriteTrace> trace;
  ASSERT_EQ(*FusePad(g, PassContext{{}, &trace}), 1);
  EXPECT_EQ(g.OpHistogram(), (Histogram{{"Conv+Pad", 1}}));
  EXPECT_EQ(PadsOf(g), (std::vector<int64_t>{1, 2, 3, 0}));
  ASSERT_EQ(trace.size(), 1u);
  EXPECT_EQ(trace[0].pass, "fuse_pad");
  EXPECT_EQ(trace[0].node, "pad");
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(kX, rng)}});
}

TEST(FusePad, ZeroPadIntoAveragePoolCountsThePad) {
  std::mt19937 rng(2);
  GraphBuilder b;
  const std::string x = b.Input("x", kX);
  b.Output(b.Op("AveragePool", {PadOf(b, x, {0, 0, 1, 1, 0, 0, 1, 1}, 0.f)}, 1, "reader")
               .Ints("kernel_shape", {3, 3}));
  ir::Graph g = Prepared(b);
  ASSERT_EQ(*FusePad(g), 1);
  const ir::Node& pool = g.nodes[NodeIndex(g, "reader")];
  EXPECT_EQ(pool.Int("count_include_pad", 0).value(), 1);
  EXPECT_EQ(PadsOf(g), (std::vector<int64_t>{1, 1, 1, 1}));
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(kX, rng)}});
}

TEST(FusePad, MinusInfinityPadIntoMaxPool) {
  std::mt19937 rng(3);
  GraphBuilder b;
  const std::string x = b.Input("x", kX);
  const float ninf = -std::numeric_limits<float>::infinity();
  b.Output(b.Op("MaxPool", {PadOf(b, x, {0, 0, 0, 1, 0, 0, 1, 0}, ninf)}, 1, "reader")
               .Ints("kernel_shape", {2, 2})
               .Ints("pads", {1, 0, 0, 1}));
  ir::Graph g = Prepared(b);
  ASSERT_EQ(*FusePad(g), 1);
  EXPECT_EQ(PadsOf(g), (std::vector<int64_t>{1, 1, 1, 1}));
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(kX, rng)}});
}

// Before opset 11 the pads and the fill value are attributes.
TEST(FusePad, Opset10PadsAttributeIntoConv) {
  std::mt19937 rng(5);
  GraphBuilder b(10);
  const std::string x = b.Input("x", kX);
  auto pad = b.Op("Pad", {x}, 1, "pad").Ints("pads", {0, 0, 2, 1, 0, 0, 0, 1}).Float("value", 0.f);
  b.Output(ConvOf(b, rng, pad));
  ir::Graph g = Prepared(b);
  ASSERT_EQ(*RunPass(g, FusePad), 1);
  EXPECT_EQ(g.OpHistogram(), (Histogram{{"Conv+Pad", 1}}));
  EXPECT_EQ(PadsOf(g), (std::vector<int64_t>{2, 1, 0, 1}));
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(kX, rng)}});
}

// The reader's window as its params hold it, or as its infer parses it again (`reinfer`).
kernels::Window ReaderWindow(const ir::Graph& graph, bool reinfer) {
  ir::Graph g = graph;
  ir::Node& n = g.nodes[NodeIndex(g, "reader")];
  if (reinfer) {
    n.params.reset();
    EXPECT_TRUE(FindOp(n.domain, n.op)->infer(g, n).ok());
  }
  if (const auto* p = ir::ParamsAs<ConvParams>(n)) return p->window;
  if (const auto* p = ir::ParamsAs<PoolParams>(n)) return p->window;
  ADD_FAILURE() << "no window params on " << n.Describe();
  return {};
}

// The driver re-infers the reader the rewrite changed: its params hold the new pads and the Pad's
// input, as a fresh infer parses them.
TEST(FusePad, ReaderParamsFollowTheNewPads) {
  std::mt19937 rng(5);
  for (const char* op : {"Conv", "AveragePool", "MaxPool"}) {
    SCOPED_TRACE(op);
    GraphBuilder b;
    const std::string x = b.Input("x", kX);
    const std::string op_s = op;
    const float value = op_s == "MaxPool" ? -std::numeric_limits<float>::infinity() : 0.f;
    const std::string padded = PadOf(b, x, {0, 0, 1, 2, 0, 0, 3, 0}, value);
    if (op_s == "Conv")
      b.Output(ConvOf(b, rng, padded));
    else
      b.Output(b.Op(op, {padded}, 1, "reader").Ints("kernel_shape", {3, 3}));
    ir::Graph g = Prepared(b);
    const kernels::Window before = ReaderWindow(g, false);
    EXPECT_EQ(before.in[0], 10u);  // the Pad's output
    ASSERT_EQ(*RunPass(g, FusePad), 1);
    const kernels::Window after = ReaderWindow(g, false);
    EXPECT_TRUE(after == ReaderWindow(g, true));
    EXPECT_EQ(after.in[0], 6u);  // the Pad's input
    EXPECT_EQ(after.in[1], 7u);
    EXPECT_EQ(after.pad_begin[0], 1u);
    EXPECT_EQ(after.pad_begin[1], 2u);
    EXPECT_EQ(after.pad_end[0], 3u);
    EXPECT_EQ(after.out[0], before.out[0]);
    EXPECT_EQ(after.out[1], before.out[1]);
    if (op_s == "AveragePool")
      EXPECT_TRUE(ir::ParamsAs<PoolParams>(g.nodes[NodeIndex(g, "reader")])->count_include_pad);
  }
}

TEST(FusePad, GuardsStopTheRewrite) {
  std::mt19937 rng(4);
  const std::vector<GuardCase> cases = {
      {"Pad read twice",
       [&](GraphBuilder& b) {
         auto p = PadOf(b, b.Input("x", kX), {0, 0, 1, 1, 0, 0, 1, 1}, 0.f);
         b.Output(ConvOf(b, rng, p));
         b.Output(b.Op("Relu", {p}));
       }},
      {"Pad output is also a graph output",
       [&](GraphBuilder& b) {
         auto p = PadOf(b, b.Input("x", kX), {0, 0, 1, 1, 0, 0, 1, 1}, 0.f);
         b.Output(ConvOf(b, rng, p));
         b.Output(p);
       }},
      {"read by neither a Conv nor a pool",
       [&](GraphBuilder& b) {
         b.Output(b.Op("Relu", {PadOf(b, b.Input("x", kX), {0, 0, 1, 1, 0, 0, 1, 1}, 0.f)}));
       }},
      {"3-D input (a 1-D conv)",
       [&](GraphBuilder& b) {
         const std::string v = b.Init("pad_value", {}, {0.f});
         auto p =
             b.Op("Pad", {b.Input("x", {1, 4, 7}), b.InitInts("pads", {6}, {0, 0, 1, 0, 0, 1}), v});
         b.Output(b.Op("Conv", {p, b.Weight("w", {8, 4, 3}, rng, -0.3f, 0.3f)}));
       }},
      {"channels padded",
       [&](GraphBuilder& b) {
         b.Output(b.Op("AveragePool", {PadOf(b, b.Input("x", kX), {0, 1, 1, 1, 0, 0, 1, 1}, 0.f)},
                       1, "reader")
                      .Ints("kernel_shape", {2, 2}));
       }},
      {"negative pad (a crop)",
       [&](GraphBuilder& b) {
         b.Output(ConvOf(b, rng, PadOf(b, b.Input("x", kX), {0, 0, -1, 0, 0, 0, 1, 1}, 0.f)));
       }},
      {"reflect mode",
       [&](GraphBuilder& b) {
         b.Output(
             ConvOf(b, rng, PadOf(b, b.Input("x", kX), {0, 0, 1, 1, 0, 0, 1, 1}, 0.f, "reflect")));
       }},
      {"non-zero value before a Conv",
       [&](GraphBuilder& b) {
         b.Output(ConvOf(b, rng, PadOf(b, b.Input("x", kX), {0, 0, 1, 1, 0, 0, 1, 1}, 1.f)));
       }},
      {"zero value before a MaxPool",
       [&](GraphBuilder& b) {
         b.Output(b.Op("MaxPool", {PadOf(b, b.Input("x", kX), {0, 0, 1, 1, 0, 0, 1, 1}, 0.f)}, 1,
                       "reader")
                      .Ints("kernel_shape", {2, 2}));
       }},
      {"reader with auto_pad",
       [&](GraphBuilder& b) {
         b.Output(b.Op("Conv",
                       {PadOf(b, b.Input("x", kX), {0, 0, 1, 1, 0, 0, 1, 1}, 0.f),
                        b.Weight("w", {8, 4, 3, 3}, rng, -0.3f, 0.3f)},
                       1, "reader")
                      .Str("auto_pad", "SAME_UPPER"));
       }},
      {"AveragePool with pads of its own, not counting them",
       [&](GraphBuilder& b) {
         b.Output(b.Op("AveragePool", {PadOf(b, b.Input("x", kX), {0, 0, 1, 1, 0, 0, 1, 1}, 0.f)},
                       1, "reader")
                      .Ints("kernel_shape", {3, 3})
                      .Ints("pads", {1, 1, 1, 1}));
       }},
  };
  ExpectGuardsStop(cases, FusePad, rng);
}

}  // namespace
}  // namespace onnxrun::test
