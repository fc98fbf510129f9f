// The rewrite driver: every optimizer pass is a Rule (a side-effect-free Match at one anchor node,
// then Apply) that the driver runs over the graph to a fixed point. The driver owns the use index
// (which live nodes read each value) and keeps it current through its mutation methods, so a pass
// never rebuilds it; it verifies the graph after each rewrite when asked and records one trace line
// per rewrite.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/ir/graph.h"

namespace onnxrun {

// One rewrite, for reports (`onnxrun info --optimized --verbose`).
struct RewriteTrace {
  std::string pass;
  std::string node;  // the anchor node's name as it was matched
  std::string what;
};

// The constant float tensor behind input i of `n`, or null (a guard for match functions).
const ir::Tensor* ConstInput(const ir::Graph& g, const ir::Node& n, size_t i);

class Rewriter {
 public:
  explicit Rewriter(ir::Graph& g);

  const ir::Graph& graph() const { return g_; }
  ir::Graph& graph() { return g_; }
  const ir::Node& node(int i) const { return g_.nodes[i]; }
  ir::Node& node(int i) { return g_.nodes[i]; }
  const ir::Value& value(int v) const { return g_.value(v); }

  // ---- guards: pure queries ----
  // Live nodes reading `v`, each once, in node order.
  const std::vector<int>& Uses(int v) const { return uses_[v]; }
  // The single live node reading `v` (and reading it once), or -1 when it has zero or several
  // readers or `v` is a graph output.
  int SoleConsumer(int v) const;
  // True when the index equals one rebuilt from scratch (tests, debug verification).
  bool UsesConsistent() const;

  // ---- mutations: keep the index current ----
  // SetInput, SetInputs and SetAttr mark the node changed: the driver re-runs its op's infer after
  // the rewrite (Reinfer), so the params parsed from its attributes and inputs follow the change.
  void SetInput(int node, size_t i, int v);
  void SetInputs(int node, std::vector<int> inputs);
  void SetAttr(int node, const std::string& name, ir::Attribute a);
  // Redirects every reader of `from` (and graph outputs) to `to`.
  void ReplaceUses(int from, int to);
  // Makes `producer` write `v` instead of its output 0 (which becomes unused).
  void TakeOverOutput(int producer, int v);
  // Marks a node removed and drops its reads from the index.
  void Remove(int node);
  // A new constant value (not read by anything yet).
  int AddConstant(const std::string& stem, ir::Tensor t);

  // Re-infers every live node changed since the last call (its params replaced by what its op's
  // infer parses now; output shapes set again). Called by the driver after each Apply.
  absl::Status Reinfer();

 private:
  void AddUse(int v, int node);
  void DropUse(int v, int node);

  ir::Graph& g_;
  std::vector<std::vector<int>> uses_;
  std::vector<int> changed_;  // nodes to re-infer
};

// A pass: Match looks at anchor node `i` and decides without changing the graph (it may keep what
// it found in the rule object for Apply); Apply rewrites and says what it did (the trace line).
class Rule {
 public:
  virtual ~Rule() = default;
  virtual bool Match(const Rewriter& rw, int i) = 0;
  virtual absl::StatusOr<std::string> Apply(Rewriter& rw, int i) = 0;
  // Sweep the nodes last to first (dead-code elimination reaches a fixed point in one sweep).
  virtual bool reverse() const { return false; }
};

struct DriverOptions {
  // Verify the graph (and the use index) after every rewrite, not only after every pass. On in
  // debug builds; costs a graph walk per rewrite.
#ifdef NDEBUG
  bool verify_each_rewrite = false;
#else
  bool verify_each_rewrite = true;
#endif
};

// Runs `rule` over every live node, repeating a node while it matches and sweeping again until a
// sweep makes no rewrite; compacts the graph. Returns the number of rewrites; appends one trace
// line per rewrite to `trace` (may be null).
absl::StatusOr<int> RunRule(ir::Graph& g, const char* pass, Rule& rule,
                            std::vector<RewriteTrace>* trace, const DriverOptions& options = {});

}  // namespace onnxrun
