// cancel_transpose: tf2onnx-style NHWC graphs (a Transpose pair around every layout-sensitive op,
// elementwise ops and per-channel constants in NHWC between them) lose their Transposes; numerics
// against the unoptimized session; the guards.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/unit/optimize/pass_test_util.h"

namespace onnxrun::test {
namespace {

std::string ToNchw(GraphBuilder& b, const std::string& x) {
  return b.Op("Transpose", {x}).Ints("perm", {0, 3, 1, 2});
}
std::string ToNhwc(GraphBuilder& b, const std::string& x) {
  return b.Op("Transpose", {x}).Ints("perm", {0, 2, 3, 1});
}

// x [2,7,6,3] NHWC -> conv -> (NHWC) Mul/Add per channel [8] (a BatchNorm written as tf2onnx
// does) -> Clip(0,6) -> conv -> Relu -> residual Add of the two NHWC branches -> conv -> GAP.
GraphBuilder NhwcNet(std::mt19937& rng) {
  GraphBuilder b(13);
  const std::string x = b.Input("x", {2, 7, 6, 3});
  auto c1 = ToNhwc(b, Conv(b, rng, ToNchw(b, x), 3, 8, 3, true));
  auto scaled = b.Op("Mul", {c1, b.Weight("scale", {8}, rng, 0.5f, 1.5f)});
  auto shifted = b.Op("Add", {scaled, b.Weight("shift", {8}, rng)});
  auto six =
      b.Op("Clip", {shifted, b.Weight("lo", {}, rng, 0.f, 0.f), b.Weight("hi", {}, rng, 6.f, 6.f)});
  auto c2 = b.Op("Relu", {ToNhwc(b, Conv(b, rng, ToNchw(b, six), 8, 8, 3, true))});
  auto sum = b.Op("Add", {c2, six});
  auto c3 = ToNhwc(b, Conv(b, rng, ToNchw(b, sum), 8, 4, 1, true));
  b.Output(b.Op("Flatten", {b.Op("GlobalAveragePool", {ToNchw(b, c3)})}, 1, "out"));
  return b;
}

TEST(CancelTranspose, RemovesEveryPairOfATf2onnxStyleGraph) {
  std::mt19937 rng(21);
  GraphBuilder b = NhwcNet(rng);
  ir::Graph g = Prepared(b);
  int before = 0;
  for (const ir::Node& n : g.nodes) before += n.op == "Transpose";
  EXPECT_EQ(before, 7);
  auto n = RunPass(g, CancelTransposes);
  ASSERT_TRUE(n.ok()) << n.status();
  ASSERT_TRUE(EliminateDead(g, PassContext{}).ok());  // the Transposes nothing reads any more
  int after = 0;
  for (const ir::Node& node : g.nodes) after += !node.removed && node.op == "Transpose";
  EXPECT_EQ(after, 1);  // the graph input's NHWC -> NCHW; nothing else is left
  auto session = LoadSession(b, {});
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ((*session)->report().ops_after.at("Transpose"), 1);
  EXPECT_EQ((*session)->report().ops_after.count("Conv+Relu"), 1u);  // the Relu met its conv
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor({2, 7, 6, 3}, rng)}});
}

TEST(CancelTranspose, MergesTwoPermutationsIntoOne) {
  std::mt19937 rng(22);
  GraphBuilder b(13);
  auto t = b.Op("Transpose",
                {b.Op("Transpose", {b.Input("x", {2, 3, 4, 5})}).Ints("perm", {0, 2, 3, 1})})
               .Ints("perm", {1, 0, 2, 3});
  b.Output(b.Op("Relu", {t}));
  ir::Graph g = Prepared(b);
  auto n = RunPass(g, CancelTransposes);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_GE(*n, 1);
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor({2, 3, 4, 5}, rng)}});
}

int Transposes(const ir::Graph& g) {
  int n = 0;
  for (const ir::Node& node : g.nodes) n += !node.removed && node.op == "Transpose";
  return n;
}

