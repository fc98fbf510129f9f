// ops/unary.cc: activations through a session (Relu/Clip forms), and every op of the unary table
// lowered on channel slices and in place, folded, fused, and refused on bad attributes.
#include <gtest/gtest.h>
#include <xnnpack.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "ops/op.h"
#include "tests/unit/support/graph_builder.h"

namespace onnxrun::test {
namespace {

using Shape = std::vector<int64_t>;

// NaN and infinities as ONNX Runtime 1.30 computes them (checked with onnxruntime-node on the same
// inputs): NaN stays NaN (XNNPACK's clamp and maximum/minimum turned it into the bound or the
// other operand). Each op runs alone (no producer to fuse into), optimized or not.
void ExpectNanCases(const std::string& op, const std::vector<float>& want,
                    const std::function<std::string(GraphBuilder&, const std::string&)>& build) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = INFINITY;
  const Tensor x({1, 6}, {nan, inf, -inf, -0.f, 1.5f, -2.f});
  for (const bool optimize : {true, false}) {
    SCOPED_TRACE(absl::StrCat(op, optimize ? " optimized" : " unoptimized"));
    GraphBuilder b(13);
    b.Output(build(b, b.Input("x", {1, 6})));
    SessionOptions options;
    options.optimize = optimize;
    auto out = RunModel(b, options, {{"x", x}});
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ(out->at(0).values().size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      const float got = out->at(0).values()[i];
      if (std::isnan(want[i]))
        EXPECT_TRUE(std::isnan(got)) << "element " << i << ": " << got;
      else if (std::isinf(want[i]))
        EXPECT_EQ(got, want[i]) << "element " << i;
      else
        EXPECT_NEAR(got, want[i], 1e-6f) << "element " << i;
    }
  }
}

TEST(OpsActivation, NanAndInfinitiesAsOnnxRuntime) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = INFINITY;
  ExpectNanCases("Relu", {nan, inf, 0, 0, 1.5f, 0},
                 [](GraphBuilder& b, const std::string& x) { return b.Op("Relu", {x}); });
  ExpectNanCases("Clip", {nan, 6, 0, 0, 1.5f, 0}, [](GraphBuilder& b, const std::string& x) {
    return b.Op("Clip", {x, b.Init("lo", {}, {0.f}), b.Init("hi", {}, {6.f})});
  });
  ExpectNanCases("Tanh", {nan, 1, -1, 0, std::tanh(1.5f), std::tanh(-2.f)},
                 [](GraphBuilder& b, const std::string& x) { return b.Op("Tanh", {x}); });
  ExpectNanCases("Sigmoid", {nan, 1, 0, 0.5f, 1 / (1 + std::exp(-1.5f)), 1 / (1 + std::exp(2.f))},
                 [](GraphBuilder& b, const std::string& x) { return b.Op("Sigmoid", {x}); });
  ExpectNanCases("Max", {nan, inf, 0, 0, 1.5f, 0}, [](GraphBuilder& b, const std::string& x) {
    return b.Op("Max", {x, b.Init("zero", {1, 6}, std::vector<float>(6, 0.f))});
  });
  ExpectNanCases("Min", {nan, 0, -inf, 0, 0, -2}, [](GraphBuilder& b, const std::string& x) {
    return b.Op("Min", {b.Init("zero", {1, 6}, std::vector<float>(6, 0.f)), x});
  });
}

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

}  // namespace
}  // namespace onnxrun::test

