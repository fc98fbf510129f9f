// The rewrite driver: its use index stays equal to one rebuilt from scratch through every
// mutation, rules run to a fixed point, a rule that never stops is reported, every rewrite leaves
// a trace line.
#include "runtime/optimize/rewriter.h"

#include <gtest/gtest.h>

#include <random>

#include "runtime/optimize/pass.h"
#include "tests/unit/optimize/pass_test_util.h"
#include "tests/unit/support/graph_builder.h"

namespace onnxrun::test {
namespace {

using Shape = std::vector<int64_t>;

// x -> Relu(a) -> Relu(b) -> Relu(c) -> Relu(d) -> output; Add(a, b) as a second output.
GraphBuilder Chain() {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 2, 3, 3});
  const std::string a = b.Op("Relu", {x}, 1, "a");
  const std::string r = b.Op("Relu", {a}, 1, "b");
  const std::string c = b.Op("Relu", {r}, 1, "c");
  b.Output(b.Op("Relu", {c}, 1, "d"));
  b.Output(b.Op("Add", {a, r}, 1, "add"));
  return b;
}

TEST(Rewriter, UseIndexFollowsEveryMutation) {
  ir::Graph g = Prepared(Chain());
  Rewriter rw(g);
  ASSERT_TRUE(rw.UsesConsistent());
  const int a = NodeIndex(g, "a"), b = NodeIndex(g, "b"), c = NodeIndex(g, "c");
  const int add = NodeIndex(g, "add");
  const int va = g.nodes[a].outputs[0], vb = g.nodes[b].outputs[0];
  EXPECT_EQ(rw.Uses(va), (std::vector<int>{b, add}));
  EXPECT_EQ(rw.SoleConsumer(va), -1);
  EXPECT_EQ(rw.SoleConsumer(g.nodes[c].outputs[0]), NodeIndex(g, "d"));

  rw.SetInput(add, 1, va);  // Add(a, a): one use, read twice
  EXPECT_TRUE(rw.UsesConsistent());
  EXPECT_EQ(rw.Uses(vb), (std::vector<int>{c}));
  rw.SetInput(add, 0, vb);  // Add(b, a)
  EXPECT_TRUE(rw.UsesConsistent());
  rw.ReplaceUses(vb, va);  // c and add read a
  EXPECT_TRUE(rw.UsesConsistent());
  EXPECT_TRUE(rw.Uses(vb).empty());
  rw.Remove(b);
  EXPECT_TRUE(rw.UsesConsistent());
  rw.TakeOverOutput(a, vb);  // a writes b's old value; readers of a's value are unchanged
  EXPECT_TRUE(rw.UsesConsistent());
  const int k = rw.AddConstant("k", ir::Tensor({1}, {1.f}));
  rw.SetInputs(add, {k, va});
  EXPECT_TRUE(rw.UsesConsistent());
  EXPECT_EQ(rw.Uses(k), (std::vector<int>{add}));
}

// Removes a Relu whose input is a Relu's output (Relu is idempotent): a chain of four goes to one.
class CollapseRelu : public Rule {
 public:
  bool Match(const Rewriter& rw, int i) override {
    const ir::Node& n = rw.node(i);
    if (n.op != "Relu") return false;
    const int p = rw.value(n.inputs[0]).producer;
    return p >= 0 && rw.node(p).op == "Relu" && !rw.node(p).removed;
  }
  absl::StatusOr<std::string> Apply(Rewriter& rw, int i) override {
    rw.ReplaceUses(rw.node(i).outputs[0], rw.node(i).inputs[0]);
    rw.Remove(i);
    return std::string("collapsed");
  }
};

TEST(Rewriter, RunsToAFixedPointAndTracesEachRewrite) {
  GraphBuilder b;
  std::string v = b.Input("x", {1, 2, 3, 3});
  for (const char* name : {"r1", "r2", "r3", "r4"}) v = b.Op("Relu", {v}, 1, name);
  b.Output(b.Op("Sigmoid", {v}, 1, "s"));
  ir::Graph g = Prepared(b);
  CollapseRelu rule;
  std::vector<RewriteTrace> trace;
  DriverOptions verify;
  verify.verify_each_rewrite = true;
  auto n = RunRule(g, "collapse_relu", rule, &trace, verify);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 3);
  EXPECT_EQ(g.OpHistogram(), (std::map<std::string, int>{{"Relu", 1}, {"Sigmoid", 1}}));
  ASSERT_EQ(trace.size(), 3u);
  EXPECT_EQ(trace[0].pass, "collapse_relu");
  EXPECT_EQ(trace[0].node, "r2");
  EXPECT_EQ(trace[0].what, "collapsed");
  EXPECT_TRUE(g.Verify().ok());
}

// Matches every node forever (Apply changes nothing).
class NeverDone : public Rule {
 public:
  bool Match(const Rewriter&, int) override { return true; }
  absl::StatusOr<std::string> Apply(Rewriter&, int) override { return std::string(); }
};

TEST(Rewriter, ARuleThatNeverStopsIsAnError) {
  ir::Graph g = Prepared(Chain());
  NeverDone rule;
  auto n = RunRule(g, "never_done", rule, nullptr);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(n.status().message().find("fixed point"), std::string::npos);
}

// A rewrite that breaks the graph is caught right after it, naming pass and node.
class BreaksTheGraph : public Rule {
 public:
  bool Match(const Rewriter& rw, int i) override { return rw.node(i).name == "b"; }
  absl::StatusOr<std::string> Apply(Rewriter& rw, int i) override {
    rw.Remove(i);  // its readers still read its output
    return std::string("removed");
  }
};

TEST(Rewriter, VerifiesAfterEachRewriteWhenAsked) {
  ir::Graph g = Prepared(Chain());
  BreaksTheGraph rule;
  DriverOptions verify;
  verify.verify_each_rewrite = true;
  auto n = RunRule(g, "breaks", rule, nullptr, verify);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("after breaks at node 'b'"), std::string::npos) << n.status();
}

// The session reports every rewrite of the pipeline, in order.
TEST(Rewriter, SessionReportsTheTrace) {
  std::mt19937 rng(5);
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 4, 6, 6});
  const std::string c =
      b.Op("Conv", {x, b.Weight("w", {4, 4, 1, 1}, rng)}, 1, "conv").Ints("pads", {0, 0, 0, 0});
  b.Output(b.Op("Relu", {c}, 1, "relu"));
  auto s = LoadSession(b, {});
  ASSERT_TRUE(s.ok()) << s.status();
  const auto& rewrites = (*s)->report().rewrites;
  ASSERT_EQ(rewrites.size(), 2u);
  EXPECT_EQ(rewrites[0].pass, "select_kernels");
  EXPECT_EQ(rewrites[0].node, "conv");
  EXPECT_EQ(rewrites[1].pass, "fuse_activation");
  EXPECT_EQ(rewrites[1].node, "conv");
  EXPECT_NE(rewrites[1].what.find("Relu"), std::string::npos);
}

}  // namespace
}  // namespace onnxrun::test
