// Tests for ops/conv.cc: Conv on random shapes, every padding mode, depthwise and grouped, through
// the real loader and Session against naive NCHW references (tests/unit/support/reference_ops.h) on
// seeded random shapes. ExpectAllVariants runs each case under all eight combinations of optimize /
// concat_in_place / in_place; the variants agree bitwise unless a case says otherwise.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

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

}  // namespace
}  // namespace onnxrun::test
