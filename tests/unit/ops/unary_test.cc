// Tests for ops/unary.cc: Relu, and Clip in its opset-6 (attributes) and opset-11+ (optional
// inputs) forms, through the real loader and Session on seeded random shapes. ExpectAllVariants
// runs each case under all eight combinations of optimize / concat_in_place / in_place; the
// variants agree bitwise unless a case says otherwise.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/support/graph_builder.h"

namespace onnxrun::test {
namespace {

using Shape = std::vector<int64_t>;

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
