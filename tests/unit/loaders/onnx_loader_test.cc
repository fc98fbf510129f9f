// Tests for loaders/onnx_loader.cc's opset range and the opset 18-21 op versions around it: what
// loads, and what is refused with a message naming the op, the version and the reason. Numerics
// of the opset 18-21 ops are checked against ONNX Runtime by the ctest opsets.ort_cases.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "tests/unit/support/graph_builder.h"

namespace onnxrun::test {
namespace {

void ExpectUnsupported(const GraphBuilder& b, const std::vector<std::string>& parts) {
  auto g = PrepareGraph(b);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), absl::StatusCode::kUnimplemented) << g.status();
  for (const std::string& p : parts)
    EXPECT_TRUE(absl::StrContains(g.status().message(), p)) << g.status() << "\nlacks: " << p;
}

ir::Shape OutputShape(const GraphBuilder& b, size_t i = 0) {
  auto g = PrepareGraph(b);
  EXPECT_TRUE(g.ok()) << g.status();
  return g.ok() ? g->value(g->outputs[i]).shape : ir::Shape{};
}

TEST(OnnxLoader, OpsetsUpTo21LoadAnd22IsRefused) {
  for (int opset : {18, 19, 20, 21, 22}) {
    SCOPED_TRACE(opset);
    GraphBuilder b(opset);
    b.Output(b.Op("Relu", {b.Input("x", {1, 2})}));
    if (opset <= 21) {
      EXPECT_EQ(OutputShape(b), (ir::Shape{1, 2}));
    } else {
      ExpectUnsupported(b, {"uses ONNX opset 22", "supported opsets are 1 to 21"});
    }
  }
}

TEST(OnnxLoader, Float8CastIsRefusedByName) {
  GraphBuilder b(19);
  b.Output(b.Op("Cast", {b.Input("x", {2})}, 1, "to_f8").Int("to", 17).Int("saturate", 1));
  ExpectUnsupported(b, {"to_f8", "cast to FLOAT8E4M3FN is not supported", "[opset 19]"});
}

TEST(OnnxLoader, Int4InitializerIsRefusedByName) {
  GraphBuilder b(21);
  auto* t = b.model().mutable_graph()->add_initializer();
  t->set_name("w4");
  t->set_data_type(22);  // INT4 (IR 10)
  t->add_dims(2);
  t->set_raw_data(std::string(1, '\0'));
  b.Output(b.Op("Relu", {b.Input("x", {2})}));
  ExpectUnsupported(b, {"initializer 'w4'", "INT4"});
}

TEST(OnnxLoader, PadWrapFromOpset19) {
  for (int opset : {18, 19}) {
    SCOPED_TRACE(opset);
    GraphBuilder b(opset);
    b.Output(b.Op("Pad",
                  {b.Input("x", {1, 2, 3, 4}), b.InitInts("p", {8}, {0, 0, 1, 1, 0, 0, 2, 2})}, 1,
                  "pad")
                 .Str("mode", "wrap"));
    if (opset == 18)
      ExpectUnsupported(b, {"pad", "mode 'wrap' is not supported", "[opset 18]"});
    else
      EXPECT_EQ(OutputShape(b), (ir::Shape{1, 2, 6, 7}));
  }
}

TEST(OnnxLoader, PadAxesInputFromOpset18) {
  GraphBuilder b(18);
  auto x = b.Input("x", {1, 2, 3, 4});
  b.Output(b.Op("Pad", {x, b.InitInts("p", {4}, {1, 2, 3, 4}), "", b.InitInts("a", {2}, {-1, 1})}));
  EXPECT_EQ(OutputShape(b), (ir::Shape{1, 2 + 2 + 4, 3, 4 + 1 + 3}));
}

TEST(OnnxLoader, SplitNumOutputsUnevenFromOpset18) {
  GraphBuilder b(18);
  auto split = b.Op("Split", {b.Input("x", {7, 2})}, 3).Int("num_outputs", 3);
  for (int i = 0; i < 3; ++i) b.Output(split.out(i));
  auto g = PrepareGraph(b);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->value(g->outputs[0]).shape, (ir::Shape{3, 2}));
  EXPECT_EQ(g->value(g->outputs[2]).shape, (ir::Shape{1, 2}));
}

TEST(OnnxLoader, ReduceAxesAreAnInputFromOpset18) {
  for (int opset : {17, 18}) {
    SCOPED_TRACE(opset);
    GraphBuilder b(opset);
    auto x = b.Input("x", {2, 3, 4});
    if (opset == 17)
      b.Output(b.Op("ReduceMax", {x}).Ints("axes", {1}).Int("keepdims", 0));
    else
      b.Output(b.Op("ReduceMax", {x, b.InitInts("axes", {1}, {1})}).Int("keepdims", 0));
    EXPECT_EQ(OutputShape(b), (ir::Shape{2, 4}));
  }
  GraphBuilder b(18);  // the opset-17 form at 18 is an error, not "reduce every axis"
  b.Output(b.Op("ReduceMax", {b.Input("x", {2, 3})}, 1, "max").Ints("axes", {1}));
  auto g = PrepareGraph(b);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument) << g.status();
  EXPECT_TRUE(absl::StrContains(g.status().message(), "from opset 18 the axes are an input"))
      << g.status();
}

}  // namespace
}  // namespace onnxrun::test