// Keras' GlobalAveragePooling2D as tf2onnx writes it: ReduceMean over H, W of NHWC data, axes as
// an attribute (opset 13) or an input (18), keepdims 0; the Transpose before it goes away, and
// the mean runs as a global average pool on the NHWC data.
TEST(CancelTranspose, ReduceMeanOverNhwcSpatialAxesReadsTheNchwData) {
  std::mt19937 rng(24);
  for (int opset : {13, 18}) {
    for (std::vector<int64_t> axes : {std::vector<int64_t>{1, 2}, {-3, -2}}) {
      SCOPED_TRACE(absl::StrCat("opset ", opset, ", axes ", axes[0]));
      GraphBuilder b(opset);
      const std::string x = b.Input("x", {2, 5, 7, 6});
      auto nhwc = ToNhwc(b, Conv(b, rng, ToNchw(b, x), 6, 8, 3, true));
      if (opset >= 18)
        b.Output(b.Op("ReduceMean", {nhwc, b.InitInts("axes", {2}, axes)}).Int("keepdims", 0));
      else
        b.Output(b.Op("ReduceMean", {nhwc}).Ints("axes", axes).Int("keepdims", 0));
      ir::Graph g = Prepared(b);
      ASSERT_TRUE(RunPass(g, CancelTransposes).ok());
      ASSERT_TRUE(EliminateDead(g, PassContext{}).ok());
      EXPECT_EQ(Transposes(g), 1);  // the input's
      ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor({2, 5, 7, 6}, rng)}});
    }
  }
}

// With keepdims the reduction moves before the Transpose; the [N,1,1,C] <- [N,C,1,1] Transpose
// left only moves dims of size 1 and becomes a Reshape.
TEST(CancelTranspose, ReduceWithKeepdimsMovesAndTheUnitTransposeBecomesAReshape) {
  std::mt19937 rng(25);
  GraphBuilder b(13);
  const std::string x = b.Input("x", {2, 5, 7, 6});
  auto nhwc = ToNhwc(b, Conv(b, rng, ToNchw(b, x), 6, 8, 3, true));
  auto mean = b.Op("ReduceMean", {nhwc}).Ints("axes", {1, 2}).Int("keepdims", 1);
  b.Output(b.Op("Flatten", {mean}, 1, "out"));
  ir::Graph g = Prepared(b);
  ASSERT_TRUE(RunPass(g, CancelTransposes).ok());
  ASSERT_TRUE(EliminateDead(g, PassContext{}).ok());
  EXPECT_EQ(Transposes(g), 1);
  int reshapes = 0;
  for (const ir::Node& n : g.nodes) reshapes += !n.removed && n.op == "Reshape";
  EXPECT_EQ(reshapes, 1);
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor({2, 5, 7, 6}, rng)}});
}

// Without keepdims, a reduction whose kept dims would come out in another order keeps its
// Transpose (and still computes the same).
TEST(CancelTranspose, ReduceThatWouldReorderTheKeptDimsKeepsTheTranspose) {
  std::mt19937 rng(26);
  GraphBuilder b(13);
  const std::string x = b.Input("x", {2, 5, 7, 6});
  b.Output(b.Op("ReduceMax", {ToNhwc(b, x)}).Ints("axes", {1}).Int("keepdims", 0));
  ir::Graph g = Prepared(b);
  ASSERT_TRUE(RunPass(g, CancelTransposes).ok());
  EXPECT_EQ(Transposes(g), 1);
  ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor({2, 5, 7, 6}, rng)}});
}

TEST(CancelTranspose, GuardsStopTheRewrite) {
  std::mt19937 rng(23);
  ExpectGuardsStop({{"a transpose read twice",
                     [&](GraphBuilder& b) {
                       auto t = ToNchw(b, b.Input("x", {2, 4, 5, 3}));
                       b.Output(b.Op("Relu", {t}));
                       b.Output(b.Op("Sigmoid", {t}));
                     }},
                    {"a transpose that is a graph output",
                     [&](GraphBuilder& b) {
                       auto t = ToNchw(b, b.Input("x", {2, 4, 5, 3}));
                       b.Output(t);
                       b.Output(b.Op("Relu", {t}));
                     }},
                    {"a per-channel op (PRelu) after it",
                     [&](GraphBuilder& b) {
                       auto t = ToNchw(b, b.Input("x", {2, 4, 5, 3}));
                       b.Output(b.Op("PRelu", {t, b.Weight("slope", {3, 1, 1}, rng)}));
                     }},
                    {"a binary op that broadcasts the transposed operand",
                     [&](GraphBuilder& b) {
                       auto t = ToNchw(b, b.Input("x", {1, 4, 5, 3}));
                       b.Output(b.Op("Add", {t, b.Input("y", {2, 3, 4, 5})}));
                     }}},
                   CancelTransposes, rng);
}

}  // namespace
}  // namespace onnxrun::test
