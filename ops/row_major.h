// Adapter for ops computed on row-major (ONNX-layout) buffers: rank-4 run-time operands live in
// NHWC inside the runtime, so they are converted to NCHW copies in the node's workspace before the
// body and back after. Ops lowering through it declare RowMajorWorkspace as OpDef::workspace (or
// return it from theirs when they take this path).
#pragma once

#include <functional>

#include "ops/op.h"

namespace onnxrun {

// Body: gets row-major input pointers (constants point at their data) and output pointers.
using RowMajorBody = std::function<absl::StatusOr<std::unique_ptr<Kernel>>(
    const std::vector<const float*>& in, const std::vector<float*>& out)>;

// Workspace bytes LowerRowMajor needs for the node (an OpDef::workspace).
int64_t RowMajorWorkspace(const ir::Graph& g, const ir::Node& n, int threads);

absl::StatusOr<std::unique_ptr<Kernel>> LowerRowMajor(const LowerContext& ctx,
                                                      const RowMajorBody& body);

}  // namespace onnxrun