namespace onnxrun {
namespace {

struct Case {
  const char* op;
  float lo, hi;  // input range
  std::vector<std::pair<const char*, float>> attrs;
  double (*ref)(double v);  // with the attributes above (or the defaults)
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"Relu", -3, 3, {}, [](double v) { return std::max(v, 0.0); }},
      {"Sigmoid", -8, 8, {}, [](double v) { return 1 / (1 + std::exp(-v)); }},
      {"Tanh", -5, 5, {}, [](double v) { return std::tanh(v); }},
      {"HardSigmoid",
       -6,
       6,
       {{"alpha", 0.3f}},
       [](double v) { return std::clamp(0.3 * v + 0.5, 0.0, 1.0); }},
      {"HardSwish", -5, 5, {}, [](double v) { return v * std::clamp(v / 6 + 0.5, 0.0, 1.0); }},
      {"LeakyRelu", -3, 3, {}, [](double v) { return v >= 0 ? v : 0.01 * v; }},
      {"Elu", -3, 3, {{"alpha", 0.5f}}, [](double v) { return v >= 0 ? v : 0.5 * std::expm1(v); }},
      {"Selu",
       -3,
       3,
       {},
       [](double v) {
         return 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * std::expm1(v));
       }},
      {"Softplus", -5, 5, {}, [](double v) { return std::log1p(std::exp(v)); }},
      {"Softsign", -5, 5, {}, [](double v) { return v / (1 + std::fabs(v)); }},
      {"Exp", -3, 3, {}, [](double v) { return std::exp(v); }},
      {"Log", 0.1f, 5, {}, [](double v) { return std::log(v); }},
      {"Sqrt", 0.1f, 5, {}, [](double v) { return std::sqrt(v); }},
      {"Abs", -3, 3, {}, [](double v) { return std::fabs(v); }},
      {"Neg", -3, 3, {}, [](double v) { return -v; }},
      {"Reciprocal", 0.5f, 4, {}, [](double v) { return 1 / v; }},
      {"Floor", -3, 3, {}, [](double v) { return std::floor(v); }},
      {"Ceil", -3, 3, {}, [](double v) { return std::ceil(v); }},
      {"Erf", -3, 3, {}, [](double v) { return std::erf(v); }},
      {"Sin", -3, 3, {}, [](double v) { return std::sin(v); }},
      {"Cos", -3, 3, {}, [](double v) { return std::cos(v); }},
      {"Tan", -1, 1, {}, [](double v) { return std::tan(v); }},
      {"Asin", -0.9f, 0.9f, {}, [](double v) { return std::asin(v); }},
      {"Acos", -0.9f, 0.9f, {}, [](double v) { return std::acos(v); }},
      {"Atan", -3, 3, {}, [](double v) { return std::atan(v); }},
      {"Sinh", -3, 3, {}, [](double v) { return std::sinh(v); }},
      {"Cosh", -3, 3, {}, [](double v) { return std::cosh(v); }},
      {"Asinh", -3, 3, {}, [](double v) { return std::asinh(v); }},
      {"Acosh", 1.1f, 4, {}, [](double v) { return std::acosh(v); }},
      {"Atanh", -0.9f, 0.9f, {}, [](double v) { return std::atanh(v); }},
      {"Sign", -3, 3, {}, [](double v) { return v > 0   ? 1.0
                                                : v < 0 ? -1.0
                                                        : 0.0; }},
      {"Round", -3, 3, {}, [](double v) { return std::nearbyint(v); }},
      {"ThresholdedRelu", -3, 3, {{"alpha", 0.5f}}, [](double v) { return v > 0.5 ? v : 0.0; }},
      {"Shrink",
       -3,
       3,
       {{"lambd", 1.f}, {"bias", 0.25f}},
       [](double v) { return v < -1  ? v + 0.25
                             : v > 1 ? v - 0.25
                                     : 0.0; }},
      {"Celu",
       -3,
       3,
       {{"alpha", 2.f}},
       [](double v) { return std::max(0.0, v) + std::min(0.0, 2 * std::expm1(v / 2)); }},
      {"Clip",
       -3,
       3,
       {{"min", -0.5f}, {"max", 1.5f}},  // opset 6: bounds are attributes
       [](double v) { return std::clamp(v, -0.5, 1.5); }},
  };
  return cases;
}

void ExpectNear(float got, double want, const std::string& what) {
  ASSERT_NEAR(got, want, 2e-5 * std::max(1.0, std::fabs(want))) << what;
}

// x: [N, C, H, W] as one node; its NHWC buffers have pixel strides xs and ys.
struct OneNode {
  ir::Graph g;
  ir::Node* n = nullptr;
  OneNode(const Case& c, ir::Shape shape) {
    g.opset = std::string(c.op) == "Clip" ? 6 : 13;
    ir::Value x{.name = "x", .shape = shape, .shape_known = true};
    ir::Value y{.name = "y"};
    g.nodes.emplace_back();
    n = &g.nodes.back();
    n->name = "n";
    n->op = c.op;
    n->inputs = {g.AddValue(x)};
    n->outputs = {g.AddValue(y)};
    for (const auto& [name, v] : c.attrs) {
      ir::Attribute a;
      a.kind = ir::Attribute::Kind::kFloat;
      a.f = v;
      n->attrs[name] = a;
    }
  }
};

