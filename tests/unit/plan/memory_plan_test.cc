// The aliasing memory planner (runtime/plan/memory_plan.h) on prepared graphs: lifetime tables,
// views, in-place elementwise ops, concat-in-place (flat and nested), copy fallbacks, and on random
// DAGs the no-overlap invariant plus bitwise-equal outputs with aliasing on and off.
#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "ops/op.h"
#include "tests/unit/support/graph_builder.h"

namespace onnxrun::test {
namespace {

using Shape = std::vector<int64_t>;

struct Planned {
  ir::Graph g;
  MemoryPlan plan;
  const ValuePlacement& at(const std::string& value) const {
    return plan.values[ValueId(g, value)];
  }
  int node(const std::string& name) const { return NodeIndex(g, name); }
  // The value a node writes (after fusion a node may write its activation's output).
  const ValuePlacement& out(const std::string& node_name) const {
    return plan.values[g.nodes[node(node_name)].outputs[0]];
  }
};

Planned Plan(const GraphBuilder& b, bool optimize, bool in_place, bool concat_in_place) {
  Planned p;
  auto g = PrepareGraph(b);
  EXPECT_TRUE(g.ok()) << g.status();
  if (!g.ok()) return p;
  p.g = std::move(*g);
  auto plan = PlanGraph(p.g, optimize, MemoryPlanOptions{in_place, concat_in_place});
  EXPECT_TRUE(plan.ok()) << plan.status();
  if (plan.ok()) p.plan = std::move(*plan);
  return p;
}

// Outputs of every aliasing variant must equal the no-aliasing run bitwise (same optimize setting).
void ExpectAliasingInvariant(const GraphBuilder& b, const Feeds& feeds) {
  for (bool optimize : {true, false}) {
    SessionOptions base;
    base.optimize = optimize;
    base.in_place = base.concat_in_place = false;
    auto want = RunModel(b, base, feeds);
    ASSERT_TRUE(want.ok()) << want.status();
    for (const SessionOptions& o : OptionVariants()) {
      if (o.optimize != optimize) continue;
      SCOPED_TRACE(VariantName(o));
      auto got = RunModel(b, o, feeds);
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_EQ(got->size(), want->size());
      for (size_t i = 0; i < got->size(); ++i)
        EXPECT_TRUE(BitwiseEqual((*got)[i], (*want)[i])) << "output " << i;
    }
  }
}

// ---------------------------------------------------------------- lifetimes
TEST(MemoryPlanLifetimes, ChainAndDiamondIntervalTables) {
  const Shape s = {1, 2, 3, 4};
  const int64_t bytes = 24 * 4;
  GraphBuilder chain;
  chain.Output(chain.Op("Tanh", {chain.Op("Sigmoid", {chain.Op("Relu", {chain.Input("x", s)})})}));
  // Steps: 0 = input conversion, node i at i + 1, outputs read at 4.
  Planned p = Plan(chain, false, /*in_place=*/false, false);
  ASSERT_EQ(p.plan.buffers.size(), 4u);
  const int want[4][2] = {{0, 1}, {1, 2}, {2, 3}, {3, 4}};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(p.plan.buffers[i].size, bytes);
    EXPECT_EQ(p.plan.buffers[i].first_use, want[i][0]) << i;
    EXPECT_EQ(p.plan.buffers[i].last_use, want[i][1]) << i;
  }
  EXPECT_EQ(p.plan.report.naive_bytes, 4 * bytes);
  EXPECT_EQ(p.plan.report.lower_bound_bytes, 2 * 128);  // two 96-byte buffers live, 64-aligned
  EXPECT_EQ(p.plan.report.arena_bytes, 2 * 128);        // ping-pong
  // In place: every unary op writes over its dying input -- one buffer for the whole chain.
  p = Plan(chain, false, /*in_place=*/true, false);
  ASSERT_EQ(p.plan.buffers.size(), 1u);
  EXPECT_EQ(p.plan.buffers[0].first_use, 0);
  EXPECT_EQ(p.plan.buffers[0].last_use, 4);
  EXPECT_EQ(p.plan.report.arena_bytes, 128);

