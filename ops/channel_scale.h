// ChannelScale, an op of the runtime's own domain (kInternalDomain) that only the optimizer
// creates:
//   y = clamp(x * s + r)   x, r: [N, C, H, W];  s: [N, C, 1, 1], [1, C, 1, 1] or [C, 1, 1]
// An SE block's gate times the block's output plus the residual (runtime/optimize/
// fuse_channel_scale.cc), one pass over memory; `r` is optional.
#pragma once

#include "ops/op.h"

namespace onnxrun {

// True when `s` multiplies `x` (rank 4) per image and channel, numpy-broadcast over H and W.
bool ScalesPerChannel(const ir::Shape& x, const ir::Shape& s);

}  // namespace onnxrun
