// Tests for ops/concat.cc: Concat along channels and other axes, through the real loader and
// Session against naive NCHW references (tests/unit/support/reference_ops.h) on seeded random
// shapes. ExpectAllVariants runs each case under all eight combinations of optimize /
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

using Shape = std::vector<int64_t>;
using namespace reference;  // NOLINT: the references read best unqualified

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

}  // namespace
}  // namespace onnxrun::test