  GraphBuilder diamond;
  const std::string x = diamond.Input("x", s);
  diamond.Output(diamond.Op("Add", {diamond.Op("Relu", {x}), diamond.Op("Sigmoid", {x})}));
  p = Plan(diamond, false, false, false);
  ASSERT_EQ(p.plan.buffers.size(), 4u);  // x, relu, sigmoid, add
  const int want2[4][2] = {{0, 2}, {1, 3}, {2, 3}, {3, 4}};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(p.plan.buffers[i].first_use, want2[i][0]) << i;
    EXPECT_EQ(p.plan.buffers[i].last_use, want2[i][1]) << i;
  }
  EXPECT_EQ(p.plan.report.lower_bound_bytes, 3 * 128);
  EXPECT_TRUE(VerifyArenaPlan(p.plan.buffers, p.plan.arena).ok());
}

// ---------------------------------------------------------------- views
TEST(MemoryPlanViews, FlattenOfPooledTensorSharesItsBuffer) {
  std::mt19937 rng(1);
  GraphBuilder b;
  auto gap = b.Op("GlobalAveragePool", {Conv(b, rng, b.Input("x", {2, 3, 5, 5}), 3, 6)}, 1, "gap");
  auto flat = b.Op("Flatten", {gap}, 1, "flat");
  auto wide = b.Op("Flatten", {b.Op("Relu", {gap})}, 1, "wide_flat");  // [2,6,1,1]: also a view
  b.Output(b.Op("Gemm", {flat, b.Weight("fc", {4, 6}, rng)}).Int("transB", 1));
  b.Output(wide);
  Planned p = Plan(b, false, true, true);
  EXPECT_TRUE(p.plan.node_is_noop[p.node("flat")]);
  EXPECT_EQ(p.out("flat").buffer, p.out("gap").buffer);
  EXPECT_EQ(p.out("flat").element_offset, 0);
  EXPECT_TRUE(p.plan.node_is_noop[p.node("wide_flat")]);
  Planned off = Plan(b, false, false, true);
  EXPECT_FALSE(off.plan.node_is_noop[off.node("flat")]);
  EXPECT_NE(off.out("flat").buffer, off.out("gap").buffer);
  ExpectAliasingInvariant(b, RandomFeeds(b, rng));
}

// An SE gate as a tf2onnx graph leaves it: the pooled [N,C,1,1] reshaped to [N,1,1,C] (a view: the
// NHWC order of both is the row-major one) scales an NHWC-shaped [N,H,W,C] tensor. The view steps
// by its own channels (1), not its buffer's (C): with C it read every C-th value.
TEST(MemoryPlanViews, ReshapeOfPooledTensorToUnitChannelsIsADenseView) {
  std::mt19937 rng(3);
  GraphBuilder b;
  const std::string x = b.Input("x", {2, 5, 4, 8});
  auto gap = b.Op("GlobalAveragePool", {b.Op("Transpose", {x}).Ints("perm", {0, 3, 1, 2})});
  auto gate = b.Op("Reshape", {gap, b.InitInts("shape", {4}, {2, 1, 1, 8})}, 1, "view");
  b.Output(b.Op("Mul", {x, b.Op("Sigmoid", {gate})}));
  Planned p = Plan(b, false, true, true);
  EXPECT_TRUE(p.plan.node_is_noop[p.node("view")]);
  EXPECT_EQ(p.out("view").pixel_stride, 1);
  ExpectAliasingInvariant(b, RandomFeeds(b, rng));
}

TEST(MemoryPlanViews, FlattenOfImageWithPixelsCopies) {
  std::mt19937 rng(2);
  GraphBuilder b;
  b.Output(b.Op("Flatten", {Conv(b, rng, b.Input("x", {2, 3, 4, 5}), 3, 4)}, 1, "flat"));
  Planned p = Plan(b, false, true, true);
  EXPECT_FALSE(p.plan.node_is_noop[p.node("flat")]);  // NHWC -> row-major needs a reorder
  ExpectAliasingInvariant(b, RandomFeeds(b, rng));
}

