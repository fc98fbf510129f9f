#include "runtime/optimize/rewriter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ops/op.h"
#include "runtime/ir/status.h"

namespace onnxrun {

Rewriter::Rewriter(ir::Graph& g) : g_(g), uses_(g.Consumers()) {}

int Rewriter::SoleConsumer(int v) const {
  if (g_.value(v).graph_output || uses_[v].size() != 1) return -1;
  const ir::Node& c = g_.nodes[uses_[v][0]];
  return std::count(c.inputs.begin(), c.inputs.end(), v) == 1 ? uses_[v][0] : -1;
}

const ir::Tensor* ConstInput(const ir::Graph& g, const ir::Node& n, size_t i) {
  if (i >= n.inputs.size() || n.inputs[i] < 0) return nullptr;
  const auto& v = g.value(n.inputs[i]);
  if (!v.is_constant() || v.constant->dtype() != ir::DataType::kFloat32) return nullptr;
  return v.constant.get();
}

bool Rewriter::UsesConsistent() const { return uses_ == g_.Consumers(); }

// Use lists stay sorted by node index, as Graph::Consumers() builds them.
void Rewriter::AddUse(int v, int node) {
  if (v < 0) return;
  auto& u = uses_[v];
  auto it = std::lower_bound(u.begin(), u.end(), node);
  if (it == u.end() || *it != node) u.insert(it, node);
}

void Rewriter::DropUse(int v, int node) {
  if (v < 0) return;
  const ir::Node& n = g_.nodes[node];
  if (std::count(n.inputs.begin(), n.inputs.end(), v) > 0) return;  // still read elsewhere
  auto& u = uses_[v];
  auto it = std::lower_bound(u.begin(), u.end(), node);
  if (it != u.end() && *it == node) u.erase(it);
}

void Rewriter::SetInput(int node, size_t i, int v) {
  ir::Node& n = g_.nodes[node];
  if (n.inputs.size() <= i) n.inputs.resize(i + 1, -1);
  const int old = n.inputs[i];
  n.inputs[i] = v;
  DropUse(old, node);
  AddUse(v, node);
  changed_.push_back(node);
}

void Rewriter::SetInputs(int node, std::vector<int> inputs) {
  ir::Node& n = g_.nodes[node];
  std::vector<int> old = std::move(n.inputs);
  n.inputs = std::move(inputs);
  for (int v : old) DropUse(v, node);
  for (int v : n.inputs) AddUse(v, node);
  changed_.push_back(node);
}

void Rewriter::SetAttr(int node, const std::string& name, ir::Attribute a) {
  g_.nodes[node].attrs[name] = std::move(a);
  changed_.push_back(node);
}

absl::Status Rewriter::Reinfer() {
  std::sort(changed_.begin(), changed_.end());
  changed_.erase(std::unique(changed_.begin(), changed_.end()), changed_.end());
  const std::vector<int> nodes = std::move(changed_);
  changed_.clear();
  for (int i : nodes) {
    ir::Node& n = g_.nodes[i];
    if (n.removed) continue;
    const OpDef* def = FindOp(n.domain, n.op);
    if (!def) return absl::InternalError(n.Describe() + ": op unknown after a rewrite");
    n.params.reset();
    RETURN_IF_ERROR(def->infer(g_, n));
  }
  return absl::OkStatus();
}

void Rewriter::ReplaceUses(int from, int to) {
  const std::vector<int> readers = uses_[from];
  for (int r : readers)
    for (int& v : g_.nodes[r].inputs)
      if (v == from) v = to;
  uses_[from].clear();
  for (int r : readers) AddUse(to, r);
  for (int& v : g_.outputs)
    if (v == from) v = to;
}

void Rewriter::TakeOverOutput(int producer, int v) {
  ir::Node& p = g_.nodes[producer];
  g_.value(p.outputs[0]).producer = -1;
  p.outputs[0] = v;
  g_.value(v).producer = producer;
}

void Rewriter::Remove(int node) {
  ir::Node& n = g_.nodes[node];
  n.removed = true;
  for (int v : n.inputs) {
    if (v < 0) continue;
    auto& u = uses_[v];
    auto it = std::lower_bound(u.begin(), u.end(), node);
    if (it != u.end() && *it == node) u.erase(it);
  }
}

int Rewriter::AddConstant(const std::string& stem, ir::Tensor t) {
  const int id = g_.AddConstant(g_.UniqueName(stem), std::move(t));
  uses_.resize(g_.values.size());
  return id;
}

absl::StatusOr<int> RunRule(ir::Graph& g, const char* pass, Rule& rule,
                            std::vector<RewriteTrace>* trace, const DriverOptions& options) {
  Rewriter rw(g);
  int rewrites = 0;
  // Every rewrite removes a node or absorbs one into another; a rule that keeps matching beyond
  // this is a bug, reported instead of looping.
  const int limit = 8 * static_cast<int>(g.nodes.size()) + 64;
  for (bool changed = true; changed;) {
    changed = false;
    const int count = static_cast<int>(g.nodes.size());
    for (int k = 0; k < count; ++k) {
      const int i = rule.reverse() ? count - 1 - k : k;
      while (!g.nodes[i].removed && rule.Match(rw, i)) {
        const std::string name = g.nodes[i].name;
        auto what = rule.Apply(rw, i);
        if (what.ok()) {
          if (absl::Status s = rw.Reinfer(); !s.ok()) what = s;
        }
        if (!what.ok())
          return absl::Status(what.status().code(), absl::StrCat(pass, " at node '", name,
                                                                 "': ", what.status().message()));
        if (trace) trace->push_back({pass, name, *std::move(what)});
        changed = true;
        if (++rewrites > limit)
          return absl::InternalError(absl::StrCat(pass, " does not reach a fixed point"));
        if (options.verify_each_rewrite) {
          absl::Status s = g.Verify();
          if (s.ok() && !rw.UsesConsistent())
            s = absl::InternalError("the use index differs from the graph");
          if (!s.ok())
            return absl::InternalError(
                absl::StrCat("after ", pass, " at node '", name, "': ", s.message()));
        }
      }
    }
  }
  g.Compact();
  return rewrites;
}

}  // namespace onnxrun
