// Node workspaces (OpDef::workspace): the planner gives a node that declares scratch a buffer live
// at its step only, placed like any tensor (no overlap with tensors live then), sized for the
// plan's thread count; the executor refuses a plan sized for another pool.
#include <gtest/gtest.h>
#include <pthreadpool.h>

#include <random>

#include "ops/kernels/conv_gemm.h"
#include "ops/op.h"
#include "runtime/exec/executor.h"
#include "tests/unit/support/graph_builder.h"

namespace onnxrun::test {
namespace {

struct Planned {
  ir::Graph g;
  MemoryPlan plan;
};

Planned Plan(const GraphBuilder& b, int threads, bool optimize = false) {
  Planned p;
  auto g = PrepareGraph(b);
  EXPECT_TRUE(g.ok()) << g.status();
  if (!g.ok()) return p;
  p.g = std::move(*g);
  MemoryPlanOptions options;
  options.threads = threads;
  auto plan = PlanGraph(p.g, optimize, options);
  EXPECT_TRUE(plan.ok()) << plan.status();
  if (plan.ok()) p.plan = std::move(*plan);
  return p;
}

// The node's workspace is one buffer of `bytes`, live at its step only, inside the arena and
// clear of every buffer live at that step.
void ExpectWorkspace(const Planned& p, const std::string& node, int64_t bytes) {
  SCOPED_TRACE(node);
  const int i = NodeIndex(p.g, node);
  ASSERT_GE(i, 0);
  const int w = p.plan.workspace[i];
  ASSERT_GE(w, 0) << "no workspace";
  const BufferRequest& r = p.plan.buffers[w];
  EXPECT_EQ(r.size, bytes);
  EXPECT_EQ(r.first_use, i + 1);
  EXPECT_EQ(r.last_use, i + 1);
  const int64_t at = p.plan.arena.offsets[w];
  EXPECT_EQ(at % 64, 0);
  EXPECT_LE(at + r.size, p.plan.arena.total_bytes);
  for (size_t k = 0; k < p.plan.buffers.size(); ++k) {
    const BufferRequest& o = p.plan.buffers[k];
    if (static_cast<int>(k) == w || o.size == 0 || o.last_use < i + 1 || o.first_use > i + 1)
      continue;
    const int64_t ok = p.plan.arena.offsets[k];
    EXPECT_TRUE(ok + o.size <= at || at + r.size <= ok) << "overlaps buffer " << k;
  }
  EXPECT_TRUE(VerifyArenaPlan(p.plan.buffers, p.plan.arena).ok());
  EXPECT_GE(p.plan.report.workspace_bytes, bytes);
}

int Workspaces(const Planned& p) {
  int n = 0;
  for (int w : p.plan.workspace) n += w >= 0;
  return n;
}

TEST(WorkspaceTest, GenericGemmTransposes) {
  GraphBuilder b;
  std::mt19937 rng(1);
  const std::string a = b.Input("a", {6, 4});  // A^T: [k, m] with k = 6, m = 4
  const std::string x = b.Op("Relu", {a}, 1, "pre");
  const std::string w = b.Weight("w", {5, 6}, rng);  // B^T: [n, k]
  const std::string y = b.Op("Gemm", {x, w}, 1, "gemm").Int("transA", 1).Int("transB", 1);
  b.Output(b.Op("Relu", {y}, 1, "post"));
  const Planned p = Plan(b, 1);
  // A^T and B^T copies, each rounded up to whole 64-byte lines: 24 -> 32 and 30 -> 32 floats.
  ExpectWorkspace(p, "gemm", (32 + 32) * 4);
  EXPECT_EQ(Workspaces(p), 1);
  EXPECT_EQ(p.plan.report.workspace_bytes, (32 + 32) * 4);
  EXPECT_GE(p.plan.report.lower_bound_bytes, (32 + 32) * 4 + (24 + 20) * 4);
}

TEST(WorkspaceTest, FullyConnectedGemmNeedsNone) {
  GraphBuilder b;
  std::mt19937 rng(2);
  const std::string w = b.Weight("w", {5, 6}, rng);
  b.Output(b.Op("Gemm", {b.Input("a", {4, 6}), w}, 1, "gemm").Int("transB", 1));
  const Planned p = Plan(b, 1);
  EXPECT_EQ(Workspaces(p), 0);
  EXPECT_EQ(p.plan.report.workspace_bytes, 0);
}

TEST(WorkspaceTest, RowMajorCopiesOfImageOperands) {
  // Softmax over H of an NHWC image runs on row-major copies of its input and output.
  GraphBuilder b;
  const std::string x = b.Op("Relu", {b.Input("x", {1, 3, 5, 7})}, 1, "pre");
  const std::string y = b.Op("Softmax", {x}, 1, "softmax").Int("axis", 2);
  b.Output(b.Op("Relu", {y}, 1, "post"));
  const Planned p = Plan(b, 1);
  ExpectWorkspace(p, "softmax", 2 * 112 * 4);  // 105 floats -> 112, input and output
  EXPECT_EQ(Workspaces(p), 1);
}

TEST(WorkspaceTest, XnnpackSoftmaxAndViewsNeedNone) {
  GraphBuilder b;
  const std::string x = b.Op("Relu", {b.Input("x", {1, 3, 5, 7})}, 1, "pre");
  b.Output(b.Op("Softmax", {x}, 1, "softmax").Int("axis", 1));  // over channels: XNNPACK
  const std::string m = b.Op("Relu", {b.Input("m", {4, 6})}, 1, "pre2");
  const std::string r = b.Op("Reshape", {m, b.InitInts("shape", {2}, {6, 4})}, 1, "reshape");
  b.Output(b.Op("Relu", {r}, 1, "post"));
  const Planned p = Plan(b, 1);
  EXPECT_TRUE(p.plan.node_is_noop[NodeIndex(p.g, "reshape")]);
  EXPECT_EQ(Workspaces(p), 0);
}

TEST(WorkspaceTest, LayoutChangingFlattenCopies) {
  // Flatten of an NHWC image is not a view: it runs on a row-major copy of its input.
  GraphBuilder b;
  const std::string x = b.Op("Relu", {b.Input("x", {1, 3, 5, 7})}, 1, "pre");
  b.Output(b.Op("Relu", {b.Op("Flatten", {x}, 1, "flatten")}, 1, "post"));
  ExpectWorkspace(Plan(b, 1), "flatten", 112 * 4);
}

// A 1x1 conv 32 -> 64 (+ Relu) on an hw x hw image, in the packed mode (a pack slot per thread):
// its scratch at 1 and 4 threads as ConvGemm sizes it, checked to be what the plan gives the conv.
void PlannedPointwiseScratch(int64_t hw, int64_t* one, int64_t* four) {
  GraphBuilder b;
  std::mt19937 rng(3);
  const std::string w = b.Weight("w", {64, 32, 1, 1}, rng);
  const std::string y = b.Op("Conv", {b.Input("x", {1, 32, hw, hw}), w}, 1, "conv");
  b.Output(b.Op("Relu", {y}, 1, "post"));
  kernels::ConvGemmParams cp;
  cp.in_c = 32, cp.in_h = cp.in_w = hw, cp.out_c = 64, cp.out_h = cp.out_w = hw;
  ASSERT_EQ(kernels::ConvGemm::ResolveMode(cp), kernels::ConvGemmMode::kPacked);
  *one = kernels::ConvGemm::ScratchFloats(cp, 1) * 4;
  *four = kernels::ConvGemm::ScratchFloats(cp, 4) * 4;
  ExpectWorkspace(Plan(b, 1), "conv", *one);
  ExpectWorkspace(Plan(b, 4), "conv", *four);
}

TEST(WorkspaceTest, ConvGemmScratchFollowsThreads) {
  if (!kernels::ConvGemm::Supported()) GTEST_SKIP() << "no AVX-512F";
  // 28x28: with more threads the tasks (and the A block a slot holds) are smaller, so the scratch
  // differs, and the plan sizes it per count.
  int64_t one = 0, four = 0;
  PlannedPointwiseScratch(28, &one, &four);
  EXPECT_NE(four, one);
}

TEST(WorkspaceTest, ConvGemmScratchGrowsWithThreadsWhenTasksCannotShrink) {
  if (!kernels::ConvGemm::Supported()) GTEST_SKIP() << "no AVX-512F";
  // 3x3 pixels: one M tile, so every task holds the same A block and each thread needs its own
  // pack slot of the same size: 4 threads take exactly 4 times one thread's scratch.
  int64_t one = 0, four = 0;
  PlannedPointwiseScratch(3, &one, &four);
  EXPECT_GT(one, 0);
  EXPECT_EQ(four, 4 * one);
}

TEST(WorkspaceTest, WorkspacesShareTheArenaWithDeadTensors) {
  // Two generic Gemms in a chain: each workspace lives at its own step, so they may share memory
  // with each other and with tensors already dead; the plan stays valid.
  GraphBuilder b;
  std::mt19937 rng(4);
  std::string x = b.Input("a", {16, 16});
  for (int i = 0; i < 3; ++i) {
    const std::string w = b.Weight(absl::StrCat("w", i), {16, 16}, rng);
    x = b.Op("Gemm", {b.Op("Relu", {x}), w}, 1, absl::StrCat("gemm", i))
            .Int("transA", 1)
            .Int("transB", 1);
  }
  b.Output(x);
  const Planned p = Plan(b, 1);
  for (int i = 0; i < 3; ++i) ExpectWorkspace(p, absl::StrCat("gemm", i), 2 * 256 * 4);
  EXPECT_EQ(p.plan.report.workspace_bytes, 2 * 256 * 4);
  // The arena is far below the sum of every buffer: workspaces reuse memory.
  EXPECT_LT(p.plan.arena.total_bytes, p.plan.report.naive_bytes);
}

TEST(WorkspaceTest, OutputsMatchAcrossThreadCounts) {
  // Row-major copies, generic Gemm transposes and (with AVX-512) the conv's pack slots all come
  // from the arena; results agree bitwise between 1 and 3 threads.
  GraphBuilder b;
  std::mt19937 rng(5);
  const std::string w = b.Weight("w", {32, 16, 3, 3}, rng);
  std::string c =
      b.Op("Conv", {b.Input("x", {1, 16, 20, 20}), w}, 1, "conv").Ints("pads", {1, 1, 1, 1});
  c = b.Op("Softmax", {c}, 1, "softmax").Int("axis", 3);
  c = b.Op("Flatten", {c}, 1, "flatten").Int("axis", 2);  // [1 * 32, 400], row-major copy
  const std::string g = b.Weight("g", {10, 32}, rng);
  b.Output(b.Op("Gemm", {c, g}, 1, "gemm").Int("transA", 1).Int("transB", 1).Float("alpha", 0.5f));
  const Feeds feeds = {{"x", RandomTensor({1, 16, 20, 20}, rng)}};
  SessionOptions one, three;
  three.num_threads = 3;
  auto a = RunModel(b, one, feeds);
  auto z = RunModel(b, three, feeds);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(z.ok()) << z.status();
  EXPECT_TRUE(BitwiseEqual((*a)[0], (*z)[0]));
}

TEST(WorkspaceTest, ExecutorRefusesAPlanForAnotherThreadCount) {
  GraphBuilder b;
  b.Output(b.Op("Relu", {b.Input("x", {2, 3})}));
  Planned p = Plan(b, 1);
  pthreadpool_t pool = pthreadpool_create(2);
  ASSERT_NE(pool, nullptr);
  auto ex = Executor::Create(p.g, p.plan, pool);
  EXPECT_FALSE(ex.ok());
  EXPECT_NE(ex.status().message().find("threads"), std::string::npos) << ex.status();
  pthreadpool_destroy(pool);
}

}  // namespace
}  // namespace onnxrun::test