// ---------------------------------------------------------------- in-place elementwise
TEST(MemoryPlanInPlace, ResidualAddWritesOverTheInputThatDies) {
  std::mt19937 rng(3);
  const Shape s = {2, 4, 5, 5};
  for (int later_reads :
       {0, 1, 2}) {  // 0: both die at the Add; 1: `a` read later; 2: both read later
    SCOPED_TRACE(later_reads);
    GraphBuilder b;
    const std::string x = b.Input("x", s);
    auto a = Conv(b, rng, x, 4, 4, 3, false, "conv_a");
    auto c = Conv(b, rng, x, 4, 4, 3, false, "conv_b");
    auto add = b.Op("Add", {a, c}, 1, "add");
    b.Output(b.Op("Relu", {add}));
    if (later_reads >= 1) b.Output(b.Op("Sigmoid", {a}));
    if (later_reads >= 2) b.Output(b.Op("Sigmoid", {c}));
    Planned p = Plan(b, true, true, true);
    ASSERT_EQ(p.g.OpHistogram().count("Add+Relu"), 1u);
    const int sum_buffer = p.out("add").buffer;
    EXPECT_EQ(sum_buffer == p.out("conv_a").buffer, later_reads == 0);
    EXPECT_EQ(sum_buffer == p.out("conv_b").buffer, later_reads == 1);
    Planned off = Plan(b, true, false, true);
    EXPECT_NE(off.out("add").buffer, off.out("conv_a").buffer);
    EXPECT_NE(off.out("add").buffer, off.out("conv_b").buffer);
    ExpectAliasingInvariant(b, RandomFeeds(b, rng));
  }
}

TEST(MemoryPlanInPlace, BroadcastAddNeverWritesOverTheSmallOperand) {
  std::mt19937 rng(4);
  GraphBuilder b;
  const std::string x = b.Input("x", {2, 4, 5, 5});
  auto pooled = b.Op("GlobalAveragePool", {Conv(b, rng, x, 4, 4, 1, false, "conv")}, 1, "gap");
  b.Output(
      b.Op("Mul", {b.Op("Sigmoid", {pooled}), Conv(b, rng, x, 4, 4, 1, false, "conv2")}, 1, "mul"));
  Planned p = Plan(b, true, true, true);
  EXPECT_EQ(p.out("mul").buffer, p.out("conv2").buffer);  // over the full-size input
  ExpectAliasingInvariant(b, RandomFeeds(b, rng));
}

// The fused SE tail y = Relu(x * gate + r) (one ChannelScale node) writes over x, or over r when
// x is read later, as the residual Add did; never over the small gate.
TEST(MemoryPlanInPlace, SeChannelScaleWritesOverTheInputThatDies) {
  std::mt19937 rng(7);
  const Shape s = {2, 4, 5, 5};
  for (int later_reads : {0, 1, 2}) {  // 0: x and r die at the node; 1: x read later; 2: both
    SCOPED_TRACE(later_reads);
    GraphBuilder b;
    const std::string in = b.Input("in", s);
    auto x = Conv(b, rng, in, 4, 4, 3, false, "conv_x");
    auto r = Conv(b, rng, in, 4, 4, 1, false, "conv_r");
    auto gate = b.Op("Sigmoid", {b.Op("GlobalAveragePool", {x})}, 1, "gate");
    b.Output(b.Op("Relu", {b.Op("Add", {b.Op("Mul", {x, gate}), r}, 1, "add")}));
    if (later_reads >= 1) b.Output(b.Op("Sigmoid", {x}));
    if (later_reads >= 2) b.Output(b.Op("Sigmoid", {r}));
    Planned p = Plan(b, true, true, true);
    ASSERT_EQ(p.g.OpHistogram().count("ChannelScale+Add+Relu"), 1u);
    const int y = p.out("add").buffer;
    EXPECT_EQ(y == p.out("conv_x").buffer, later_reads == 0);
    EXPECT_EQ(y == p.out("conv_r").buffer, later_reads == 1);
    EXPECT_NE(y, p.out("gate").buffer);
    ExpectAliasingInvariant(b, RandomFeeds(b, rng));
  }
}

// PlanMemory step 3 (runtime/plan/memory_plan.cc): an in-place op with strided input/output (Relu,
// BN) may write over a dying channel slice of a Concat buffer, so that its output has
// pixel_stride > C, only if every reader of that output accepts strided input (kCapStridedInput).
// Otherwise a reader such as this Add would read the strided output as dense NHWC: wrong numbers.
TEST(MemoryPlanInPlace, StridedInPlaceOutputIsReadOnlyByStridedReaders) {
  std::mt19937 rng(5);
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 2, 4, 4});
  auto a = Conv(b, rng, x, 2, 3, 3, false, "conv_a");
  auto cat = b.Op("Concat", {a, Conv(b, rng, x, 2, 2)}, 1, "cat").Int("axis", 1);
  b.Output(b.Op("GlobalAveragePool", {cat}));
  auto r = b.Op("Relu", {a}, 1, "relu");  // runs after the concat; `a` dies here
  b.Output(b.Op("Add", {r, Conv(b, rng, x, 2, 3)}));
  Planned p = Plan(b, true, true, true);
  const ValuePlacement& rp = p.out("relu");
  if (rp.pixel_stride != 3) {
    const auto consumers = p.g.Consumers();
    for (int reader : consumers[p.g.nodes[p.node("relu")].outputs[0]])
      EXPECT_TRUE(CapsOf(p.g, p.g.nodes[reader]) & kCapStridedInput)
          << p.g.nodes[reader].Describe();
  }
  ExpectAliasingInvariant(b, RandomFeeds(b, rng));
}

