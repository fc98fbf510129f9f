// Tests for ops/conv.cc: Conv on random shapes, every padding mode, depthwise and grouped, through
// the real loader and Session against naive NCHW references (tests/unit/support/reference_ops.h) on
// seeded random shapes. ExpectAllVariants runs each case under all eight combinations of optimize /
// concat_in_place / in_place; the variants agree bitwise unless a case says otherwise.
#include "ops/conv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "ops/pool.h"
#include "tests/unit/support/graph_builder.h"
#include "tests/unit/support/reference_ops.h"

namespace onnxrun::test {
namespace {

using namespace reference;  // NOLINT: the references read best unqualified

TEST(OpsConv, RandomShapesAllPaddingModes) {
  std::mt19937 rng(11);
  const char* kModes[] = {"NOTSET", "depthwise", "grouped", "SAME_UPPER", "SAME_LOWER", "VALID"};
  for (int it = 0; it < 60; ++it) {
    const std::string mode = kModes[it % 6];
    const bool with_bias = (it / 6) % 2 == 0;
    const int64_t N = RandomInt(rng, 1, 3), H = RandomInt(rng, 3, 11), W = RandomInt(rng, 3, 11);
    int64_t group = 1, C = RandomInt(rng, 1, 7), M = RandomInt(rng, 1, 9);
    if (mode == "depthwise") group = C = M = RandomInt(rng, 2, 9);
    if (mode == "grouped") {
      group = RandomInt(rng, 2, 3);
      C = group * RandomInt(rng, 1, 3);
      M = group * RandomInt(rng, 1, 4);
    }
    Window p;
    p.kh = RandomInt(rng, 1, 3);
    p.kw = RandomInt(rng, 1, 3);
    p.sh = RandomInt(rng, 1, 3);
    p.sw = RandomInt(rng, 1, 2);
    p.dh = RandomInt(rng, 1, 2);
    p.dw = RandomInt(rng, 1, 2);
    std::string auto_pad = mode.rfind("SAME", 0) == 0 || mode == "VALID" ? mode : "NOTSET";
    if (auto_pad == "NOTSET") {
      p.pt = RandomInt(rng, 0, 2), p.pl = RandomInt(rng, 0, 2), p.pb = RandomInt(rng, 0, 2),
      p.pr = RandomInt(rng, 0, 1);
    } else if (auto_pad !=
               "VALID") {  // ONNX: output = ceil(in / stride), extra pad at the end for UPPER
      auto same = [&](int64_t in, int64_t k, int64_t s, int64_t d, int64_t* b, int64_t* e) {
        const int64_t total =
            std::max<int64_t>(0, ((in + s - 1) / s - 1) * s + (k - 1) * d + 1 - in);
        *b = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        *e = total - *b;
      };
      same(H, p.kh, p.sh, p.dh, &p.pt, &p.pb);
      same(W, p.kw, p.sw, p.dw, &p.pl, &p.pr);
    }
    if (p.OutH(H) < 1 || p.OutW(W) < 1) continue;
    SCOPED_TRACE(absl::StrCat("case ", it, " ", mode, " N", N, " C", C, " M", M, " H", H, " W", W,
                              " k", p.kh, "x", p.kw, " s", p.sh, p.sw, " d", p.dh, p.dw, " pads ",
                              p.pt, p.pl, p.pb, p.pr, " bias ", with_bias));
    GraphBuilder b;
    const Tensor x = RandomTensor({N, C, H, W}, rng);
    const Tensor w = RandomTensor({M, C / group, p.kh, p.kw}, rng);
    const std::vector<float> bias = RandomVector(M, rng);
    std::vector<std::string> ins = {b.Input("x", {N, C, H, W}), b.Init("w", w.shape(), w.values())};
    if (with_bias) ins.push_back(b.Init("b", {M}, bias));
    auto conv = b.Op("Conv", ins)
                    .Int("group", group)
                    .Ints("strides", {p.sh, p.sw})
                    .Ints("dilations", {p.dh, p.dw});
    if (auto_pad == "NOTSET")
      conv.Ints("pads", {p.pt, p.pl, p.pb, p.pr});
    else
      conv.Str("auto_pad", auto_pad);
    if (it % 4 == 0) conv.Ints("kernel_shape", {p.kh, p.kw});
    b.Output(conv);
    ExpectAllVariants(b, {{"x", x}}, {RefConv(x, w, with_bias ? &bias : nullptr, group, p)});
  }
}

// Infer parses Conv's attributes once into ConvParams (ONNX defaults, auto_pad resolved against
// the input); later stages read them.
TEST(OpsConv, InferStoresResolvedParams) {
  std::mt19937 rng(3);
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 4, 7, 9});
  b.Output(b.Op("Conv", {x, b.Weight("w", {6, 2, 3, 3}, rng)}, 1, "conv")
               .Int("group", 2)
               .Ints("strides", {2, 1})
               .Str("auto_pad", "SAME_UPPER"));
  auto g = PrepareGraph(b);
  ASSERT_TRUE(g.ok()) << g.status();
  const ir::Node& n = g->nodes[NodeIndex(*g, "conv")];
  const ConvParams* p = ir::ParamsAs<ConvParams>(n);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ir::ParamsAs<PoolParams>(n), nullptr);  // another type: null, not a reinterpretation
  EXPECT_EQ(p->group, 2);
  kernels::Window want;
  want.rank = 2;
  want.in[0] = 7, want.in[1] = 9;
  want.kernel[0] = want.kernel[1] = 3;
  want.stride[0] = 2;
  want.out[0] = 4, want.out[1] = 9;  // ceil(in / stride)
  // SAME_UPPER: total padding (out - 1) * s + k - in, the odd one at the end.
  want.pad_begin[0] = 1, want.pad_end[0] = 1;
  want.pad_begin[1] = 1, want.pad_end[1] = 1;
  EXPECT_TRUE(p->window == want);
}

}  // namespace
}  // namespace onnxrun::test
