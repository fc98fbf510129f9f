// Resize (ops/resize.cc) on random shapes, against the interpolation formulas written out here.
#include "tests/unit/support/graph_builder.h"

namespace onnxrun::test {
namespace {

TEST(Resize, NearestAndLinearMatchTheFormulasOnRandomShapes) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 6; ++trial) {
    const int64_t h = RandomInt(rng, 1, 5), w = RandomInt(rng, 1, 5);
    const float sh = static_cast<float>(RandomInt(rng, 1, 3)), sw = 0.5f * RandomInt(rng, 1, 6);
    GraphBuilder b(13);
    auto x = b.Input("x", {1, 2, h, w});
    auto scales = b.Init("scales", {4}, {1.f, 1.f, sh, sw});
    b.Output(b.Op("Resize", {x, "", scales}).Str("mode", "nearest"));
    b.Output(b.Op("Resize", {x, "", scales}).Str("mode", "linear"));
    const Tensor in = RandomTensor({1, 2, h, w}, rng);
    auto out = RunModel(b, {}, {{"x", in}});
    ASSERT_TRUE(out.ok()) << out.status();
    const int64_t oh = static_cast<int64_t>(h * sh), ow = static_cast<int64_t>(w * sw);
    ASSERT_EQ((*out)[0].shape(), (std::vector<int64_t>{1, 2, oh, ow}));
    auto at = [&](int64_t c, int64_t i, int64_t j) { return in.values()[(c * h + i) * w + j]; };
    // half_pixel source coordinate, clamped to the input for linear.
    auto src = [](int64_t o, double s, int64_t len) {
      return std::clamp((o + 0.5) / s - 0.5, 0.0, double(len - 1));
    };
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          const int64_t k = (c * oh + i) * ow + j;
          // round_prefer_floor of the unclamped coordinate, then clamped.
          auto nearest = [](int64_t o, double s, int64_t len) {
            const double v = (o + 0.5) / s - 0.5;
            const double r = v == std::floor(v) + 0.5 ? std::floor(v) : std::round(v);
            return std::clamp<int64_t>(static_cast<int64_t>(r), 0, len - 1);
          };
          EXPECT_EQ((*out)[0].values()[k], at(c, nearest(i, sh, h), nearest(j, sw, w)));
          const double y = src(i, sh, h), xx = src(j, sw, w);
          const int64_t y0 = static_cast<int64_t>(y), x0 = static_cast<int64_t>(xx);
          const int64_t y1 = std::min(y0 + 1, h - 1), x1 = std::min(x0 + 1, w - 1);
          const double fy = y - y0, fx = xx - x0;
          const double want = (1 - fy) * ((1 - fx) * at(c, y0, x0) + fx * at(c, y0, x1)) +
                              fy * ((1 - fx) * at(c, y1, x0) + fx * at(c, y1, x1));
          EXPECT_NEAR((*out)[1].values()[k], want, 1e-5) << k;
        }
  }
}

}  // namespace
}  // namespace onnxrun::test
