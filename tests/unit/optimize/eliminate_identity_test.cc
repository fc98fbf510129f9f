// eliminate_identity: Identity, inference Dropout (mask unread) and float->float Cast are bypassed;
// readers read the input, and a graph output keeps its name.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "runtime/optimize/pass.h"
#include "tests/unit/optimize/pass_test_util.h"

namespace onnxrun::test {
namespace {

TEST(EliminateIdentity, IdentityDropoutCastInTheMiddle) {
  std::mt19937 rng(15);
  GraphBuilder b;
  auto id = b.Op("Identity", {Conv(b, rng, b.Input("x", kImage), 3, 4, 3, true)});
  auto drop = b.Op("Dropout", {id, b.Init("ratio", {}, {0.5f})});
  auto cast = b.Op("Cast", {drop}).Int("to", 1);
  b.Output(b.Op("Relu", {cast}));
  ir::Graph g = Prepared(b);
  ASSERT_EQ(*RunPass(g, EliminateIdentity), 3);
  EXPECT_EQ(g.OpHistogram(), (Histogram{{"Conv", 1}, {"Relu", 1}}));
  EXPECT_EQ(g.nodes[1].inputs[0], g.nodes[0].outputs[0]);
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(kImage, rng)}});
}

TEST(EliminateIdentity, GraphOutputKeepsItsName) {
  for (const std::string op : {"Identity", "Dropout"}) {
    SCOPED_TRACE(op);
    std::mt19937 rng(16);
    GraphBuilder b(12);
    auto relu = b.Op("Relu", {b.Input("x", kImage)});
    auto last = b.Op(op, {relu}, 1, "probs");
    b.Output(last);
    ir::Graph g = Prepared(b);
    ASSERT_EQ(*RunPass(g, EliminateIdentity), 1);
    EXPECT_EQ(g.OpHistogram(), (Histogram{{"Relu", 1}}));
    EXPECT_EQ(g.value(g.outputs[0]).name, last.out());
    auto s = LoadSession(b);
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_EQ((*s)->outputs().size(), 1u);
    EXPECT_EQ((*s)->outputs()[0].name, last.out());
    ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(kImage, rng)}});
  }
}

TEST(EliminateIdentity, KeptWhenItsInputIsVisible) {
  std::mt19937 rng(17);
  // Identity of a graph input as a graph output, and Identity of a value that is an output too.
  GraphBuilder b;
  const std::string x = b.Input("x", kImage);
  b.Output(b.Op("Identity", {x}));
  auto relu = b.Op("Relu", {x});
  b.Output(relu);
  b.Output(b.Op("Identity", {relu}));
  ir::Graph g = Prepared(b);
  EXPECT_EQ(*RunPass(g, EliminateIdentity), 0);
  EXPECT_EQ(g.OpHistogram(), (Histogram{{"Identity", 2}, {"Relu", 1}}));
  const Tensor in = RandomTensor(kImage, rng);
  for (bool opt : {true, false}) {
    SessionOptions o;
    o.optimize = opt;
    auto out = RunModel(b, o, {{"x", in}});
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ(out->size(), 3u);
    EXPECT_TRUE(BitwiseEqual((*out)[0], in));
    EXPECT_TRUE(BitwiseEqual((*out)[1], (*out)[2]));
  }
}

}  // namespace
}  // namespace onnxrun::test
