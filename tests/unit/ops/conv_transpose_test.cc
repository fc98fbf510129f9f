// ConvTranspose (ops/conv_transpose.cc) on random shapes, as the adjoint of the runtime's Conv:
// <Conv(x), y> = <x, ConvTranspose(y)> for the same weights, strides, pads and dilations.
#include "tests/unit/support/graph_builder.h"

namespace onnxrun::test {
namespace {

TEST(ConvTranspose, IsTheAdjointOfConvOnRandomShapes) {
  std::mt19937 rng(6);
  for (int trial = 0; trial < 6; ++trial) {
    const int64_t c = RandomInt(rng, 1, 3), m = RandomInt(rng, 1, 3), k = RandomInt(rng, 1, 3);
    const int64_t stride = RandomInt(rng, 1, 2), dil = RandomInt(rng, 1, 2);
    const int64_t pad = RandomInt(rng, 0, k - 1), size = RandomInt(rng, 4, 7);
    // Conv: x [1, c, size, size] -> [1, m, out, out] with weights [m, c, k, k]; ConvTranspose with
    // the same weights maps [1, m, out, out] back to [1, c, size', size'] (output_shape fixes it).
    const int64_t out = (size + 2 * pad - dil * (k - 1) - 1) / stride + 1;
    if (out < 1) continue;
    GraphBuilder b(13);
    auto x = b.Input("x", {1, c, size, size});
    auto y = b.Input("y", {1, m, out, out});
    auto wt = b.Weight("w", {m, c, k, k}, rng);
    const std::vector<int64_t> geometry[] = {{stride, stride}, {dil, dil}, {pad, pad, pad, pad}};
    b.Output(b.Op("Conv", {x, wt})
                 .Ints("strides", geometry[0])
                 .Ints("dilations", geometry[1])
                 .Ints("pads", geometry[2]));
    const int64_t full = stride * (out - 1) + dil * (k - 1) + 1 - 2 * pad;
    b.Output(b.Op("ConvTranspose", {y, wt})
                 .Ints("strides", geometry[0])
                 .Ints("dilations", geometry[1])
                 .Ints("pads", geometry[2])
                 .Ints("output_padding", {size - full, size - full}));
    const Tensor tx = RandomTensor({1, c, size, size}, rng),
                 ty = RandomTensor({1, m, out, out}, rng);
    auto res = RunModel(b, {}, {{"x", tx}, {"y", ty}});
    ASSERT_TRUE(res.ok()) << res.status();
    ASSERT_EQ((*res)[1].shape(), tx.shape());
    double lhs = 0, rhs = 0;
    for (size_t i = 0; i < ty.values().size(); ++i) lhs += (*res)[0].values()[i] * ty.values()[i];
    for (size_t i = 0; i < tx.values().size(); ++i) rhs += tx.values()[i] * (*res)[1].values()[i];
    EXPECT_NEAR(lhs, rhs, 1e-4 * (1 + std::fabs(lhs))) << trial;
  }
}

}  // namespace
}  // namespace onnxrun::test
