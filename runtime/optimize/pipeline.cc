// The optimizer's ordered pass list.
#include "absl/strings/str_cat.h"
#include "runtime/ir/status.h"
#include "runtime/optimize/pass.h"

namespace onnxrun {

const std::vector<Pass>& OptimizerPasses() {
  static const std::vector<Pass> passes = {
      {"eliminate_identity", EliminateIdentities}, {"fuse_pad", FusePadIntoWindow},
      {"fuse_conv_bn", FoldBatchNormIntoConv},     {"fold_residual_add", FoldResidualAdd},
      {"fuse_channel_scale", FuseChannelScale},    {"fuse_activation", FuseActivation},
      {"fuse_preactivation", FusePreactivation},   {"eliminate_dead", EliminateDeadNodes},
  };
  return passes;
}

absl::Status Optimize(ir::Graph& g, std::vector<PassCount>* reports) {
  for (const Pass& p : OptimizerPasses()) {
    ASSIGN_OR_RETURN(int n, p.run(g));
    if (reports) reports->push_back({p.name, n});
    absl::Status s = g.Verify();
    if (!s.ok()) return absl::InternalError(absl::StrCat("after pass ", p.name, ": ", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace onnxrun
