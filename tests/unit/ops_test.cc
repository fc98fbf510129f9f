// Every op on the ResNet/SqueezeNet path, through the real loader and Session, against naive NCHW
// references (reference_ops.h), on seeded random shapes (batch > 1, odd sizes). Each case runs
// under all eight combinations of optimize / concat_in_place / in_place and the outputs must agree
// bitwise.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <functional>
#include <numeric>
#include <random>

#include "tests/unit/graph_builder.h"
#include "tests/unit/reference_ops.h"

namespace onnxrun::test {
namespace {

using Shape = std::vector<int64_t>;
using namespace reference;  // NOLINT: the references read best unqualified

// ---------------------------------------------------------------- Conv
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

// ---------------------------------------------------------------- BatchNormalization
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

// ---------------------------------------------------------------- Relu, Clip
TEST(OpsActivation, ReluAndClipForms) {
  std::mt19937 rng(13);
  struct Case {
    int opset;
    std::string op;
    float lo, hi;
    bool has_lo, has_hi;
    Shape shape;
  };
  const std::vector<Case> cases = {
      {13, "Relu", 0, 0, false, false, {2, 3, 5, 7}},
      {13, "Relu", 0, 0, false, false, {3, 11}},
      {13, "Clip", 0, 6, true, true, {2, 5, 4, 4}},
      {13, "Clip", 0, 0.25f, false, true, {1, 3, 5, 5}},
      {11, "Clip", -0.5f, 0, true, false, {7, 9}},
      {6, "Clip", -0.3f, 0.4f, true, true, {2, 3, 3, 2}},
      {6, "Clip", 0, 0, false, false, {5}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.op, " opset ", c.opset, " ", ir::ShapeString(c.shape)));
    GraphBuilder b(c.opset);
    const Tensor x = RandomTensor(c.shape, rng, -3.f, 8.f);
    std::vector<std::string> ins = {b.Input("x", c.shape)};
    if (c.op == "Clip" && c.opset >= 11) {
      ins.push_back(c.has_lo ? b.Init("lo", {}, {c.lo}) : "");
      if (c.has_hi) ins.push_back(b.Init("hi", {}, {c.hi}));
    }
    auto n = b.Op(c.op, ins);
    if (c.op == "Clip" && c.opset < 11 && c.has_lo) n.Float("min", c.lo);
    if (c.op == "Clip" && c.opset < 11 && c.has_hi) n.Float("max", c.hi);
    b.Output(n);
    Tensor want = x;
    for (float& v : want.values()) {
      if (c.op == "Relu") v = std::max(v, 0.f);
      if (c.has_lo) v = std::max(v, c.lo);
      if (c.has_hi) v = std::min(v, c.hi);
    }
    ExpectAllVariants(b, {{"x", x}}, {want});
  }
}

// ---------------------------------------------------------------- Add, Mul, Sub, Div broadcasting
TEST(OpsBinary, BroadcastingShapesRuntimeAndConstant) {
  std::mt19937 rng(14);
  struct Case {
    Shape a, b;
    bool b_const, swap;
  };
  const std::vector<Case> cases = {
      {{2, 6, 5, 7}, {2, 6, 1, 1}, false, false},  // squeeze-excitation scale
      {{3, 4, 3, 3}, {3, 4, 1, 1}, false, true},   // [N,C,1,1] x [N,C,H,W]
      {{2, 3, 4, 5}, {}, true, false},             // scalar constant
      {{2, 3, 4, 5}, {1}, false, true},            // one-element run-time tensor
      {{5, 9}, {9}, true, false},                  // rank 2 + row vector
      {{5, 9}, {5, 1}, false, false},              // rank 2 + column
      {{2, 7, 3, 3}, {7, 1, 1}, true, false},      // per-channel constant
      {{3, 2, 4, 5}, {1, 2, 4, 5}, false, false},  // batch broadcast
      {{2, 3, 4, 5}, {5}, false, false},           // last-axis run-time vector
      {{2, 3, 4, 5}, {2, 3, 4, 5}, false, false},  // same shape
      {{1, 1, 6, 6}, {2, 3, 1, 1}, false, false},  // both sides broadcast
  };
  int k = 0;
  for (const Case& c : cases)
    for (const std::string op : {"Add", "Mul", "Sub", "Div"}) {
      SCOPED_TRACE(absl::StrCat(op, " ", ir::ShapeString(c.a), " ", ir::ShapeString(c.b),
                                c.b_const ? " const" : "", c.swap ? " swapped" : ""));
      GraphBuilder b;
      const Tensor x = RandomTensor(c.a, rng);
      const Tensor y = op == "Div" ? RandomTensor(c.b, rng, 0.5f, 2.f) : RandomTensor(c.b, rng);
      std::string xa = b.Input("a", c.a);
      std::string yb = c.b_const ? b.Init("b", c.b, y.values()) : b.Input("b", c.b);
      b.Output(c.swap ? b.Op(op, {yb, xa}) : b.Op(op, {xa, yb}));
      Feeds feeds = {{"a", x}};
      if (!c.b_const) feeds.push_back({"b", y});
      ExpectAllVariants(b, feeds, {c.swap ? RefBinary(op, y, x) : RefBinary(op, x, y)});
      ++k;
    }
  EXPECT_EQ(k, 44);
}

// ---------------------------------------------------------------- pools
TEST(OpsPool, MaxAndAverageRandomWindows) {
  std::mt19937 rng(15);
  for (int it = 0; it < 80; ++it) {
    const bool is_max = it % 2 == 0;
    const int64_t N = RandomInt(rng, 1, 3), C = RandomInt(rng, 1, 9), H = RandomInt(rng, 2, 12),
                  W = RandomInt(rng, 2, 12);
    Window p;
    p.kh = RandomInt(rng, 1, std::min<int64_t>(H, 4));
    p.kw = RandomInt(rng, 1, std::min<int64_t>(W, 4));
    if (p.kh * p.kw == 1 && it % 3) p.kh = std::min<int64_t>(H, 2);
    p.sh = RandomInt(rng, 1, 3);
    p.sw = RandomInt(rng, 1, 3);
    if (is_max && it % 5 == 0) p.dh = p.dw = 2;
    if (it % 4 != 3) {  // pads strictly smaller than the window
      p.pt = RandomInt(rng, 0, p.kh - 1), p.pb = RandomInt(rng, 0, p.kh - 1);
      p.pl = RandomInt(rng, 0, p.kw - 1), p.pr = RandomInt(rng, 0, p.kw - 1);
    }
    p.ceil_mode = it % 3 == 1;
    p.count_include_pad = !is_max && it % 4 == 1;
    if (p.OutH(H) < 1 || p.OutW(W) < 1) continue;
    SCOPED_TRACE(absl::StrCat("case ", it, is_max ? " Max" : " Avg", " N", N, " C", C, " ", H, "x",
                              W, " k", p.kh, "x", p.kw, " s", p.sh, p.sw, " d", p.dh, " pads ",
                              p.pt, p.pl, p.pb, p.pr, " ceil ", p.ceil_mode, " cip ",
                              p.count_include_pad));
    GraphBuilder b;
    const Tensor x = RandomTensor({N, C, H, W}, rng);
    auto n = b.Op(is_max ? "MaxPool" : "AveragePool", {b.Input("x", {N, C, H, W})})
                 .Ints("kernel_shape", {p.kh, p.kw})
                 .Ints("strides", {p.sh, p.sw})
                 .Ints("pads", {p.pt, p.pl, p.pb, p.pr})
                 .Int("ceil_mode", p.ceil_mode);
    if (p.dh > 1) n.Ints("dilations", {p.dh, p.dw});
    if (!is_max) n.Int("count_include_pad", p.count_include_pad);
    b.Output(n);
    ExpectAllVariants(b, {{"x", x}}, {RefPool(x, p, is_max)});
  }
}

TEST(OpsPool, GlobalAverageAndMax) {
  std::mt19937 rng(16);
  for (int it = 0; it < 10; ++it) {
    const bool is_max = it % 2;
    const Shape s = {RandomInt(rng, 1, 3), RandomInt(rng, 1, 17), RandomInt(rng, 1, 9),
                     RandomInt(rng, 1, 9)};
    SCOPED_TRACE(ir::ShapeString(s));
    GraphBuilder b;
    const Tensor x = RandomTensor(s, rng);
    b.Output(b.Op(is_max ? "GlobalMaxPool" : "GlobalAveragePool", {b.Input("x", s)}));
    Window p;
    p.kh = p.sh = s[2];
    p.kw = p.sw = s[3];
    ExpectAllVariants(b, {{"x", x}}, {RefPool(x, p, is_max)});
  }
}

// ---------------------------------------------------------------- views: Flatten, Reshape,
// Squeeze, Unsqueeze
TEST(OpsViews, FlattenReshapeSqueezeUnsqueeze) {
  std::mt19937 rng(17);
  struct Case {
    int opset;
    std::string op;
    Shape in;
    std::vector<int64_t> arg;
    Shape out;
  };
  const std::vector<Case> cases = {
      {13, "Flatten", {2, 3, 4, 5}, {1}, {2, 60}},
      {13, "Flatten", {3, 7, 1, 1}, {1}, {3, 7}},
      {13, "Flatten", {2, 3, 4, 5}, {0}, {1, 120}},
      {13, "Flatten", {2, 3, 4, 5}, {2}, {6, 20}},
      {13, "Flatten", {2, 3, 4, 5}, {-1}, {24, 5}},
      {13, "Flatten", {4, 3, 5}, {1}, {4, 15}},
      {13, "Reshape", {2, 3, 4, 5}, {0, -1}, {2, 60}},
      {13, "Reshape", {2, 3, 4, 5}, {0, -1, 5}, {2, 12, 5}},
      {13, "Reshape", {2, 3, 4, 5}, {-1}, {120}},
      {13, "Reshape", {2, 3, 4, 5}, {0, 0, 20, 1}, {2, 3, 20, 1}},
      {13, "Reshape", {2, 60}, {2, 3, -1, 5}, {2, 3, 4, 5}},
      {13, "Reshape", {2, 6, 1, 1}, {0, 2, 3, 1}, {2, 2, 3, 1}},
      {13, "Squeeze", {3, 5, 1, 1}, {2, 3}, {3, 5}},
      {11, "Squeeze", {1, 4, 3, 2}, {0}, {4, 3, 2}},
      {13, "Squeeze", {1, 4, 1, 2}, {}, {4, 2}},
      {13, "Unsqueeze", {3, 5}, {2, 3}, {3, 5, 1, 1}},
      {11, "Unsqueeze", {4, 3, 2}, {0}, {1, 4, 3, 2}},
      {13, "Unsqueeze", {2, 3, 4}, {-1}, {2, 3, 4, 1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.op, " opset ", c.opset, " ", ir::ShapeString(c.in), " arg ",
                              ir::ShapeString(c.arg)));
    GraphBuilder b(c.opset);
    const Tensor x = RandomTensor(c.in, rng);
    // Relu before and after: the view sits between two kernels (in-place and aliasing both apply).
    std::string in = b.Op("Relu", {b.Input("x", c.in)});
    std::string out;
    if (c.op == "Flatten")
      out = b.Op("Flatten", {in}).Int("axis", c.arg[0]);
    else if (c.op == "Reshape")
      out = b.Op("Reshape", {in, b.InitInts("shape", {int64_t(c.arg.size())}, c.arg)});
    else if (c.opset >= 13 && !c.arg.empty())
      out = b.Op(c.op, {in, b.InitInts("axes", {int64_t(c.arg.size())}, c.arg)});
    else if (!c.arg.empty())
      out = b.Op(c.op, {in}).Ints("axes", c.arg);
    else
      out = b.Op(c.op, {in});
    b.Output(b.Op("Sigmoid", {out}));
    Tensor want = Reshape(x, c.out);
    for (float& v : want.values()) v = 1.f / (1.f + std::exp(-std::max(v, 0.f)));
    ExpectAllVariants(b, {{"x", x}}, {want}, true, 1e-5, 1e-5);
  }
}

// ---------------------------------------------------------------- Gemm, MatMul
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

// ---------------------------------------------------------------- Concat
TEST(OpsConcat, ChannelsAndOtherAxes) {
  std::mt19937 rng(20);
  struct Case {
    std::vector<Shape> ins;
    int64_t axis;
    int const_input;
    bool relu_first;
  };
  const std::vector<Case> cases = {
      {{{2, 3, 4, 5}, {2, 5, 4, 5}}, 1, -1, false},
      {{{2, 3, 4, 5}, {2, 5, 4, 5}}, 1, -1, true},
      {{{1, 2, 3, 3}, {1, 1, 3, 3}, {1, 4, 3, 3}}, 1, 1, true},
      {{{1, 3, 2, 2}, {2, 3, 2, 2}}, 0, -1, true},
      {{{2, 3, 4, 5}, {2, 3, 1, 5}}, 2, -1, true},
      {{{2, 3, 4, 5}, {2, 3, 4, 2}}, -1, 0, true},
      {{{3, 4}, {3, 7}}, 1, -1, true},
      {{{2, 3, 4}, {2, 1, 4}}, 1, -1, false},
      {{{2, 3, 1, 1}, {2, 5, 1, 1}}, 1, -1, true},
      {{{4, 6}, {1, 6}}, 0, 1, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat("axis ", c.axis, " first ", ir::ShapeString(c.ins[0]), " n ",
                              c.ins.size(), " const ", c.const_input, " relu ", c.relu_first));
    GraphBuilder b;
    std::vector<Tensor> xs;
    std::vector<std::string> names;
    Feeds feeds;
    for (size_t i = 0; i < c.ins.size(); ++i) {
      xs.push_back(RandomTensor(c.ins[i], rng));
      const std::string name = absl::StrCat("x", i);
      if (static_cast<int>(i) == c.const_input) {
        names.push_back(b.Init(name, c.ins[i], xs.back().values()));
        continue;
      }
      names.push_back(c.relu_first ? b.Op("Relu", {b.Input(name, c.ins[i])}).out()
                                   : b.Input(name, c.ins[i]));
      feeds.push_back({name, xs.back()});
      if (c.relu_first)
        for (float& v : xs.back().values()) v = std::max(v, 0.f);
    }
    b.Output(b.Op("Concat", names).Int("axis", c.axis));
    const int64_t rank = c.ins[0].size();
    ExpectAllVariants(b, feeds, {RefConcat(xs, c.axis < 0 ? c.axis + rank : c.axis)});
  }
}

// ---------------------------------------------------------------- Softmax, LogSoftmax
TEST(OpsSoftmax, Opset11FlattensOpset13SingleAxis) {
  std::mt19937 rng(21);
  struct Case {
    int opset;
    Shape s;
    int64_t axis;
    bool log;
  };  // axis 99 = default
  const std::vector<Case> cases = {
      {11, {3, 10}, 99, false},     {11, {2, 3, 4, 5}, 1, false},  {11, {2, 3, 4, 5}, 2, false},
      {11, {2, 5, 1, 1}, 1, false}, {11, {4, 7}, 99, true},        {13, {3, 10}, 99, false},
      {13, {2, 3, 4, 5}, 1, false}, {13, {2, 3, 4, 5}, 99, false}, {13, {2, 3, 4, 5}, 2, false},
      {13, {3, 4, 5}, 1, false},    {13, {2, 6, 3, 3}, 1, true},   {9, {2, 3, 4}, 99, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat("opset ", c.opset, " ", ir::ShapeString(c.s), " axis ", c.axis,
                              c.log ? " log" : ""));
    GraphBuilder b(c.opset);
    const Tensor x = RandomTensor(c.s, rng, -4.f, 4.f);
    auto n = b.Op(c.log ? "LogSoftmax" : "Softmax", {b.Input("x", c.s)});
    if (c.axis != 99) n.Int("axis", c.axis);
    b.Output(n);
    const int64_t rank = c.s.size();
    const int64_t axis = c.axis == 99 ? (c.opset >= 13 ? rank - 1 : 1) : c.axis;
    int64_t outer = 1, mid = 1, inner = 1;
    for (int64_t i = 0; i < rank; ++i)
      (i < axis ? outer : i == axis || c.opset < 13 ? mid : inner) *= c.s[i];
    ExpectAllVariants(b, {{"x", x}}, {RefSoftmax(x, outer, mid, inner, c.log)}, true, 1e-5, 1e-4);
  }
}

// ---------------------------------------------------------------- LRN
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

// ---------------------------------------------------------------- Transpose, Slice, Gather
TEST(OpsDataMovement, Transpose) {
  std::mt19937 rng(23);
  const std::vector<std::pair<Shape, std::vector<int64_t>>> cases = {
      {{2, 3, 4, 5}, {0, 2, 3, 1}},
      {{2, 3, 4, 5}, {0, 3, 1, 2}},
      {{2, 3, 4, 5}, {3, 2, 1, 0}},
      {{3, 4, 5}, {}},
      {{6, 7}, {1, 0}},
      {{2, 3, 4, 5}, {1, 0, 2, 3}},
  };
  for (const auto& [s, perm] : cases) {
    SCOPED_TRACE(absl::StrCat(ir::ShapeString(s), " perm ", ir::ShapeString(perm)));
    GraphBuilder b;
    const Tensor x = RandomTensor(s, rng);
    auto n = b.Op("Transpose", {b.Input("x", s)});
    std::vector<int64_t> p = perm;
    if (p.empty())
      for (int64_t i = s.size() - 1; i >= 0; --i) p.push_back(i);
    else
      n.Ints("perm", perm);
    b.Output(n);
    ExpectAllVariants(b, {{"x", x}}, {RefTranspose(x, p)});
  }
}

TEST(OpsDataMovement, SliceStartsEndsAxesSteps) {
  std::mt19937 rng(24);
  struct Case {
    int opset;
    Shape s;
    std::vector<int64_t> starts, ends, axes, steps;
  };
  const std::vector<Case> cases = {
      {13, {2, 5, 6, 7}, {1, 2}, {4, -1}, {1, 3}, {}},
      {13, {2, 5, 6, 7}, {0}, {INT64_MAX}, {2}, {2}},
      {13, {3, 8}, {-1}, {-100}, {1}, {-1}},
      {13, {2, 5, 6, 7}, {4, 5}, {0, 1}, {1, 2}, {-2, -1}},
      {13, {4, 5, 6}, {1, 0, 2}, {3, 5, 100}, {}, {1, 3, 1}},
      {13, {2, 5, 6, 7}, {1}, {2}, {0}, {}},
      {9, {3, 4, 5}, {0, 1}, {2, -1}, {0, 2}, {}},
      {13, {2, 3, 4, 5}, {-3}, {-1}, {-1}, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat("opset ", c.opset, " ", ir::ShapeString(c.s), " starts ",
                              ir::ShapeString(c.starts)));
    GraphBuilder b(c.opset);
    const Tensor x = RandomTensor(c.s, rng);
    std::string in = b.Input("x", c.s);
    auto ints = [&](const char* n, const std::vector<int64_t>& v) {
      return b.InitInts(n, {int64_t(v.size())}, v);
    };
    if (c.opset >= 10) {
      std::vector<std::string> ins = {in, ints("starts", c.starts), ints("ends", c.ends)};
      if (!c.axes.empty() || !c.steps.empty())
        ins.push_back(c.axes.empty() ? "" : ints("axes", c.axes));
      if (!c.steps.empty()) ins.push_back(ints("steps", c.steps));
      b.Output(b.Op("Slice", ins));
    } else {
      b.Output(
          b.Op("Slice", {in}).Ints("starts", c.starts).Ints("ends", c.ends).Ints("axes", c.axes));
    }
    // Per axis: the source indices taken, per ONNX clamping rules.
    std::vector<std::vector<int64_t>> take(c.s.size());
    for (size_t d = 0; d < c.s.size(); ++d)
      for (int64_t i = 0; i < c.s[d]; ++i) take[d].push_back(i);
    for (size_t i = 0; i < c.starts.size(); ++i) {
      const int64_t rank = c.s.size();
      const int64_t a = c.axes.empty() ? i : (c.axes[i] + rank) % rank, dim = c.s[a];
      const int64_t step = c.steps.empty() ? 1 : c.steps[i];
      int64_t st = c.starts[i] < 0 ? c.starts[i] + dim : c.starts[i];
      int64_t en = c.ends[i] < 0 ? c.ends[i] + dim : c.ends[i];
      st = step > 0 ? std::clamp<int64_t>(st, 0, dim) : std::clamp<int64_t>(st, 0, dim - 1);
      en = step > 0 ? std::clamp<int64_t>(en, 0, dim) : std::clamp<int64_t>(en, -1, dim - 1);
      take[a].clear();
      for (int64_t j = st; step > 0 ? j < en : j > en; j += step) take[a].push_back(j);
    }
    Shape out;
    for (const auto& t : take) out.push_back(t.size());
    Tensor want(out);
    const auto st = Strides(c.s);
    int64_t k = 0;
    ForEachIndex(out, [&](const Shape& idx) {
      int64_t off = 0;
      for (size_t d = 0; d < idx.size(); ++d) off += take[d][idx[d]] * st[d];
      want.values()[k++] = x.values()[off];
    });
    ExpectAllVariants(b, {{"x", x}}, {want});
  }
}

TEST(OpsDataMovement, GatherConstantIndices) {
  std::mt19937 rng(25);
  struct Case {
    Shape s;
    int64_t axis;
    Shape is;
    std::vector<int64_t> idx;
  };
  const std::vector<Case> cases = {
      {{5, 4}, 0, {3}, {4, 0, -1}},
      {{2, 6, 3, 3}, 1, {2}, {5, 1}},
      {{2, 6, 3, 3}, 1, {}, {-2}},
      {{3, 4, 5}, -1, {2, 2}, {0, 4, 1, 1}},
      {{7}, 0, {}, {3}},
      {{2, 3, 4, 5}, 0, {1}, {1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(
        absl::StrCat(ir::ShapeString(c.s), " axis ", c.axis, " idx ", ir::ShapeString(c.idx)));
    GraphBuilder b;
    const Tensor x = RandomTensor(c.s, rng);
    b.Output(b.Op("Gather", {b.Input("x", c.s), b.InitInts("i", c.is, c.idx)}).Int("axis", c.axis));
    const int64_t rank = c.s.size(), axis = c.axis < 0 ? c.axis + rank : c.axis;
    Shape out(c.s.begin(), c.s.begin() + axis);
    out.insert(out.end(), c.is.begin(), c.is.end());
    out.insert(out.end(), c.s.begin() + axis + 1, c.s.end());
    const int64_t outer =
        std::accumulate(c.s.begin(), c.s.begin() + axis, int64_t{1}, std::multiplies<>());
    const int64_t inner = x.num_elements() / outer / c.s[axis];
    Tensor want(out);
    int64_t k = 0;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i : c.idx)
        for (int64_t j = 0; j < inner; ++j)
          want.values()[k++] =
              x.values()[(o * c.s[axis] + (i < 0 ? i + c.s[axis] : i)) * inner + j];
    ExpectAllVariants(b, {{"x", x}}, {want});
  }
}

}  // namespace
}  // namespace onnxrun::test
