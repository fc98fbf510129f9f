// ONNX file -> IR. Validates the container (protobuf, IR version, opset imports, names,
// initializers, external data); per-op attribute validation happens in the ops' shape inference.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "runtime/ir/graph.h"

namespace onnxrun {

// Lowest and highest default-domain opset the runtime accepts (docs/OPSETS.md: what each op's
// versions 18-21 changed and what of it is refused).
inline constexpr int64_t kMinOpset = 1;
inline constexpr int64_t kMaxOpset = 21;

absl::StatusOr<ir::Graph> LoadOnnxModel(const std::string& path);
// The same from a serialized ModelProto in memory; `name` stands for the file in messages.
// External data is refused (no folder to resolve it in).
absl::StatusOr<ir::Graph> LoadOnnxModelFromMemory(const void* data, size_t size,
                                                  const std::string& name = "<model in memory>");

}  // namespace onnxrun
