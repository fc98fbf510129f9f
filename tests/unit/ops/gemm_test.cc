// Tests for ops/gemm.cc: Gemm (transposes, alpha, beta, bias shapes) and MatMul (batched,
// broadcast, vectors), through the real loader and Session against naive NCHW references
// (tests/unit/support/reference_ops.h) on seeded random shapes. ExpectAllVariants runs each case
// under all eight combinations of optimize / concat_in_place / in_place; the variants agree bitwise
// unless a case says otherwise.
#include "ops/gemm.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/unit/support/graph_builder.h"
#include "tests/unit/support/reference_ops.h"

namespace onnxrun::test {
namespace {

using Shape = std::vector<int64_t>;
using namespace reference;  // NOLINT: the references read best unqualified

TEST(OpsGemm, TransposesAlphaBetaAndBiasShapes) {
  std::mt19937 rng(18);
  for (int it = 0; it < 48; ++it) {
    const int64_t M = RandomInt(rng, 1, 7), K = RandomInt(rng, 1, 19), N = RandomInt(rng, 1, 13);
    const bool ta = it % 4 == 3, tb = it % 2, b_const = it % 8 != 5;
    const float alpha = it % 3 ? 1.f : 0.5f, beta = it % 5 ? 1.f : 2.f;
    const std::vector<Shape> c_shapes = {{N}, {1, N}, {M, N}, {M, 1}, {}, {1}};
    const int ci = it % 7;  // 6 = no C
    const bool c_const = it % 9 != 4;
    GraphBuilder b;
    const Tensor A = RandomTensor(ta ? Shape{K, M} : Shape{M, K}, rng);
    const Tensor B = RandomTensor(tb ? Shape{N, K} : Shape{K, N}, rng);
    std::vector<std::string> ins = {
        b.Input("a", A.shape()),
        b_const ? b.Init("b", B.shape(), B.values()) : b.Input("b", B.shape())};
    Feeds feeds = {{"a", A}};
    if (!b_const) feeds.push_back({"b", B});
    Tensor Cv;
    if (ci < 6) {
      Cv = RandomTensor(c_shapes[ci], rng);
      ins.push_back(c_const ? b.Init("c", Cv.shape(), Cv.values()) : b.Input("c", Cv.shape()));
      if (!c_const) feeds.push_back({"c", Cv});
    }
    auto n = b.Op("Gemm", ins).Int("transA", ta).Int("transB", tb);
    if (alpha != 1.f) n.Float("alpha", alpha);
    if (beta != 1.f) n.Float("beta", beta);
    b.Output(n);
    Tensor want({M, N});
    for (int64_t m = 0; m < M; ++m)
      for (int64_t j = 0; j < N; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k)
          acc += double(A.values()[ta ? k * M + m : m * K + k]) *
                 B.values()[tb ? j * K + k : k * N + j];
        acc *= alpha;
        if (ci < 6) acc += beta * Cv.values()[BroadcastOffset({m, j}, Cv.shape())];
        want.values()[m * N + j] = static_cast<float>(acc);
      }
    SCOPED_TRACE(absl::StrCat("case ", it, " M", M, " K", K, " N", N, " tA", ta, " tB", tb,
                              " alpha ", alpha, " beta ", beta, " C ",
                              ci < 6 ? ir::ShapeString(Cv.shape()) : "none",
                              b_const ? " B const" : " B runtime", c_const ? "" : " C runtime"));
    ExpectAllVariants(b, feeds, {want});
  }
}

TEST(OpsMatMul, BatchedBroadcastAndVectors) {
  std::mt19937 rng(19);
  struct Case {
    Shape a, b;
    bool b_const;
  };
  const std::vector<Case> cases = {
      {{5, 7}, {7, 3}, true},        {{5, 7}, {7, 3}, false},          {{2, 4, 6}, {6, 5}, true},
      {{2, 4, 6}, {2, 6, 3}, false}, {{3, 1, 4, 6}, {2, 6, 5}, false}, {{7}, {7, 4}, true},
      {{4, 7}, {7}, false},          {{2, 3, 5, 4}, {4, 6}, true},     {{1, 9}, {9, 1}, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(
        absl::StrCat(ir::ShapeString(c.a), " x ", ir::ShapeString(c.b), c.b_const ? " const" : ""));
    GraphBuilder b;
    const Tensor A = RandomTensor(c.a, rng), B = RandomTensor(c.b, rng);
    b.Output(b.Op("MatMul", {b.Input("a", c.a),
                             c.b_const ? b.Init("b", c.b, B.values()) : b.Input("b", c.b)}));
    Feeds feeds = {{"a", A}};
    if (!c.b_const) feeds.push_back({"b", B});
    ExpectAllVariants(b, feeds, {RefMatMul(A, B)});
  }
}

// Infer parses Gemm's attributes once into GemmParams (defaults, M, K, N from the transposes).
TEST(OpsGemm, InferStoresParams) {
  std::mt19937 rng(5);
  GraphBuilder b;
  const std::string a = b.Input("a", {7, 3});
  b.Output(b.Op("Gemm", {a, b.Weight("w", {7, 5}, rng)}, 1, "gemm")
               .Int("transA", 1)
               .Float("alpha", 0.5f));
  auto g = PrepareGraph(b);
  ASSERT_TRUE(g.ok()) << g.status();
  const GemmParams* p = ir::ParamsAs<GemmParams>(g->nodes[NodeIndex(*g, "gemm")]);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->trans_a);
  EXPECT_FALSE(p->trans_b);
  EXPECT_EQ(p->alpha, 0.5f);
  EXPECT_EQ(p->beta, 1.f);
  EXPECT_EQ(p->m, 3);
  EXPECT_EQ(p->k, 7);
  EXPECT_EQ(p->n, 5);
}

}  // namespace
}  // namespace onnxrun::test
