// fuse_matmul_add: a tf2onnx Dense layer (MatMul by constant weights, Add of a constant bias)
// becomes one Gemm; numerics against the unoptimized session; the guards.
#include <gtest/gtest.h>

#include <random>

#include "tests/unit/optimize/pass_test_util.h"

namespace onnxrun::test {
namespace {

TEST(FuseMatMulAdd, DenseLayerBecomesOneGemm) {
  std::mt19937 rng(31);
  for (const Shape& bias : {Shape{10}, Shape{1, 10}}) {
    GraphBuilder b(13);
    auto mm = b.Op("MatMul", {b.Input("x", {3, 16}), b.Weight("w", {16, 10}, rng)});
    b.Output(b.Op("Relu", {b.Op("Add", {mm, b.Weight("b", bias, rng)})}));
    auto session = LoadSession(b, {});
    ASSERT_TRUE(session.ok()) << session.status();
    const auto& ops = (*session)->report().ops_after;
    EXPECT_EQ(ops.count("MatMul"), 0u);
    EXPECT_EQ(ops.count("Add"), 0u);
    EXPECT_EQ(ops.at("Gemm+Add+Relu"), 1);
    ExpectOptimizeKeepsNumerics(b, {{"x", RandomTensor({3, 16}, rng)}});
  }
}

TEST(FuseMatMulAdd, GuardsStopTheRewrite) {
  std::mt19937 rng(32);
  ExpectGuardsStop(
      {{"a rank-3 input",
        [&](GraphBuilder& b) {
          auto mm = b.Op("MatMul", {b.Input("x", {2, 3, 16}), b.Weight("w", {16, 10}, rng)});
          b.Output(b.Op("Add", {mm, b.Weight("b", {10}, rng)}));
        }},
       {"a run-time bias",
        [&](GraphBuilder& b) {
          auto mm = b.Op("MatMul", {b.Input("x", {3, 16}), b.Weight("w", {16, 10}, rng)});
          b.Output(b.Op("Add", {mm, b.Input("y", {3, 10})}));
        }},
       {"a bias that broadcasts the product",
        [&](GraphBuilder& b) {
          auto mm = b.Op("MatMul", {b.Input("x", {1, 16}), b.Weight("w", {16, 10}, rng)});
          b.Output(b.Op("Add", {mm, b.Weight("b", {4, 10}, rng)}));
        }},
       {"a single-value bias",
        [&](GraphBuilder& b) {
          auto mm = b.Op("MatMul", {b.Input("x", {3, 16}), b.Weight("w", {16, 10}, rng)});
          b.Output(b.Op("Add", {mm, b.Weight("b", {}, rng)}));
        }},
       {"a product read twice",
        [&](GraphBuilder& b) {
          auto mm = b.Op("MatMul", {b.Input("x", {3, 16}), b.Weight("w", {16, 10}, rng)});
          b.Output(b.Op("Add", {mm, b.Weight("b", {10}, rng)}));
          b.Output(b.Op("Relu", {mm}));
        }}},
      FuseMatMulAdd, rng);
}

}  // namespace
}  // namespace onnxrun::test
