// Helpers of the optimizer pass tests (tests/unit/optimize/<pass>_test.cc): a prepared graph, one
// pass run as the pipeline reaches it, the check that a pass leaves a guarded graph alone, and the
// small blocks the tests build from.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "runtime/optimize/pass.h"
#include "tests/unit/support/graph_builder.h"

namespace onnxrun::test {

using Histogram = std::map<std::string, int>;
using Shape = std::vector<int64_t>;

const Shape kImage = {2, 3, 6, 5};

// An inference BatchNormalization of c channels with random statistics (variance in [0.5, 2)).
inline std::string BatchNorm(GraphBuilder& b, std::mt19937& rng, const std::string& in, int64_t c) {
  const std::string k = absl::StrCat("bn", b.model().graph().initializer_size());
  return b.Op("BatchNormalization",
              {in, b.Weight(k + "s", {c}, rng, 0.5f, 1.5f), b.Weight(k + "t", {c}, rng),
               b.Weight(k + "m", {c}, rng), b.Weight(k + "v", {c}, rng, 0.5f, 2.f)});
}

inline ir::Graph Prepared(const GraphBuilder& b) {
  auto g = PrepareGraph(b);
  EXPECT_TRUE(g.ok()) << g.status();
  return g.ok() ? std::move(*g) : ir::Graph();
}

// Runs one pass as the pipeline would reach it -- kernels selected first, as the fuse phase
// expects -- and verifies the graph after it; returns the pass's rewrite count.
inline absl::StatusOr<int> RunPass(ir::Graph& g, PassFn pass) {
  auto selected = SelectKernels(g);
  if (!selected.ok()) return selected.status();
  auto n = pass(g, PassContext{});
  if (!n.ok()) return n;
  absl::Status s = g.Verify();
  if (!s.ok()) return s;
  return n;
}

// A graph a pass must leave alone: no rewrite, the same op histogram, the same numerics.
struct GuardCase {
  std::string name;
  std::function<void(GraphBuilder&)> build;
};
inline void ExpectGuardsStop(const std::vector<GuardCase>& cases, PassFn pass, std::mt19937& rng,
                             float lo = -1.f, float hi = 1.f) {
  for (const GuardCase& c : cases) {
    SCOPED_TRACE(c.name);
    GraphBuilder b;
    c.build(b);
    ir::Graph g = Prepared(b);
    const std::map<std::string, int> before = g.OpHistogram();
    EXPECT_EQ(*RunPass(g, pass), 0);
    EXPECT_EQ(g.OpHistogram(), before);
    ExpectOptimizeKeepsNumerics(b, RandomFeeds(b, rng, lo, hi));
  }
}

}  // namespace onnxrun::test
