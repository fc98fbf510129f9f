// Tests for ops/reshape.cc: the views Flatten, Reshape, Squeeze, Unsqueeze, through the real loader
// and Session against naive NCHW references (tests/unit/support/reference_ops.h) on seeded random
// shapes. ExpectAllVariants runs each case under all eight combinations of optimize /
// concat_in_place / in_place; the variants agree bitwise unless a case says otherwise.
#include <gtest/gtest.h>

#include <algorithm>
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

}  // namespace
}  // namespace onnxrun::test