// ---------------------------------------------------------------- concat in place
TEST(MemoryPlanConcat, FireModuleExpandConvsWriteStridedSlices) {
  std::mt19937 rng(6);
  GraphBuilder b;
  auto squeeze = b.Op("Relu", {Conv(b, rng, b.Input("x", {2, 6, 5, 5}), 6, 3, 1)});
  auto e1 = b.Op("Relu", {Conv(b, rng, squeeze, 3, 4, 1, false, "expand1x1")});
  auto e3 = b.Op("Relu", {Conv(b, rng, squeeze, 3, 5, 3, false, "expand3x3")});
  b.Output(b.Op("MaxPool", {b.Op("Concat", {e1, e3}, 1, "cat").Int("axis", 1)})
               .Ints("kernel_shape", {2, 2}));
  Planned p = Plan(b, true, true, true);
  const int cat = p.node("cat");
  EXPECT_TRUE(p.plan.node_is_noop[cat]);
  EXPECT_EQ(p.plan.concat_input_in_place[cat], (std::vector<bool>{true, true}));
  EXPECT_EQ(p.out("expand1x1").buffer, p.out("cat").buffer);
  EXPECT_EQ(p.out("expand3x3").buffer, p.out("cat").buffer);
  EXPECT_EQ(p.out("expand1x1").element_offset, p.out("cat").element_offset);
  EXPECT_EQ(p.out("expand3x3").element_offset, p.out("cat").element_offset + 4);
  for (const char* n : {"expand1x1", "expand3x3", "cat"}) EXPECT_EQ(p.out(n).pixel_stride, 9) << n;
  EXPECT_EQ(p.plan.report.concats_in_place, 1);
  EXPECT_EQ(p.plan.report.concats_copied, 0);
  EXPECT_EQ(p.plan.report.bytes_copied_per_run, 0);
  Planned off = Plan(b, true, true, false);
  EXPECT_FALSE(off.plan.node_is_noop[off.node("cat")]);
  EXPECT_NE(off.out("expand1x1").buffer, off.out("cat").buffer);
  EXPECT_EQ(off.out("expand1x1").pixel_stride, 4);
  EXPECT_EQ(off.plan.report.concats_copied, 1);
  EXPECT_EQ(off.plan.report.bytes_copied_per_run, 2 * 9 * 25 * 4);
  ExpectAliasingInvariant(b, RandomFeeds(b, rng));
}

TEST(MemoryPlanConcat, DenseNetNestedConcatsShareOneBuffer) {
  std::mt19937 rng(7);
  GraphBuilder b;
  auto x0 = Conv(b, rng, b.Input("x", {2, 3, 4, 4}), 3, 4, 3, false, "stem");
  auto y1 = Conv(b, rng, b.Op("Relu", {x0}), 4, 2, 3, false, "layer1");
  auto c1 = b.Op("Concat", {x0, y1}, 1, "cat1").Int("axis", 1);
  auto y2 = Conv(b, rng, b.Op("Relu", {c1}), 6, 3, 3, false, "layer2");
  auto c2 = b.Op("Concat", {c1, y2}, 1, "cat2").Int("axis", 1);
  b.Output(b.Op("GlobalAveragePool", {c2}));
  Planned p = Plan(b, false, true, true);
  const int buffer = p.out("cat2").buffer;
  const int64_t base = p.out("cat2").element_offset;
  const std::vector<std::pair<const char*, int64_t>> slices = {
      {"stem", 0}, {"layer1", 4}, {"cat1", 0}, {"layer2", 6}, {"cat2", 0}};
  for (const auto& [name, offset] : slices) {
    SCOPED_TRACE(name);
    EXPECT_EQ(p.out(name).buffer, buffer);
    EXPECT_EQ(p.out(name).element_offset, base + offset);
    EXPECT_EQ(p.out(name).pixel_stride, 9);
  }
  EXPECT_TRUE(p.plan.node_is_noop[p.node("cat1")]);
  EXPECT_TRUE(p.plan.node_is_noop[p.node("cat2")]);
  EXPECT_EQ(p.plan.report.concats_in_place, 2);
  EXPECT_EQ(p.plan.report.bytes_copied_per_run, 0);
  ExpectAliasingInvariant(b, RandomFeeds(b, rng));
}

