// onnx.TensorProto <-> onnxrun::Tensor.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "onnx/onnx_pb.h"
#include "runtime/ir/tensor.h"

namespace onnxrun {

ir::DataType FromOnnxType(int32_t onnx_type);

// Converts a TensorProto. `base_dir` resolves external data (data_location = EXTERNAL, files beside
// the model). `what` names the tensor in errors (e.g. "initializer 'conv1.weight'"). When `consume`
// is true the proto's payload is released as soon as it has been copied (keeps peak memory low).
absl::StatusOr<ir::Tensor> TensorFromProto(onnx::TensorProto* proto, const std::string& base_dir,
                                           const std::string& what, bool consume);

}  // namespace onnxrun
