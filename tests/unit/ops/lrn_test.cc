// Tests for ops/lrn.cc: LRN across channels, odd and even sizes, through the real loader and
// Session against naive NCHW references (tests/unit/support/reference_ops.h) on seeded random
// shapes. ExpectAllVariants runs each case under all eight combinations of optimize /
// concat_in_place / in_place; the variants agree bitwise unless a case says otherwise.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "tests/unit/support/graph_builder.h"
#include "tests/unit/support/reference_ops.h"

namespace onnxrun::test {
namespace {

using Shape = std::vector<int64_t>;
using namespace reference;  // NOLINT: the references read best unqualified

TEST(OpsLrn, AcrossChannelsOddAndEvenSizes) {
  std::mt19937 rng(22);
  for (int it = 0; it < 8; ++it) {
    const Shape s = {RandomInt(rng, 1, 2), RandomInt(rng, 1, 20), RandomInt(rng, 1, 6),
                     RandomInt(rng, 1, 6)};
    const int64_t size = RandomInt(rng, 1, 7);
    const float alpha = it % 2 ? 1e-4f : 0.5f, beta = it % 3 ? 0.75f : 0.5f,
                bias = it % 2 ? 1.f : 2.f;
    SCOPED_TRACE(absl::StrCat(ir::ShapeString(s), " size ", size));
    GraphBuilder b;
    const Tensor x = RandomTensor(s, rng, -2.f, 2.f);
    b.Output(b.Op("LRN", {b.Input("x", s)})
                 .Int("size", size)
                 .Float("alpha", alpha)
                 .Float("beta", beta)
                 .Float("bias", bias));
    Tensor want(s);
    int64_t i = 0;
    ForEachIndex(s, [&](const Shape& o) {
      double sq = 0;
      for (int64_t c = std::max<int64_t>(0, o[1] - (size - 1) / 2);
           c <= std::min(s[1] - 1, o[1] + size / 2); ++c)
        sq += double(At4(x, o[0], c, o[2], o[3])) * At4(x, o[0], c, o[2], o[3]);
      want.values()[i] =
          static_cast<float>(x.values()[i] / std::pow(bias + alpha / size * sq, beta));
      ++i;
    });
    ExpectAllVariants(b, {{"x", x}}, {want});
  }
}

}  // namespace
}  // namespace onnxrun::test
