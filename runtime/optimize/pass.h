// Optimizer passes. Each pass rewrites the graph in place and returns how many rewrites it made.
// A pass is a side-effect-free match (guards below) followed by a rewrite.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/ir/graph.h"

namespace onnxrun {

// Rewrites one pass made (the session reports it as onnxrun::PassCount).
struct PassCount {
  std::string pass;
  int rewrites = 0;
};

struct Pass {
  const char* name;
  absl::StatusOr<int> (*run)(ir::Graph& g);
};

absl::StatusOr<int> EliminateIdentities(ir::Graph& g);    // eliminate_identity.cc
absl::StatusOr<int> FoldBatchNormIntoConv(ir::Graph& g);  // fuse_conv_bn.cc
absl::StatusOr<int> FusePadIntoWindow(ir::Graph& g);      // fuse_pad.cc
absl::StatusOr<int> FoldResidualAdd(ir::Graph& g);        // fold_residual_add.cc
absl::StatusOr<int> FuseChannelScale(ir::Graph& g);       // fuse_channel_scale.cc
absl::StatusOr<int> FuseActivation(ir::Graph& g);         // fuse_activation.cc
absl::StatusOr<int> FusePreactivation(ir::Graph& g);      // fuse_preactivation.cc
absl::StatusOr<int> EliminateDeadNodes(ir::Graph& g);     // eliminate_dead.cc

// The ordered list (pipeline.cc).
const std::vector<Pass>& OptimizerPasses();
// Runs every pass, verifying the graph after each; appends one report per pass.
absl::Status Optimize(ir::Graph& g, std::vector<PassCount>* reports);

namespace guards {
// The single node reading `value`, or -1 when it has zero or several readers or is a graph output.
int SoleConsumer(const ir::Graph& g, const std::vector<std::vector<int>>& consumers, int value);
// Redirects every reader of `from` (and graph outputs) to `to`.
void ReplaceUses(ir::Graph& g, int from, int to);
// Makes node `producer` write `value` instead of its current output 0 (which becomes unused).
void TakeOverOutput(ir::Graph& g, int producer, int value);
// The constant float tensor behind input i, or null.
const ir::Tensor* ConstInput(const ir::Graph& g, const ir::Node& n, size_t i);
}  // namespace guards

}  // namespace onnxrun
