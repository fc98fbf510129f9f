// Helpers of the optimizer pass tests: a prepared graph, one pass run as the pipeline reaches it,
// and the check that a pass leaves a guarded graph alone.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "runtime/optimize/pass.h"
#include "tests/unit/graph_builder.h"

namespace onnxrun::test {

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

// Random values for every graph input of a prepared graph.
inline Feeds FeedsOf(const ir::Graph& g, std::mt19937& rng, float lo = -1.f, float hi = 1.f) {
  Feeds feeds;
  for (int id : g.inputs)
    feeds.push_back({g.value(id).name, RandomTensor(g.value(id).shape, rng, lo, hi)});
  return feeds;
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
    ExpectOptimizeKeepsNumerics(b, FeedsOf(g, rng, lo, hi));
  }
}

}  // namespace onnxrun::test
