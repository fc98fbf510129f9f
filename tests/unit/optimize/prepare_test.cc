// prepare.cc's constant folding (InferAndFold): subgraphs of constants, including shape arithmetic
// on known shapes, fold at load into initializers.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "runtime/optimize/pass.h"
#include "tests/unit/optimize/pass_test_util.h"

namespace onnxrun::test {
namespace {

// x.view(x.size(0), -1) as PyTorch exports it: Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
TEST(FoldConstants, ShapeGatherUnsqueezeConcatReshapeChain) {
  for (int opset : {11, 13}) {
    for (int64_t batch : {1, 3}) {
      SCOPED_TRACE(absl::StrCat("opset ", opset, " batch ", batch));
      std::mt19937 rng(19);
      const Shape s = {batch, 3, 4, 5};
      GraphBuilder b(opset);
      auto pool = b.Op("MaxPool", {b.Input("x", s)}).Ints("kernel_shape", {2, 2});  // [N,3,3,4]
      auto shape = b.Op("Shape", {pool});
      auto zero = b.Op("Constant", {});
      auto* t = zero.proto()->add_attribute();
      t->set_name("value");
      t->set_type(onnx::AttributeProto::TENSOR);
      t->mutable_t()->set_data_type(onnx::TensorProto::INT64);
      t->mutable_t()->add_int64_data(0);
      auto gather = b.Op("Gather", {shape, zero}).Int("axis", 0);
      auto unsq = opset >= 13 ? b.Op("Unsqueeze", {gather, b.InitInts("axes", {1}, {0})})
                              : b.Op("Unsqueeze", {gather}).Ints("axes", {0});
      auto cat = b.Op("Concat", {unsq, b.InitInts("minus1", {1}, {-1})}).Int("axis", 0);
      b.Output(b.Op("Reshape", {pool, cat}, 1, "flat"));
      int folded = 0;
      auto g = PrepareGraph(b, {}, &folded);
      ASSERT_TRUE(g.ok()) << g.status();
      EXPECT_EQ(folded, 5);  // Shape, Constant, Gather, Unsqueeze, Concat
      EXPECT_EQ(g->OpHistogram(), (Histogram{{"MaxPool", 1}, {"Reshape", 1}}));
      const ir::Node& reshape = g->nodes[NodeIndex(*g, "flat")];
      ASSERT_TRUE(g->value(reshape.inputs[1]).is_constant());
      EXPECT_EQ(g->value(reshape.inputs[1]).constant->ints(), (std::vector<int64_t>{batch, -1}));
      EXPECT_EQ(g->value(reshape.outputs[0]).shape, (Shape{batch, 36}));
      auto session = LoadSession(b);
      ASSERT_TRUE(session.ok()) << session.status();
      EXPECT_EQ((*session)->report().passes.at(0).pass, "fold_constants");
      EXPECT_EQ((*session)->report().passes.at(0).rewrites, 5);
      EXPECT_EQ((*session)->outputs()[0].shape, (Shape{batch, 36}));
      ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(s, rng)}}, 0);
    }
  }
}

// Weights computed from initializers (a constant subgraph) fold at load: the Conv sees a constant.
TEST(FoldConstants, FloatSubgraphFeedingConvWeights) {
  std::mt19937 rng(20);
  GraphBuilder b;
  auto w =
      b.Op("Transpose", {b.Op("Mul", {b.Weight("w", {3, 4, 3, 3}, rng), b.Init("two", {}, {2.f})})})
          .Ints("perm", {1, 0, 2, 3});  // [4,3,3,3]
  b.Output(b.Op("Conv", {b.Input("x", kImage), w}, 1, "conv").Ints("pads", {1, 1, 1, 1}));
  int folded = 0;
  auto g = PrepareGraph(b, {}, &folded);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(folded, 2);
  EXPECT_EQ(g->OpHistogram(), (Histogram{{"Conv", 1}}));
  EXPECT_TRUE(g->value(g->nodes[NodeIndex(*g, "conv")].inputs[1]).is_constant());
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(kImage, rng)}}, 0);
}

}  // namespace
}  // namespace onnxrun::test