TEST(MemoryPlanConcat, GraphInputOperandFallsBackToACopy) {
  std::mt19937 rng(8);
  GraphBuilder b;
  const std::string x = b.Input("x", {2, 3, 4, 5});
  b.Output(b.Op("Concat", {x, Conv(b, rng, x, 3, 2, 3, false, "conv")}, 1, "cat").Int("axis", 1));
  Planned p = Plan(b, true, true, true);
  const int cat = p.node("cat");
  EXPECT_FALSE(p.plan.node_is_noop[cat]);
  EXPECT_EQ(p.plan.concat_input_in_place[cat], (std::vector<bool>{false, true}));
  EXPECT_EQ(p.out("conv").buffer, p.out("cat").buffer);
  EXPECT_EQ(p.plan.report.concats_copied, 1);
  EXPECT_EQ(p.plan.report.concats_in_place, 0);
  EXPECT_EQ(p.plan.report.bytes_copied_per_run, 2 * 3 * 4 * 5 * 4);
  auto s = LoadSession(b);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->report().memory.concats_copied, 1);
  EXPECT_EQ((*s)->report().memory.bytes_copied_per_run, 2 * 3 * 4 * 5 * 4);
  ExpectAliasingInvariant(b, RandomFeeds(b, rng));
}

TEST(MemoryPlanConcat, SameValueTwiceIsCopiedOnce) {
  std::mt19937 rng(9);
  GraphBuilder b;
  auto a = Conv(b, rng, b.Input("x", {1, 2, 3, 3}), 2, 3, 3, false, "conv");
  b.Output(b.Op("Concat", {a, a}, 1, "cat").Int("axis", 1));
  Planned p = Plan(b, true, true, true);
  EXPECT_FALSE(p.plan.node_is_noop[p.node("cat")]);
  ExpectAliasingInvariant(b, RandomFeeds(b, rng));
}

