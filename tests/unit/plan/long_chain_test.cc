// The planner on long chains of elementwise ops (issue 11): every in-place op joins one alias
// chain, so lookups along the chain must not rescan it. A 20,000-node chain used to take minutes
// (cubic); it now plans in milliseconds. No timing here: the test checks the chain plans completely
// and to one buffer, and the ctest timeout bounds the rest.
#include <gtest/gtest.h>

#include "tests/unit/support/graph_builder.h"

namespace onnxrun::test {
namespace {

TEST(MemoryPlanLongChain, TwentyThousandInPlaceOpsShareOneBuffer) {
  constexpr int kNodes = 20000;
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 4, 8, 8});
  std::string h = x;
  for (int i = 0; i < kNodes; ++i) {
    if (i % 3 == 2)
      h = b.Op("Add", {h, x});  // x stays live to the end: the chain must not write over it
    else
      h = b.Op(i % 3 == 0 ? "Relu" : "Sigmoid", {h});
  }
  b.Output(h);
  auto g = PrepareGraph(b);
  ASSERT_TRUE(g.ok()) << g.status();
  auto plan = PlanGraph(*g, /*optimize=*/false, MemoryPlanOptions{true, true});
  ASSERT_TRUE(plan.ok()) << plan.status();
  // x, and one buffer the whole chain writes over.
  EXPECT_EQ(plan->buffers.size(), 2u);
  EXPECT_EQ(plan->report.arena_bytes, 2 * 256 * 4);
  EXPECT_EQ(plan->values[g->outputs[0]].buffer, plan->values[g->nodes[0].outputs[0]].buffer);
}

}  // namespace
}  // namespace onnxrun::test
