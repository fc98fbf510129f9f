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

// PyTorch's exports with dynamic image sizes pass every weight through an Identity: its output is
// the initializer's own tensor (same id), so plans of other shapes find the packed weights.
TEST(FoldConstants, IdentityOfAWeightIsTheWeight) {
  std::mt19937 rng(21);
  GraphBuilder b;
  auto w = b.Op("Identity", {b.Weight("w", {4, 3, 3, 3}, rng)});
  b.Output(b.Op("Conv", {b.Input("x", kImage), w}, 1, "conv").Ints("pads", {1, 1, 1, 1}));
  int folded = 0;
  auto g = PrepareGraph(b, {}, &folded);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(folded, 1);
  EXPECT_EQ(g->OpHistogram(), (Histogram{{"Conv", 1}}));
  int init = -1;
  for (size_t v = 0; v < g->values.size(); ++v)
    if (g->values[v].name == "w") init = static_cast<int>(v);
  ASSERT_GE(init, 0);
  EXPECT_EQ(g->value(g->nodes[NodeIndex(*g, "conv")].inputs[1]).constant.get(),
            g->value(init).constant.get());
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor(kImage, rng)}}, 0);
}

}  // namespace
}  // namespace onnxrun::test

namespace onnxrun::test {
namespace {

// Omitted ("") required operands are refused by prepare.cc's operand check before any op code
// runs (infer, fuse_conv_bn, the session's GFLOPs); each error names the node and the operand.
TEST(CheckOperands, ConvWithEmptyWeights) {
  GraphBuilder b;
  b.Output(b.Op("Conv", {b.Input("x", {1, 3, 4, 4}), ""}, 1, "conv1"));
  ExpectLoadRefused(b, {"node 'conv1' (Conv): input 1 (W) is required but empty"});
}

TEST(CheckOperands, ConvThenBatchNormWithEmptyOutput) {
  std::mt19937 rng(1);
  GraphBuilder b;
  auto conv = b.Op("Conv", {b.Input("x", {1, 3, 4, 4}), b.Weight("w", {2, 3, 1, 1}, rng)});
  auto* bn = b.Op("BatchNormalization",
                  {conv, b.Weight("s", {2}, rng), b.Weight("b", {2}, rng), b.Weight("m", {2}, rng),
                   b.Init("v", {2}, {1.f, 2.f})},
                  1, "bn")
                 .proto();
  bn->set_output(0, "");
  b.Output(conv);
  ExpectLoadRefused(b, {"node 'bn' (BatchNormalization): output 0 is required but empty"});
}

TEST(CheckOperands, ReduceMeanAndPadWithEmptyRequiredInputs) {
  GraphBuilder b(13);
  auto x = b.Input("x", {1, 2, 3, 3});
  b.Output(b.Op("ReduceMean", {""}, 1, "mean"));
  b.Output(b.Op("Pad", {x, ""}, 1, "pad"));
  b.Output(b.Op("Pad", {"", b.InitInts("pads", {8}, {0, 0, 1, 1, 0, 0, 1, 1})}, 1, "pad0"));
  ExpectLoadRefused(b, {"3 malformed node operands",
                        "node 'mean' (ReduceMean): input 0 (data) is required but empty",
                        "node 'pad' (Pad): input 1 (pads) is required but empty",
                        "node 'pad0' (Pad): input 0 (data) is required but empty"});
}

TEST(CheckOperands, VariadicOpsWithAnEmptyInput) {
  for (const char* op : {"Sum", "Min", "Max", "Mean"}) {
    SCOPED_TRACE(op);
    GraphBuilder b;
    auto x = b.Input("x", {1, 4});
    b.Output(b.Op(op, {x, "", x}, 1, "v"));
    ExpectLoadRefused(b,
                      {absl::StrCat("node 'v' (", op, "): input 1 (data) is required but empty")});
  }
}

TEST(CheckOperands, NodeWhoseOnlyOutputIsEmpty) {
  GraphBuilder b;
  auto x = b.Input("x", {1, 4});
  b.Op("Relu", {x}, 1, "r").proto()->set_output(0, "");
  b.Output(b.Op("Sigmoid", {x}));
  ExpectLoadRefused(b, {"node 'r' (Relu): output 0 is required but empty"});
}

TEST(CheckOperands, TooManyOperands) {
  GraphBuilder b;
  auto x = b.Input("x", {1, 4});
  b.Output(b.Op("Relu", {x, x}, 2, "r"));
  ExpectLoadRefused(b, {"node 'r' (Relu): has 2 inputs; at most 1 allowed",
                        "node 'r' (Relu): has 2 outputs; at most 1 allowed"});
}

// Optional operands legitimately omitted keep loading: Clip without min, Conv without bias,
// Pad without constant_value, BatchNormalization and Dropout optional outputs.
TEST(CheckOperands, OmittedOptionalOperandsLoad) {
  std::mt19937 rng(2);
  GraphBuilder b(13);
  auto x = b.Input("x", {1, 2, 3, 3});
  auto clip = b.Op("Clip", {x, "", b.Init("hi", {}, {0.5f})});
  auto conv = b.Op("Conv", {clip, b.Weight("w", {2, 2, 1, 1}, rng), ""});
  auto pad = b.Op("Pad", {conv, b.InitInts("pads", {8}, {0, 0, 1, 1, 0, 0, 1, 1}), ""});
  auto bn = b.Op("BatchNormalization", {pad, b.Weight("s", {2}, rng), b.Weight("b", {2}, rng),
                                        b.Weight("m", {2}, rng), b.Init("v", {2}, {1.f, 2.f})});
  auto drop = b.Op("Dropout", {bn, "", ""}, 2);
  drop.proto()->set_output(1, "");
  b.Output(drop);
  auto session = LoadSession(b);
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ((*session)->outputs()[0].shape, (Shape{1, 2, 5, 5}));
}

// Float16 is computed as float32: a float16 graph input takes float32 tensors, float16 weights
// are float32 constants, a Cast to FLOAT16 at run time stays (it rounds) and a Cast back to FLOAT
// is an alias.
TEST(Float16AsFloat32, InputsWeightsAndCasts) {
  GraphBuilder b(13);
  auto x = b.Input("x", {1, 4});
  b.model().mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(
      onnx::TensorProto::FLOAT16);
  auto* w = b.model().mutable_graph()->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT16);
  w->add_dims(4);
  for (int i = 0; i < 4; ++i) w->add_int32_data(0x3C00);  // 1.0 in half
  auto half = b.Op("Cast", {b.Op("Add", {x, "w"})}, 1, "to_half").Int("to", 10);
  b.Output(b.Op("Cast", {half}, 1, "to_float").Int("to", 1));
  auto g = PrepareGraph(b);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->value(g->inputs[0]).dtype, ir::DataType::kFloat32);
  for (const ir::Value& v : g->values) EXPECT_NE(v.dtype, ir::DataType::kFloat16) << v.name;
  auto s = Session::Load(b.Save());
  ASSERT_TRUE(s.ok()) << s.status();
  std::vector<Tensor> out;
  const Tensor in({1, 4}, {0.f, 1.f + 1.f / 4096, 2049.f, 1e-3f});
  ASSERT_TRUE((*s)->Run({{"x", &in}}, &out).ok());
  // 1 + 1 + 2^-12 rounds to 2; 2050 is a half; 1.001 rounds to 1 + 2^-10.
  EXPECT_EQ(out[0].values(), (std::vector<float>{1.f, 2.f, 2050.f, 1.f + 1.f / 1024}));
}

}  // namespace
}  // namespace onnxrun::test