// Each op reads a channel slice of one Concat buffer and writes a slice of another, where its
// capabilities allow (and copies where not); outputs equal the dense (no aliasing) run bitwise.
TEST(MemoryPlanConcat, EveryOpReadsAndWritesChannelSlices) {
  using Make = std::function<std::string(GraphBuilder&, const std::string&)>;
  auto unary = [](const char* op) -> Make {
    return [op](GraphBuilder& b, const std::string& a) { return b.Op(op, {a}); };
  };
  auto pool = [](const char* op, int cip) -> Make {
    return [=](GraphBuilder& b, const std::string& a) {
      auto n = b.Op(op, {a}).Ints("kernel_shape", {3, 3}).Ints("pads", {1, 1, 1, 1});
      if (cip >= 0) n.Int("count_include_pad", cip);
      return n.out();
    };
  };
  const std::vector<std::pair<std::string, Make>> cases = {
      {"Relu", unary("Relu")},
      {"Sigmoid", unary("Sigmoid")},
      {"Tanh", unary("Tanh")},
      {"HardSwish", unary("HardSwish")},
      {"LeakyRelu", unary("LeakyRelu")},
      {"Exp", unary("Exp")},
      {"GlobalAveragePool", unary("GlobalAveragePool")},
      {"GlobalMaxPool", unary("GlobalMaxPool")},
      {"MaxPool", pool("MaxPool", -1)},
      {"AveragePool", pool("AveragePool", 0)},
      {"AveragePool/cip", pool("AveragePool", 1)},
      {"Clip",
       [](GraphBuilder& b, const std::string& a) {
         return b.Op("Clip", {a, b.Init("lo", {}, {0.1f}), b.Init("hi", {}, {0.6f})}).out();
       }},
      {"LRN",
       [](GraphBuilder& b, const std::string& a) { return b.Op("LRN", {a}).Int("size", 3).out(); }},
      {"Softmax", [](GraphBuilder& b,
                     const std::string& a) { return b.Op("Softmax", {a}).Int("axis", 1).out(); }},
      {"Transpose",
       [](GraphBuilder& b, const std::string& a) {
         return b.Op("Transpose", {a}).Ints("perm", {0, 1, 3, 2}).out();
       }},
      {"Conv",
       [](GraphBuilder& b, const std::string& a) {
         std::mt19937 r(1);
         return Conv(b, r, a, 3, 4);
       }},
      {"BatchNormalization",
       [](GraphBuilder& b, const std::string& a) {
         std::mt19937 r(2);
         return b
             .Op("BatchNormalization", {a, b.Weight("s", {3}, r), b.Weight("t", {3}, r),
                                        b.Weight("m", {3}, r), b.Weight("v", {3}, r, 0.5f, 2.f)})
             .out();
       }},
      {"Mul",
       [](GraphBuilder& b, const std::string& a) {
         std::mt19937 r(3);
         return b.Op("Mul", {a, b.Weight("k", {3, 1, 1}, r)}).out();
       }},
      {"ChannelScale (SE gate times a, plus a)",
       [](GraphBuilder& b, const std::string& a) {
         auto gate = b.Op("Sigmoid", {b.Op("GlobalAveragePool", {a})});
         return b.Op("Add", {b.Op("Mul", {a, gate}), a}).out();
       }},
  };
  for (const auto& [name, make] : cases) {
    SCOPED_TRACE(name);
    std::mt19937 rng(10);
    GraphBuilder b;
    auto a = b.Op("Relu", {b.Input("x", {2, 3, 5, 5})}, 1, "a");
    b.Output(b.Op("Concat", {a, b.Op("Sigmoid", {b.Input("x2", {2, 2, 5, 5})})}).Int("axis", 1));
    const std::string z = make(b, a);
    b.Output(b.Op("Concat", {b.Op("Neg", {z}), z}).Int("axis", 1));
    Planned p = Plan(b, true, true, true);
    const ir::Node& op = p.g.nodes[p.g.value(ValueId(p.g, z)).producer];
    const uint32_t caps = CapsOf(p.g, op);
    if (caps & kCapStridedInput) EXPECT_EQ(p.out("a").pixel_stride, 5);
    if (caps & kCapStridedOutput)
      EXPECT_EQ(p.at(z).pixel_stride, 2 * p.g.value(ValueId(p.g, z)).shape[1]);
    ExpectAliasingInvariant(b, RandomFeeds(b, rng));
  }
}

