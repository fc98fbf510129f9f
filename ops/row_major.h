// Adapter for ops computed on row-major (ONNX-layout) buffers: rank-4 run-time operands live in
// NHWC inside the runtime, so they are converted to NCHW scratch before the body and back after.
#pragma once

#include <functional>

#include "ops/op.h"

namespace onnxrun {

// Body: gets row-major input pointers (constants point at their data) and output pointers.
using RowMajorBody = std::function<absl::StatusOr<std::unique_ptr<Kernel>>(
    const std::vector<const float*>& in, const std::vector<float*>& out)>;

absl::StatusOr<std::unique_ptr<Kernel>> LowerRowMajor(const LowerContext& ctx,
                                                      const RowMajorBody& body);

}  // namespace onnxrun