TEST(OpsUnary, EveryOpLoweredOnChannelSlicesAndInPlace) {
  ASSERT_EQ(xnn_initialize(nullptr), xnn_status_success);
  std::mt19937 rng(3);
  const int64_t N = 2, C = 19, H = 3, W = 5;
  const size_t pixels = N * H * W;
  for (const Case& c : Cases()) {
    OneNode t(c, {N, C, H, W});
    const OpDef* def = FindOp("", c.op);
    ASSERT_NE(def, nullptr) << c.op;
    ASSERT_TRUE(def->infer(t.g, *t.n).ok()) << c.op;
    ASSERT_EQ(t.g.value(t.n->outputs[0]).shape, (ir::Shape{N, C, H, W})) << c.op;
    std::uniform_real_distribution<float> d(c.lo, c.hi);
    for (const bool in_place : {false, true}) {
      const size_t xs = C + 4, ys = in_place ? xs : C + 2;
      std::vector<float> x(pixels * xs);
      for (float& v : x) v = d(rng);
      std::vector<float> y = in_place ? x : std::vector<float>(pixels * ys, 9.f);
      LowerContext ctx;
      ctx.graph = &t.g;
      ctx.node = t.n;
      ctx.in = {{in_place ? y.data() : x.data(), static_cast<int64_t>(xs)}};
      ctx.out = {{y.data(), static_cast<int64_t>(ys)}};
      auto kernel = def->lower(ctx);
      ASSERT_TRUE(kernel.ok()) << c.op << ": " << kernel.status();
      ASSERT_TRUE((*kernel)->Run(nullptr).ok()) << c.op;
      for (size_t p = 0; p < pixels; ++p)
        for (size_t k = 0; k < ys; ++k) {
          if (k < size_t(C))
            ExpectNear(y[p * ys + k], c.ref(x[p * xs + k]), c.op);
          else if (!in_place)
            ASSERT_EQ(y[p * ys + k], 9.f) << c.op << ": wrote past the channels";
        }
    }
  }
}

TEST(OpsUnary, EveryOpFolds) {
  std::mt19937 rng(4);
  for (const Case& c : Cases()) {
    OneNode t(c, {37});
    std::uniform_real_distribution<float> d(c.lo, c.hi);
    std::vector<float> x(37);
    for (float& v : x) v = d(rng);
    t.g.value(t.n->inputs[0]).constant = std::make_shared<ir::Tensor>(ir::Shape{37}, x);
    const OpDef* def = FindOp("", c.op);
    ASSERT_TRUE(def->infer(t.g, *t.n).ok()) << c.op;
    std::vector<ir::Tensor> out;
    ASSERT_TRUE(def->fold(t.g, *t.n, &out).ok()) << c.op;
    ASSERT_EQ(out.size(), 1u);
    for (size_t i = 0; i < x.size(); ++i) ExpectNear(out[0].data()[i], c.ref(x[i]), c.op);
  }
}

// Conv/Gemm apply these after their output (kCapPointwiseActivation); Relu and Clip fuse as the
// producer's clamp instead (runtime/optimize/fuse_activation.cc), the rest not at all.
TEST(OpsUnary, PointwiseActivations) {
  const std::vector<std::string> fusable = {"Sigmoid",   "Tanh",      "HardSigmoid",
                                            "HardSwish", "LeakyRelu", "Elu"};
  for (const Case& c : Cases()) {
    OneNode t(c, {1, 4, 2, 2});
    const uint32_t caps = CapsOf(t.g, *t.n);
    EXPECT_EQ((caps & kCapPointwiseActivation) != 0,
              std::find(fusable.begin(), fusable.end(), c.op) != fusable.end())
        << c.op;
    EXPECT_EQ(caps & (kCapStridedInput | kCapStridedOutput | kCapInPlace),
              kCapStridedInput | kCapStridedOutput | kCapInPlace)
        << c.op;
  }
}

TEST(OpsUnary, BadAttributesRefused) {
  Case celu = {"Celu", 0, 1, {{"alpha", 0.f}}, nullptr};
  OneNode t(celu, {4});
  EXPECT_FALSE(FindOp("", "Celu")->infer(t.g, *t.n).ok());
}

}  // namespace
}  // namespace onnxrun