// ---------------------------------------------------------------- random DAGs
// A random CNN-like DAG at one spatial size: convs (with BN/Relu), relus, residual adds, channel
// concats (nested, repeated operands), pools, BN, SE-style gating; several values are outputs.
GraphBuilder RandomDag(uint32_t seed) {
  std::mt19937 rng(seed);
  GraphBuilder b;
  const int64_t N = RandomInt(rng, 1, 2), H = RandomInt(rng, 2, 7), W = RandomInt(rng, 2, 7);
  const int64_t C = RandomInt(rng, 1, 5);
  std::vector<std::pair<std::string, int64_t>> vals = {{b.Input("x", {N, C, H, W}), C}};
  auto pick = [&]() -> std::pair<std::string, int64_t> {  // biased towards recent values
    const int64_t back =
        std::min<int64_t>(vals.size() - 1, std::geometric_distribution<int64_t>(0.4)(rng));
    return vals[vals.size() - 1 - back];
  };
  const int steps = RandomInt(rng, 5, 16);
  for (int s = 0; s < steps; ++s) {
    auto [v, c] = pick();
    const int kind = RandomInt(rng, 0, 8);
    if (kind <= 1) {
      const int64_t m = RandomInt(rng, 1, 8);
      std::string y = Conv(b, rng, v, c, m, RandomInt(rng, 0, 1) * 2 + 1);
      if (RandomInt(rng, 0, 1)) {
        const std::string k = absl::StrCat("bn", s);
        y = b.Op("BatchNormalization",
                 {y, b.Weight(k + "s", {m}, rng), b.Weight(k + "t", {m}, rng),
                  b.Weight(k + "m", {m}, rng), b.Weight(k + "v", {m}, rng, 0.5f, 2.f)});
      }
      if (RandomInt(rng, 0, 1)) y = b.Op("Relu", {y});
      vals.push_back({y, m});
    } else if (kind == 2) {
      vals.push_back({b.Op("Relu", {v}), c});
    } else if (kind == 3) {
      std::vector<std::string> same;
      for (const auto& [u, cu] : vals)
        if (cu == c) same.push_back(u);
      std::string other = same[RandomInt(rng, 0, same.size() - 1)];
      if (other == v && RandomInt(rng, 0, 1)) {
        auto [u, cu] = pick();
        other = Conv(b, rng, u, cu, c, 1);
      }
      std::string y = b.Op(RandomInt(rng, 0, 3) ? "Add" : "Mul", {v, other});
      if (RandomInt(rng, 0, 1)) y = b.Op("Relu", {y});
      vals.push_back({y, c});
    } else if (kind == 4 || kind == 5) {
      std::vector<std::string> ins = {v};
      int64_t total = c;
      for (int k = RandomInt(rng, 1, 3); k > 0; --k) {
        auto [u, cu] = pick();
        ins.push_back(u);
        total += cu;
      }
      vals.push_back({b.Op("Concat", ins).Int("axis", 1), total});
    } else if (kind == 6) {
      vals.push_back({b.Op(RandomInt(rng, 0, 1) ? "MaxPool" : "AveragePool", {v})
                          .Ints("kernel_shape", {3, 3})
                          .Ints("pads", {1, 1, 1, 1}),
                      c});
    } else if (kind == 7) {
      vals.push_back({b.Op("Mul", {v, b.Op("Sigmoid", {b.Op("GlobalAveragePool", {v})})}), c});
    } else {
      const std::string k = absl::StrCat("bn", s);
      vals.push_back({b.Op("BatchNormalization",
                           {v, b.Weight(k + "s", {c}, rng), b.Weight(k + "t", {c}, rng),
                            b.Weight(k + "m", {c}, rng), b.Weight(k + "v", {c}, rng, 0.5f, 2.f)}),
                      c});
    }
  }
  b.Output(vals.back().first);
  for (int k = RandomInt(rng, 0, 2); k > 0; --k) {  // a few intermediates are outputs too
    const std::string& v = vals[RandomInt(rng, 1, vals.size() - 1)].first;
    bool dup = false;
    for (const auto& o : b.model().graph().output()) dup |= o.name() == v;
    if (!dup) b.Output(v);
  }
  return b;
}

TEST(MemoryPlanRandom, NoOverlapInvariantOnRandomDags) {
  for (uint32_t seed = 0; seed < 300; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    const GraphBuilder b = RandomDag(seed);
    for (bool optimize : {true, false})
      for (bool in_place : {true, false})
        for (bool concat : {true, false}) {
          Planned p = Plan(b, optimize, in_place, concat);
          if (HasFailure()) return;
          EXPECT_TRUE(VerifyArenaPlan(p.plan.buffers, p.plan.arena).ok());
          EXPECT_GE(p.plan.report.arena_bytes, p.plan.report.lower_bound_bytes);
          // Every run-time value lies inside its buffer (a slice: offset + channels <= stride).
          for (size_t v = 0; v < p.g.values.size(); ++v) {
            const ValuePlacement& vp = p.plan.values[v];
            if (vp.buffer < 0) continue;
            const ir::Value& val = p.g.value(v);
            const int64_t channels =
                op_util::IsNhwc(val) ? val.shape[1] : (val.shape.empty() ? 1 : val.shape.back());
            const int64_t rows = ir::NumElements(val.shape) / std::max<int64_t>(channels, 1);
            const int64_t end =
                vp.element_offset + (rows > 0 ? (rows - 1) * vp.pixel_stride + channels : 0);
            EXPECT_LE(end * 4, p.plan.buffers[vp.buffer].size) << val.name;
            EXPECT_LE(channels, vp.pixel_stride) << val.name;
          }
        }
  }
}

// Seed 283 reproduces the strided in-place bug fixed in memory_plan.cc step 3.
TEST(MemoryPlanRandom, AliasingOnAndOffGiveBitwiseEqualOutputs) {
  for (uint32_t seed = 0; seed < 300; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    const GraphBuilder b = RandomDag(seed);
    std::mt19937 rng(seed + 1000);
    ExpectAliasingInvariant(b, RandomFeeds(b, rng));
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace onnxrun::test
