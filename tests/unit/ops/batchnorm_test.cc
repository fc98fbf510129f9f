// Tests for ops/batchnorm.cc: BatchNormalization on a graph input (runs unfused) and after a Conv
// (folded into it when optimizing), through the real loader and Session against naive NCHW
// references (tests/unit/support/reference_ops.h) on seeded random shapes. ExpectAllVariants runs
// each case under all eight combinations of optimize / concat_in_place / in_place; the variants
// agree bitwise unless a case says otherwise.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/support/graph_builder.h"
#include "tests/unit/support/reference_ops.h"

namespace onnxrun::test {
namespace {

using Shape = std::vector<int64_t>;
using namespace reference;  // NOLINT: the references read best unqualified

TEST(OpsBatchNorm, UnfusedOnGraphInputAndAfterConv) {
  std::mt19937 rng(12);
  const std::vector<Shape> shapes = {{2, 5, 7, 3}, {1, 3, 1, 1}, {3, 4, 6}, {4, 6}, {2, 8, 5, 9}};
  for (size_t it = 0; it < shapes.size() * 2; ++it) {
    const Shape xs = shapes[it % shapes.size()];
    const bool after_conv = it >= shapes.size() && xs.size() == 4;
    const int64_t C = xs[1];
    const float eps = it % 2 ? 1e-3f : 1e-5f;
    const auto scale = RandomVector(C, rng), shift = RandomVector(C, rng),
               mean = RandomVector(C, rng);
    const auto var = RandomVector(C, rng, 0.1f, 2.f);
    GraphBuilder b;
    const Tensor x = RandomTensor(xs, rng);
    std::string in = b.Input("x", xs);
    Tensor bn_in = x;
    if (after_conv) {  // optimize=true folds it into the conv; optimize=false runs it unfused
      const Tensor w = RandomTensor({C, C, 3, 3}, rng);
      Window p;
      p.kh = p.kw = 3;
      p.pt = p.pl = p.pb = p.pr = 1;
      in = b.Op("Conv", {in, b.Init("w", w.shape(), w.values())}).Ints("pads", {1, 1, 1, 1});
      bn_in = RefConv(x, w, nullptr, 1, p);
    }
    b.Output(b.Op("BatchNormalization", {in, b.Init("s", {C}, scale), b.Init("t", {C}, shift),
                                         b.Init("m", {C}, mean), b.Init("v", {C}, var)})
                 .Float("epsilon", eps));
    Tensor want(bn_in.shape());
    const int64_t inner = bn_in.num_elements() / (xs[0] * C);
    for (int64_t i = 0; i < want.num_elements(); ++i) {
      const int64_t c = (i / inner) % C;
      want.values()[i] =
          (bn_in.values()[i] - mean[c]) / std::sqrt(var[c] + eps) * scale[c] + shift[c];
    }
    SCOPED_TRACE(absl::StrCat("shape ", ir::ShapeString(xs), " after_conv ", after_conv));
    ExpectAllVariants(b, {{"x", x}}, {want}, /*bitwise=*/!after_conv);
  }
}

}  // namespace
}  // namespace onnxrun::test
